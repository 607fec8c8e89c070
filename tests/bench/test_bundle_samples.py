"""bench/bundle_samples.py draws the README's picture of the bundled models: four captioned grids, one per set."""
import runpy
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from semsynth.pretrained import bundle

REPO = Path(__file__).resolve().parents[2]


def test_the_picture_has_a_captioned_grid_per_set(tmp_path, monkeypatch):
    out = tmp_path / "samples.png"
    monkeypatch.setattr(sys, "argv", ["bundle_samples.py", "--n", "2", "--nrow", "2", "--out", str(out)])
    runpy.run_path(str(REPO / "bench" / "bundle_samples.py"), run_name="__main__")
    assert bundle.DEFAULT_BUNDLE == "synthetic-streets-64x128"
    H, W = 64, 128  # its size
    picture = np.asarray(Image.open(out))
    grid_h, grid_w = H + 2 * 2, 2 * (W + 2) + 2  # torchvision make_grid: padding 2 around every cell
    assert picture.shape == (4 * (18 + grid_h), grid_w, 3)
    sections = picture.reshape(4, 18 + grid_h, grid_w, 3)
    assert (sections[:, :18].min(axis=(1, 2, 3)) < 128).all()  # every caption has dark text on white
    cells = sections[:, 18 + 2:18 + 2 + H, 2:2 + W].astype(float)
    assert (cells.std(axis=(1, 2, 3)) > 5).all()  # no blank grid
