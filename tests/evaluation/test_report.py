"""report.html with and without matplotlib: inline PNG plots, or the line that says how to get them."""
import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from semsynth.evaluation.plots import MISSING
from semsynth.evaluation.report import write_report
from tests.helpers.reports import hand_made_report

ROOT = Path(__file__).resolve().parents[2]
INLINE_PNG = re.compile(r"<img class='plot' src='data:image/png;base64,([A-Za-z0-9+/=]+)'")
GRIDS = {"real photos": "real_photos.png"}


def write(out: Path, block_matplotlib: bool) -> str:
    """Write the report in a fresh interpreter (so blocking matplotlib is real: nothing imported it before)."""
    code = ("import json, sys\n"
            + ("sys.modules['matplotlib'] = None\n" if block_matplotlib else "")
            + "from semsynth.evaluation.report import write_report\n"
            + f"write_report(json.loads(sys.argv[1]), sys.argv[2], {GRIDS!r})\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", code, json.dumps(hand_made_report()), str(out)], check=True, env=env,
                   cwd=ROOT)
    return (out / "report.html").read_text()


def test_html_has_inline_png_plots_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    page = write(tmp_path, block_matplotlib=False)
    pngs = INLINE_PNG.findall(page)
    assert len(pngs) == 5  # scores, per-class IoU, class shares, boundary/isolated, curves (no samples given)
    assert all(base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert MISSING not in page and "src='real_photos.png'" in page
    assert "http" not in page.replace("<!doctype html>", "")  # self-contained: nothing fetched from a network


def test_html_without_matplotlib_says_how_to_get_the_plots(tmp_path):
    page = write(tmp_path, block_matplotlib=True)
    assert INLINE_PNG.findall(page) == [] and "data:image/png" not in page
    assert "plots need matplotlib: pip install &#x27;semsynth[report]&#x27;" in page
    assert "src='real_photos.png'" in page and "<table>" in page  # the rest of the report is all there
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["layout_statistics"]["isolated_fraction"]["generated"] == 0.01  # the numbers do not need plots


def test_the_json_stays_plain_numbers(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # the JSON does not depend on the plots; skip drawing
    write_report(hand_made_report(), tmp_path, GRIDS)
    text = (tmp_path / "report.json").read_text()
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in report.json"))
    assert data["curves"]["layout"]["values"]["G/adv"] == [0.7, 0.6, None]


def test_markdown_table_shows_the_layout_speckle_ratios(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    report = hand_made_report()
    report["rows"][0].update(boundary_ratio=1.25, isolated_ratio=None)  # None: the real maps have no isolated pixel
    write_report(report, tmp_path, GRIDS)
    lines = (tmp_path / "report.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| generated set"))
    layout = next(line for line in lines if line.startswith("| generated layouts"))
    cells = dict(zip(header.strip("|").split(" | "), layout.strip("|").split(" | ")))
    assert cells["boundary ratio"].strip() == "1.250" and cells["isolated ratio"].strip() == "–"
