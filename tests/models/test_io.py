"""Model folders that cannot be trusted: every load error names the file, absurd configs are refused before anything
of their size is built, NaN/Inf weights are refused, and exported files follow the user's umask."""
import json
import os
import time

import pytest
import torch
from safetensors.torch import load_file, save_file

from semsynth.models.io import CONFIG_NAME, WEIGHTS_NAME, from_pretrained, save_pretrained
from semsynth.models.spade import SPADEGenerator, SPADEGeneratorConfig


@pytest.fixture
def folder(tmp_path):
    torch.manual_seed(0)
    G = SPADEGenerator(SPADEGeneratorConfig(label_channels=5, ngf=4, spade_hidden=8, resolution=(32, 64),
                                            norm="instance"))
    return save_pretrained(G, tmp_path / "model", extra={"task": "sis"})


def edit_config(folder, **config):
    meta = json.loads((folder / CONFIG_NAME).read_text())
    meta["config"].update(config)
    (folder / CONFIG_NAME).write_text(json.dumps(meta))


def test_absurd_config_is_refused_from_the_weights_header_without_building(folder, monkeypatch):
    edit_config(folder, label_channels=1_000_000)
    built = []
    original = SPADEGenerator.__init__
    monkeypatch.setattr(SPADEGenerator, "__init__",
                        lambda self, cfg: built.append(torch.get_default_device()) or original(self, cfg))
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"\[1000000, 8, 3, 3\]|1000000") as err:
        from_pretrained(folder)
    assert time.perf_counter() - start < 10
    assert str(folder / WEIGHTS_NAME) in str(err.value) and str(folder / CONFIG_NAME) in str(err.value)
    assert all(device.type == "meta" for device in built), built  # never built with real memory


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_nan_or_inf_weights_are_refused_naming_file_and_tensor(folder, value):
    tensors = load_file(str(folder / WEIGHTS_NAME))
    name = sorted(k for k, t in tensors.items() if t.is_floating_point())[3]
    tensors[name].view(-1)[0] = value
    save_file(tensors, str(folder / WEIGHTS_NAME))
    with pytest.raises(ValueError, match="NaN/Inf") as err:
        from_pretrained(folder)
    assert str(folder / WEIGHTS_NAME) in str(err.value) and repr(name) in str(err.value)


def test_every_load_error_names_the_file(folder):
    config, weights = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    original_config, original_weights = config.read_text(), weights.read_bytes()

    def error_of(expected_type=ValueError):
        with pytest.raises(expected_type) as err:
            from_pretrained(folder)
        return str(err.value)

    config.write_text("{not json")
    assert str(config) in error_of() and "not valid JSON" in error_of()
    config.write_text(json.dumps({"config": {}}))
    assert str(config) in error_of() and "arch" in error_of()
    config.write_text(original_config)
    edit_config(folder, ngf="wide")
    assert str(config) in error_of()
    config.write_text(original_config)
    weights.write_bytes(b"garbage")
    assert str(weights) in error_of() and "safetensors" in error_of()
    weights.write_bytes(original_weights)
    tensors = load_file(str(weights))
    tensors.pop(sorted(tensors)[0])
    save_file(tensors, str(weights))
    assert str(weights) in error_of() and "1 tensors missing" in error_of()
    weights.unlink()
    assert str(weights) in error_of(FileNotFoundError)
    config.unlink()
    assert str(folder) in error_of(FileNotFoundError)


def test_bad_class_set_in_config_names_the_file(folder):
    meta = json.loads((folder / CONFIG_NAME).read_text())
    meta["classes"] = {"name": "x", "names": ["a", "b"], "colors": [[1, 2, 3], [4, 5, 6]], "ignore_index": 0}
    (folder / CONFIG_NAME).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="ignore_index") as err:
        from_pretrained(folder)
    assert str(folder / CONFIG_NAME) in str(err.value)


def test_exported_files_follow_the_umask(folder, tmp_path):
    old = os.umask(0o022)
    try:
        again = save_pretrained(from_pretrained(folder), tmp_path / "shared")
    finally:
        os.umask(old)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        assert (again / name).stat().st_mode & 0o777 == 0o644, name
