"""Paired SIS task (SPADE): config checks, segmaps, a few training steps, samples, export."""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest
import torch

from semsynth.data.labels import make_segmap
from semsynth.models.io import from_pretrained
from semsynth.train.tasks import sis, spade, task_module

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.loop import run_phases  # noqa: E402
from helpers.paired_standin import PairedStandIn, collate  # noqa: E402

TINY = sis.Config(**{**sis.PRESETS["tiny"]["task"], "norm": "instance"})


@pytest.fixture(scope="module")
def data():
    return PairedStandIn(n=6, size=(32, 64), num_classes=5)


def batch_of(ds, idx=(0, 1)):
    return collate([ds[i] for i in idx])


def test_module_contract():
    mod = task_module("sis")
    assert mod is sis
    assert sis.data_mode(sis.Config()) == "paired" and sis.data_mode(sis.Config(mode="unpaired")) == "unpaired"
    assert set(sis.PRESETS) == {"tiny", "small", "paper"}
    fields = {f.name for f in dataclasses.fields(sis.Config)}
    for name, preset in sis.PRESETS.items():
        assert set(preset["task"]) <= fields, name
        sis.Config(**preset["task"])
    c = sis.Config()
    assert (c.lr_g, c.lr_d, c.beta1, c.beta2) == (1e-4, 4e-4, 0.0, 0.9)
    assert (c.lambda_feat, c.lambda_vgg, c.lambda_kld) == (10, 10, 0.05)


def test_make_segmap_ignore_dontcare_and_edges():
    label = torch.tensor([[[0, 1, 255], [2, 2, 1]]])
    seg = make_segmap(label, 3, 255)
    assert seg.shape == (1, 3, 2, 3) and seg[0, :, 0, 2].sum() == 0 and seg[0, 1, 0, 1] == 1
    seg = make_segmap(label, 3, 255, use_dontcare=True)
    assert seg.shape == (1, 4, 2, 3) and seg[0, 3, 0, 2] == 1 and seg[0, 3].sum() == 1
    edges = torch.tensor([[[[0.0, 0.0, 1.0, 1.0]]]])  # as the Cityscapes reader gives them
    seg = make_segmap(torch.zeros(1, 1, 4, dtype=torch.long), 2, 255, edges=edges)
    assert seg.shape == (1, 3, 1, 4) and seg[0, 2].tolist() == [[0, 0, 1, 1]]
    with pytest.raises(ValueError, match="edge map shape"):
        make_segmap(torch.zeros(1, 1, 4, dtype=torch.long), 2, 255, edges=edges[..., :3])
    with pytest.raises(ValueError, match="ids must lie in 0..2"):
        make_segmap(torch.tensor([[[0, 3]]]), 3, 255)


def test_label_channels_follow_the_data_set(data):
    task = sis.build(dataclasses.replace(TINY, use_dontcare=True), data)
    assert task.label_channels == 6
    assert sis.label_channels(TINY, 19) == 19
    G, D = task.nets["G"], task.nets["D"]
    assert G.cfg.label_channels == 6 and D.cfg.label_channels == 6 and G.cfg.resolution == (32, 64)


@pytest.mark.parametrize("kw", [dict(), dict(family="oasis", z_dim=8), dict(use_vae=True, z_dim=8),
                                dict(use_dontcare=True)])
def test_training_steps_update_every_net(data, kw):
    torch.manual_seed(0)
    cfg = dataclasses.replace(TINY, **kw)
    sis.validate(cfg, data)
    task = sis.build(cfg, data)
    assert isinstance(task, spade.PairedSIS)
    assert [p.name for p in task.phases()] == ["G", "D"]
    before = {k: [p.detach().clone() for p in net.parameters()] for k, net in task.nets.items()}
    history = run_phases(task, [batch_of(data, (0, 1)), batch_of(data, (2, 3))], steps=2)
    assert {"G/adv", "G/feat", "D/hinge"} <= set(history[-1])
    assert ("G/kld" in history[-1]) == cfg.use_vae
    for key, net in task.nets.items():
        changed = any(not torch.equal(a, b) for a, b in zip(before[key], net.parameters()))
        assert changed, f"{key} did not change"


def test_vgg_term_is_added_when_enabled(data, tmp_path):
    from torchvision.models.vgg import cfgs, make_layers
    path = tmp_path / "vgg.pth"
    torch.save({f"features.{k}": v.half() for k, v in make_layers(cfgs["E"]).state_dict().items()}, path)
    cfg = dataclasses.replace(TINY, use_vgg=True, vgg_weights=str(path))
    sis.validate(cfg, data)
    task = sis.build(cfg, data)
    assert "vgg" not in task.nets  # frozen helper, not a trained / checkpointed net
    loss, scalars = task.loss("G", batch_of(data))
    assert scalars["G/vgg"] > 0
    assert loss.item() == pytest.approx(scalars["G/adv"] + scalars["G/feat"] + scalars["G/vgg"], rel=1e-5)


def test_validate_rejects_impossible_setups(data, monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="mode='unpaired'"):
        sis.validate(TINY, PairedStandIn(n=2, mode="unpaired"))
    with pytest.raises(ValueError, match="unknown sis mode"):
        sis.validate(dataclasses.replace(TINY, mode="half"), data)
    with pytest.raises(ValueError, match="divisible"):
        sis.validate(TINY, PairedStandIn(n=2, size=(48, 64)))
    with pytest.raises(ValueError, match="unknown family"):
        sis.validate(dataclasses.replace(TINY, family="pix2pixhd"), data)
    with pytest.raises(ValueError, match="instance maps"):
        sis.validate(dataclasses.replace(TINY, use_instance_edges=True), data)
    with pytest.raises(ValueError, match="lr_d must be positive"):
        sis.validate(dataclasses.replace(TINY, lr_d=0.0), data)
    monkeypatch.delenv("SEMSYNTH_VGG19", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="--no-use-vgg"):
        sis.check_files(dataclasses.replace(TINY, use_vgg=True))  # before the data set is built (engine)


def test_validate_catches_size_mismatch_and_foreign_ids():
    bad_size = PairedStandIn(n=2)
    bad_size.items[0]["image"] = bad_size.items[0]["image"][:, :16]
    with pytest.raises(ValueError, match=r"photo \(3, 16, 64\) does not match its label map"):
        sis.validate(TINY, bad_size)
    many = PairedStandIn(n=2, num_classes=5)
    many.items[0]["label"][0, 0] = 7  # a class the model is not built for
    with pytest.raises(ValueError, match=r"ids \[7\] are outside class set"):
        sis.validate(TINY, many)
    task = sis.build(TINY, PairedStandIn(n=2, num_classes=5))
    with pytest.raises(ValueError, match="label ids must lie in 0..4"):
        task.loss("G", collate([many[0]]))
    batch = collate([PairedStandIn(n=1)[0]])
    batch["image"] = batch["image"][:, :, :16]
    with pytest.raises(ValueError, match="sizes differ"):
        task.loss("D", batch)


def test_generator_of_another_class_count_is_refused(data):
    task = sis.build(TINY, data)
    with pytest.raises(ValueError, match=r"6 channels but the generator was built for label_channels=5"):
        task.nets["G"](torch.zeros(1, 6, 32, 64))


@pytest.mark.parametrize("kw", [dict(), dict(family="oasis", z_dim=8)])
def test_sample_grid_and_export_roundtrip(data, tmp_path, kw):
    torch.manual_seed(0)
    task = sis.build(dataclasses.replace(TINY, **kw), data)
    run_phases(task, [batch_of(data)], steps=1)
    task.nets["G_ema"] = task.nets["G"].eval()
    fixed = task.fixed_inputs(data, 3, torch.Generator().manual_seed(0))
    again = task.fixed_inputs(data, 3, torch.Generator().manual_seed(0))
    assert all(torch.equal(fixed[k], again[k]) for k in fixed)
    assert ("z" in fixed) == (kw.get("family") == "oasis")
    grid = task.sample(fixed)
    assert grid.dtype == torch.uint8 and grid.shape == (3, 3, 32, 128)
    colours = torch.from_numpy(data.classes.colors)[fixed["label"]].permute(0, 3, 1, 2)
    assert torch.equal(grid[..., :64], colours)  # left half: the colourised label map
    task.export(tmp_path / "model")
    G = from_pretrained(tmp_path / "model")
    meta = G.meta
    assert meta["task"] == "sis" and meta["mode"] == "paired" and meta["size"] == [32, 64]
    assert meta["label_channels"] == 5 and meta["classes"]["names"] == list(data.classes.names)
    assert meta["dataset"] == "paired-stand-in"
    seg = task.segmap(fixed)
    with torch.no_grad():
        assert torch.equal(G(seg, fixed.get("z")), task.nets["G_ema"](seg, fixed.get("z")))


def test_unknown_phase(data):
    with pytest.raises(ValueError, match="phases G, D"):
        sis.build(TINY, data).loss("R1", batch_of(data))


def test_instance_edges_flow_from_the_cityscapes_reader_into_training(tmp_path):
    """use_instance_edges asks the reader for its edge maps and feeds them to G as the last label channel."""
    from semsynth.train.config import build_run_config
    from semsynth.train.engine import run_training
    from tests.data.fixtures import make_cityscapes

    fake = make_cityscapes(tmp_path)
    run = build_run_config("sis", "cityscapes", root=str(fake.root), size=(32, 64), preset="tiny",
                           task_overrides={"mode": "paired", "use_instance_edges": True},
                           train_overrides={"total_steps": 1, "batch": 2, "num_workers": 0}, out=str(tmp_path / "run"))
    model_dir = run_training(run) / "model"
    meta = json.loads((model_dir / "config.json").read_text())
    assert meta["config"]["label_channels"] == 19 + 1
