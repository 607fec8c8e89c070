"""--compile and --precision of `semsynth sample` (the same options of generate / compare / evaluate go through the
same semsynth/inference/compiled.py). torch.compile runs with its "eager" backend here: it traces the network as a
real compile does but skips inductor's C++ build (minutes on a 2-core CPU); inductor itself is tested once in
tests/inference/test_compiled.py."""
import functools

import numpy as np
import pytest
import torch
from PIL import Image

from semsynth.cli.main import main
from semsynth.inference import compiled
from semsynth.train.tasks import image
from tests.helpers.tiny_sets import TinyLabelSet


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("img")
    torch.manual_seed(0)
    image.build(image.Config(**image.PRESETS["tiny"]["task"]), TinyLabelSet(mode="images")).export(folder)
    return folder


def _photos(folder, n):
    return np.stack([np.asarray(Image.open(folder / f"{i:05d}.png"), np.int16) for i in range(n)])


def test_compile_on_prints_its_time_apart_and_gives_the_same_photos(image_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(compiled.torch, "compile", functools.partial(torch.compile, backend="eager"))
    argv = ["sample", "--run", str(image_model), "--n", "5", "--batch", "2", "--device", "cpu"]
    assert main([*argv, "--out", str(tmp_path / "off"), "--compile", "off"]) == 0
    assert "[compile]" not in capsys.readouterr().out
    assert main([*argv, "--out", str(tmp_path / "on"), "--compile", "on"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[compile]")]
    assert len(lines) == 1 and lines[0].startswith("[compile] G: ")  # batches 2, 2, 1: the last one padded
    assert np.abs(_photos(tmp_path / "on", 5) - _photos(tmp_path / "off", 5)).max() <= 1  # uint8 rounding at most


def test_auto_does_not_compile_a_small_run(image_model, tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("auto compiled 3 samples")
    monkeypatch.setattr(compiled.torch, "compile", refuse)
    assert main(["sample", "--run", str(image_model), "--n", "3", "--device", "cpu", "--out", str(tmp_path)]) == 0
    assert "[compile]" not in capsys.readouterr().out


def test_bf16_precision_writes_photos_close_to_fp32(image_model, tmp_path):
    argv = ["sample", "--run", str(image_model), "--n", "3", "--device", "cpu", "--compile", "off"]
    assert main([*argv, "--out", str(tmp_path / "fp32")]) == 0
    assert main([*argv, "--out", str(tmp_path / "bf16"), "--precision", "bf16"]) == 0
    diff = np.abs(_photos(tmp_path / "bf16", 3) - _photos(tmp_path / "fp32", 3))
    assert diff.mean() < 8  # bf16 keeps 8 bits of mantissa: photos stay close


def test_a_wrong_mode_is_an_argparse_error(image_model, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["sample", "--run", str(image_model), "--out", str(tmp_path), "--compile", "yes"])
    assert "invalid choice: 'yes'" in capsys.readouterr().err
