"""Precision / recall / density / coverage columns of the compare report, with a stand-in for Inception."""
import json
import math

import pytest

from semsynth.cli.main import main
from semsynth.evaluation import protocol
from semsynth.evaluation.metrics import inception as inception_module
from semsynth.evaluation.metrics.prdc import prdc
from tests.helpers.colour_stats import ColourStats

pytestmark = pytest.mark.xdist_group("tiny_runs")
PRDC_KEYS = ("precision", "recall", "density", "coverage")


@pytest.fixture(autouse=True)
def stand_in(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMSYNTH_CACHE", str(tmp_path / "semsynth-cache"))  # never ~/.cache
    monkeypatch.setattr(inception_module, "load_inception", lambda path=None, device="cpu", sha256=None:
                        ColourStats())


@pytest.fixture
def prdc_calls(monkeypatch):
    """Every (real features, fake features, result) compare passes through protocol.prdc."""
    calls = []
    real_prdc = protocol.prdc

    def spy(real_feats, fake_feats, *args, **kwargs):
        calls.append((real_feats, fake_feats, real_prdc(real_feats, fake_feats, *args, **kwargs)))
        return calls[-1][2]
    monkeypatch.setattr(protocol, "prdc", spy)
    return calls


def compare_args(runs, out, n):
    return ["compare", "--data", "synthetic-streets", "--layout", str(runs["layout"]),
            "--sis", str(runs["sis-paired"]), "--sis", str(runs["sis-unpaired"]), "--image", str(runs["image"]),
            "--n", str(n), "--batch", "4", "--out", str(out)]


def test_every_row_has_precision_recall_density_coverage(tiny_runs, tmp_path, prdc_calls):
    assert main(compare_args(tiny_runs, tmp_path, n=5)) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["fid_protocol"]["prdc_k"] == 3
    assert len(prdc_calls) == len(report["rows"]) == 4
    layout_real, photo_real = prdc_calls[0][0], prdc_calls[1][0]
    assert layout_real.shape == photo_real.shape and not (layout_real == photo_real).all()  # layouts vs layouts
    for row, (real_feats, fake_feats, result) in zip(report["rows"], prdc_calls):
        assert (real_feats is layout_real) == (row["against"] == "real layouts"), row["name"]
        assert result["k"] == 3 and result["n_real"] == result["n_fake"] == 5
        assert {key: row[key] for key in PRDC_KEYS} == prdc(real_feats, fake_feats, k=3), row["name"]
        for key in ("precision", "recall", "coverage"):
            assert 0 <= row[key] <= 1, (row["name"], key)
        assert math.isfinite(row["density"]) and row["density"] >= 0
    md = (tmp_path / "report.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| generated set"))
    assert all(name in header for name in ("precision", "recall", "density", "coverage"))
    assert f"| {report['rows'][0]['precision']:.3f} | {report['rows'][0]['recall']:.3f} |" in md
    assert "coverage ↑</th>" in (tmp_path / "report.html").read_text() and "k = 3 nearest" in md


def test_too_few_samples_for_k_leave_the_columns_empty(tiny_runs, tmp_path):
    assert main(compare_args(tiny_runs, tmp_path, n=3)) == 0  # 3 samples: no 3rd neighbour besides itself
    report = json.loads((tmp_path / "report.json").read_text())
    assert all(row[key] is None for row in report["rows"] for key in PRDC_KEYS)
    assert all(row["fid"] is not None for row in report["rows"])
