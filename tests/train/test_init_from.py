"""--init-from: a fresh run's nets start from an exported model folder (G from the folder, other nets from
sub-folders of their architecture); shape mismatches name the tensor; a resumed run uses its own checkpoints."""
import json

import pytest
import torch

from semsynth.models.io import from_pretrained, model_folder
from semsynth.train.config import build_run_config
from semsynth.train.engine import build_task, run_training
from semsynth.train.init_from import init_nets
from tests.conftest import TINY_RUNS, TINY_SIZE

pytestmark = pytest.mark.xdist_group("tiny_runs")
TASKS = ["layout", "image", "sis-paired", "sis-unpaired", "sis-vae"]


def tiny_run(name, out, steps=1, **train):
    task, overrides = TINY_RUNS[name]
    return build_run_config(task, "synthetic-streets", size=TINY_SIZE, preset="tiny", task_overrides=overrides,
                            train_overrides={"total_steps": steps, "batch": 2, "num_workers": 0, **train},
                            out=str(out))


@pytest.mark.parametrize("name", TASKS)
def test_init_nets_loads_the_exported_generator_and_matching_sub_folders(tiny_runs, name):
    run = tiny_run(name, "unused", seed=123)  # another seed: the fresh init differs from the export
    task = build_task(run)[3]
    exported = from_pretrained(model_folder(tiny_runs[name]))
    G = task.ema_source
    assert not all(torch.equal(a, b) for a, b in zip(task.nets[G].state_dict().values(),
                                                      exported.state_dict().values()))
    loaded = init_nets(task.nets, G, tiny_runs[name])
    assert G in loaded
    for key, value in exported.state_dict().items():
        assert torch.equal(task.nets[G].state_dict()[key], value), key
    if name == "sis-vae":  # the VAE encoder is exported to model/encoder/: it starts from there too
        assert "E" in loaded
        encoder = from_pretrained(model_folder(tiny_runs[name]) / "encoder")
        assert all(torch.equal(task.nets["E"].state_dict()[k], v) for k, v in encoder.state_dict().items())


def test_a_shape_mismatch_names_the_tensor_and_changes_nothing(tiny_runs):
    task, overrides = TINY_RUNS["layout"]
    run = build_run_config(task, "synthetic-streets", size=TINY_SIZE, preset="tiny",
                           task_overrides={**overrides, "channel_max": 16}, out="unused")
    built = build_task(run)[3]
    before = {k: v.clone() for k, v in built.nets["G"].state_dict().items()}
    with pytest.raises(ValueError, match=r"model\.safetensors: tensor '.*' is \[.*\], the run's net needs"):
        init_nets(built.nets, "G", tiny_runs["layout"])
    assert all(torch.equal(before[k], v) for k, v in built.nets["G"].state_dict().items())


def test_a_run_started_from_a_model_records_it_and_resumes_from_its_own_checkpoints(tiny_runs, tmp_path,
                                                                                    monkeypatch, capsys):
    out = tmp_path / "finetune"
    run_training(tiny_run("sis-paired", out, steps=1, init_from=str(tiny_runs["sis-paired"])))
    assert "--init-from" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["train"]["init_from"] == str(tiny_runs["sis-paired"])

    def never(*args, **kwargs):
        raise AssertionError("a resumed run must not read the init folder again")
    monkeypatch.setattr("semsynth.train.engine.init_nets", never)
    run_training(tiny_run("sis-paired", out, steps=2, init_from=str(tiny_runs["sis-paired"])), resume=True)
    assert (out / "checkpoints" / f"{2:08d}").is_dir()
