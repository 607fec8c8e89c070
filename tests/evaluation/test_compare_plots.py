"""What compare feeds the report's plots: per-class IoU, layout statistics, training curves, side-by-side samples."""
import json
import re

import pytest

from semsynth.cli.main import main
from semsynth.evaluation.compare import real_set
from semsynth.evaluation.curves import read_stats
from semsynth.evaluation.metrics.layout import class_shares, neighbour_fractions
from semsynth.evaluation.plots import MISSING, available
from tests.evaluation.test_compare import compare_args, stand_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.xdist_group("tiny_runs")


def test_compare_puts_every_plot_and_its_numbers_in_the_report(tiny_runs, tmp_path, stand_in):  # noqa: F811
    assert main(compare_args(tiny_runs, tmp_path, n=4)) == 0
    report = json.loads((tmp_path / "report.json").read_text(),
                        parse_constant=lambda c: pytest.fail(f"{c} in report.json"))
    labels, _, dataset = real_set("synthetic-streets", None, "val", (32, 64), 4, 0)
    classes = dataset.classes
    assert report["classes"] == list(classes.names)

    stats = report["layout_statistics"]
    assert stats["class_shares"]["real"] == pytest.approx(class_shares(labels, classes.num_classes).tolist())
    assert sum(stats["class_shares"]["generated"]) == pytest.approx(1)
    for key, value in neighbour_fractions(labels, classes.ignore_index).items():
        assert stats[key]["real"] == pytest.approx(value) and 0 <= stats[key]["generated"] <= 1

    assert len(report["segmenter"]["per_class_iou_real"]) == classes.num_classes
    for row in report["rows"][1:3]:  # the two-stage rows
        present = [v for v in row["per_class_iou"] if v is not None]
        assert len(row["per_class_iou"]) == classes.num_classes and row["miou"] == pytest.approx(
            sum(present) / len(present))

    assert report["side_by_side"]["columns"] == ["generated layout", "paired SIS", "unpaired SIS"]
    curves = report["curves"]
    assert list(curves) == ["layout", "paired SIS", "unpaired SIS", "image", "segmenter"]
    for role, name in (("layout", "layout"), ("unpaired SIS", "sis-unpaired"), ("segmenter", "segmenter")):
        (last,) = read_stats(tiny_runs[name] / "stats.jsonl")[-1:]
        assert curves[role]["kimg"][-1] == last["kimg"]
        assert curves[role]["values"]["img_per_s"][-1] == last["img_per_s"]
        assert curves[role]["values"]["data_wait_share"][-1] == last["data_wait_share"]

    page = (tmp_path / "report.html").read_text()
    if available():
        assert len(re.findall(r"<img class='plot' src='data:image/png;base64,", page)) == 6
    else:
        assert "plots need matplotlib" in page and MISSING.split(":")[0] in page
