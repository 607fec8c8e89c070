"""The report's plots: numbers in, valid PNG bytes out; nothing but the message without matplotlib."""
import io
import sys

import numpy as np
import pytest
from PIL import Image

from semsynth.evaluation import plots
from tests.helpers.reports import CLASSES, hand_made_report

needs_matplotlib = pytest.mark.skipif(not plots.available(), reason="matplotlib (the `report` extra) is missing")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(data)) as img:
        img.verify()
    with Image.open(io.BytesIO(data)) as img:
        return img.size


@needs_matplotlib
def test_every_plot_function_returns_a_valid_png():
    w, h = png_size(plots.score_bars(["a", "b"], [1.0, None], [0.1, 0.2], [0.01, None]))
    assert w > 200 and h > 100
    png_size(plots.per_class_iou_bars(CLASSES, {"real": [0.9, None, 0.1], "paired": [0.5, 0.4, None]}))
    png_size(plots.class_share_bars(CLASSES, [0.5, 0.3, 0.2], [0.6, 0.3, 0.1]))
    png_size(plots.neighbour_fraction_bars({"boundary_fraction": 0.1, "isolated_fraction": 0.0},
                                           {"boundary_fraction": 0.2, "isolated_fraction": 0.01}))
    png_size(plots.training_curves(hand_made_report()["curves"]))
    rng = np.random.default_rng(0)
    images = {name: rng.integers(0, 256, (2, 8, 16, 3), dtype=np.uint8) for name in ("layout", "paired", "unpaired")}
    w, h = png_size(plots.side_by_side(images))
    assert w > h  # 3 columns of 2:1 images, 2 rows


@needs_matplotlib
def test_curve_panels_keep_losses_metrics_and_throughput_apart():
    panels = plots.curve_panels(["G/adv", "img_per_s", "eval/kid", "D/hinge", "data_wait_share"])
    assert panels == {"losses": ["G/adv", "D/hinge"], "in-training metrics": ["eval/kid"],
                      "img/s": ["img_per_s"], "data wait share": ["data_wait_share"]}
    assert "in-training metrics" not in plots.curve_panels(["G/adv", "img_per_s", "data_wait_share"])


@needs_matplotlib
def test_report_figures_draw_what_the_report_has_numbers_for():
    rng = np.random.default_rng(0)
    samples = {"layout": rng.integers(0, 256, (2, 8, 16, 3), dtype=np.uint8)}
    captions = [c for c, _ in plots.report_figures(hand_made_report(), samples)]
    assert len(captions) == 6 and "FID and KID per row" in captions
    bare = hand_made_report(segmenter={"skipped": "no --segmenter"}, curves={})
    del bare["layout_statistics"]
    for row in bare["rows"]:
        row.update(fid=None, per_class_iou=None)
    assert plots.report_figures(bare) == []  # nothing to plot: no figure, and no message either


def test_without_matplotlib_report_figures_is_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    assert not plots.available()
    assert plots.report_figures(hand_made_report()) is None
