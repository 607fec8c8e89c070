import numpy as np
import torch
from PIL import Image

from semsynth.cli.main import main
from semsynth.inference.sampling import load_generator, sample_layouts
from semsynth.train.tasks import image, layout
from tests.helpers.tiny_sets import TinyLabelSet


def export_layout(folder, output="labels"):
    torch.manual_seed(0)
    task = layout.build(layout.Config(**{**layout.PRESETS["tiny"]["task"], "output": output}), TinyLabelSet())
    task.nets["G"].eval()
    task.export(folder)


def test_sample_layouts_from_a_run_folder(tmp_path, capsys):
    export_layout(tmp_path / "run" / "model")
    out = tmp_path / "out"
    assert main(["sample", "--run", str(tmp_path / "run"), "--n", "5", "--seed", "7", "--out", str(out),
                 "--batch", "2", "--truncation", "0.8", "--device", "cpu"]) == 0
    assert "wrote 5 label maps" in capsys.readouterr().out
    G, meta = load_generator(tmp_path / "run")
    ids, _ = sample_layouts(G, meta, 5, seed=7, truncation_psi=0.8)
    for i in range(5):
        label = np.asarray(Image.open(out / f"{i:05d}_label.png"))
        assert label.dtype == np.uint8 and label.shape == (32, 64)
        assert np.array_equal(label, ids[i].numpy())
        color = np.asarray(Image.open(out / f"{i:05d}_color.png"))
        assert np.array_equal(color, TinyLabelSet(n=1).classes.colorize(label))
    assert (out / "grid.png").is_file() and not (out / "00005_label.png").exists()


def test_sample_rgb_layouts_and_photos_from_model_folders(tmp_path, capsys):
    export_layout(tmp_path / "rgb", output="rgb")
    assert main(["sample", "--run", str(tmp_path / "rgb"), "--n", "2", "--out", str(tmp_path / "o1"),
                 "--device", "cpu"]) == 0
    assert "far from every palette colour" in capsys.readouterr().out
    assert (tmp_path / "o1" / "00001_label.png").is_file()
    torch.manual_seed(0)
    task = image.build(image.Config(**image.PRESETS["tiny"]["task"]), TinyLabelSet(mode="images"))
    task.export(tmp_path / "img")
    assert main(["sample", "--run", str(tmp_path / "img"), "--n", "3", "--out", str(tmp_path / "o2"),
                 "--device", "cpu"]) == 0
    photo = np.asarray(Image.open(tmp_path / "o2" / "00002.png"))
    assert photo.shape == (32, 64, 3) and (tmp_path / "o2" / "grid.png").is_file()


def test_sample_reports_a_missing_model(tmp_path, capsys):
    assert main(["sample", "--run", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "model folder" in err


def test_sample_into_a_folder_with_earlier_samples(tmp_path, capsys):
    export_layout(tmp_path / "m")
    out = tmp_path / "out"
    argv = ["sample", "--run", str(tmp_path / "m"), "--out", str(out), "--device", "cpu"]
    assert main([*argv, "--n", "3"]) == 0
    assert main([*argv, "--n", "2"]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "earlier run" in err and "--overwrite" in err
    assert (out / "00002_label.png").is_file()  # refused: nothing deleted
    assert main([*argv, "--n", "2", "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["00000_color.png", "00000_label.png", "00001_color.png",
                                                     "00001_label.png", "grid.png"]
