"""bench/quality.py's table: numbers read from compare report.json files, one line per seed and their median
(no training: hand-made reports)."""
import importlib.util
import json
from pathlib import Path

from tests.helpers.reports import hand_made_report

REPO = Path(__file__).resolve().parents[2]


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_quality", REPO / "bench" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report_with(kid_paired: float, boundary_generated: float) -> dict:
    report = hand_made_report()
    report["rows"][0]["js_divergence"] = 0.02
    report["rows"][1]["kid_mean"], report["rows"][1]["miou"] = kid_paired, 0.4
    report["layout_statistics"]["boundary_fraction"]["generated"] = boundary_generated
    return json.loads(json.dumps(report))  # as read back from report.json


def test_metrics_of_reads_ratios_and_rows():
    m = load_bench().metrics_of(report_with(0.03, 0.2))
    assert m["boundary ratio"] == 2.0 and m["isolated ratio"] == 10.0
    assert m["JS"] == 0.02 and m["layout KID"] == 0.01 and m["paired KID"] == 0.03 and m["paired FID"] == 40.0
    assert m["paired mIoU"] == 0.4 and m["seg mIoU real"] == 0.5
    assert m["unpaired KID"] is None and m["single FID"] is None  # absent row, and a row without FID


def test_table_has_a_line_per_seed_and_the_median(tmp_path):
    bench = load_bench()
    rows = {seed: bench.metrics_of(report_with(kid, boundary))
            for seed, kid, boundary in ((0, 0.05, 0.2), (1, 0.01, 0.1), (2, 0.03, 0.4))}
    table = bench.format_table("setting A", rows)
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(lines) == 1 + 3 + 1  # header, three seeds, median
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    median = dict(zip(header, (c.strip() for c in lines[-1].strip("|").split("|"))))
    assert median["seed"] == "median of 3"
    assert median["paired KID"] == "0.03" and median["boundary ratio"] == "2"  # medians of (5, 1, 3)/100, (2, 1, 4)
    assert median["unpaired KID"] == "–"
    assert table.count("|---") == len(header)


def test_reports_already_written_are_reused_without_training(tmp_path, monkeypatch):
    bench = load_bench()
    for seed in (0, 1):
        folder = tmp_path / "A" / f"seed{seed}" / "report"
        folder.mkdir(parents=True)
        (folder / "report.json").write_text(json.dumps(report_with(0.01 * (seed + 1), 0.1)))
    from semsynth.train import suite
    monkeypatch.setattr(suite, "train_suite", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained")))
    bench.main(["--settings", "A", "--seeds", "0,1", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "quality.json").read_text())
    assert results["A"]["median"]["paired KID"] == 0.015
    assert "median of 2" in (tmp_path / "quality.md").read_text()
