import numpy as np
import pytest
from PIL import Image

from semsynth.classes import get_class_set
from semsynth.cli.main import main
from semsynth.data import load_dataset


def test_preview_writes_label_photo_grid(tmp_path, capsys):
    out = tmp_path / "sub" / "grid.png"
    assert main(["data", "preview", "--data", "synthetic-streets", "--size", "32x64", "--n", "3", "--seed", "2",
                 "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    grid = np.asarray(Image.open(out).convert("RGB"))
    pad = 2  # torchvision make_grid padding: rows of (label | photo) tiles
    assert grid.shape == (3 * (32 + pad) + pad, 2 * (64 + pad) + pad, 3)
    item = load_dataset("synthetic-streets", size=(32, 64), seed=2)[2]  # third row
    label_tile = grid[2 * (32 + pad) + pad:3 * (32 + pad), pad:pad + 64]
    assert np.array_equal(label_tile, get_class_set("cityscapes").colorize(item["label"].numpy()))
    photo_tile = grid[2 * (32 + pad) + pad:3 * (32 + pad), 64 + 2 * pad:2 * (64 + pad)]
    photo = ((item["image"].permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)
    assert np.array_equal(photo_tile, photo)


def test_preview_passes_data_options_to_the_reader(tmp_path):
    def grid(*options):
        out = tmp_path / f"grid{len(options)}.png"
        assert main(["data", "preview", "--data", "synthetic-streets", "--size", "32x64", "--n", "2", *options,
                     "--out", str(out)]) == 0
        return np.asarray(Image.open(out).convert("RGB"))

    varied, fixed = grid(), grid("--data-option", "appearance=fixed")
    assert np.array_equal(varied[:, :66], fixed[:, :66])  # the same label maps (left column)
    assert not np.array_equal(varied[:, 66:], fixed[:, 66:])  # photos with other colours


@pytest.mark.parametrize("argv,message", [
    (["--data", "synthetic-streets", "--split", "dev"], "split 'dev'"),
    (["--data", "synthetic-streets", "--n", "0"], "--n must be >= 1"),
    (["--data", "synthetic-streets", "--data-option", "colour=red"], "does not take option(s) ['colour']"),
])
def test_preview_bad_values_give_one_line_errors(tmp_path, capsys, argv, message):
    assert main(["data", "preview", *argv, "--out", str(tmp_path / "g.png")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()


def test_preview_rejects_bad_size_and_unknown_data(tmp_path, capsys):
    for argv in (["--data", "synthetic-streets", "--size", "64"], ["--data", "nope"]):
        with pytest.raises(SystemExit):
            main(["data", "preview", *argv, "--out", str(tmp_path / "g.png")])
    err = capsys.readouterr().err
    assert "HxW" in err and "invalid choice: 'nope'" in err


def test_every_option_has_help(capsys):
    with pytest.raises(SystemExit):
        main(["data", "preview", "--help"])
    text = capsys.readouterr().out
    for option in ("--data", "--root", "--split", "--size", "--n", "--seed", "--out"):
        assert option in text
    assert "colourised label" in text
