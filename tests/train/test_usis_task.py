import sys
from dataclasses import make_dataclass, replace
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: a site-packages `tests` shadows ours
from helpers.usis_standins import StandInConfig, StandInGenerator, StandInStreets  # noqa: E402

from semsynth.data.labels import one_hot  # noqa: E402
from semsynth.train.tasks.usis import UnpairedSIS, check_unpaired  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return StandInStreets(size=(32, 64), mode="unpaired", num_scenes=8)


def make_task(data, **over):
    torch.manual_seed(0)
    cfg = replace(StandInConfig(), **over)
    channels = data.classes.num_classes + int(cfg.use_dontcare)
    return UnpairedSIS(cfg, data, generator=StandInGenerator(channels, cfg.z_dim))


def batch_of(data, n=4):
    items = [data[i] for i in range(n)]
    return {k: torch.stack([it[k] for it in items]) for k in ("label", "image")}


def grads(net):
    return [p.grad for p in net.parameters()]


def test_nets_sized_from_dataset(data):
    task = make_task(data)
    assert task.nets["S"].cfg.out_channels == data.classes.num_classes + 1  # N classes + fake
    assert task.nets["Dw"].cfg.resolution == (32, 64) and task.nets["Dw"].cfg.use_wavelet
    assert [p.name for p in task.phases()] == ["G", "S", "Dw", "Dreg"]
    assert task.phases()[-1].interval == 4 and task.ema_source == "G" and task.data_mode == "unpaired"
    assert set(task.optimizers()) == set(task.optimizer_nets()) == {"G", "S", "Dw"}


def test_phase_gradients_reach_only_the_right_nets(data):
    task = make_task(data)
    batch = batch_of(data)
    for phase, trained in [("G", "G"), ("S", "S"), ("Dw", "Dw"), ("Dreg", "Dw")]:
        for name, net in task.nets.items():
            net.zero_grad(set_to_none=True)
            net.requires_grad_(name == trained)
        loss, scalars = task.loss(phase, batch)
        assert torch.isfinite(loss) and scalars and all(torch.isfinite(torch.tensor(v)) for v in scalars.values())
        loss.backward()
        assert all(g is not None for g in grads(task.nets[trained])), phase
        for name, net in task.nets.items():
            if name != trained:
                assert all(g is None for g in grads(net)), (phase, name)


def test_generator_loss_contains_segmentation_and_adversarial_terms(data):
    task = make_task(data, lambda_seg=2.0, lambda_wavelet=0.5)
    batch = batch_of(data)
    torch.manual_seed(1)
    loss, s = task.loss("G", batch)
    assert loss.item() == pytest.approx(2.0 * s["G/seg"] + 0.5 * s["G/adv"], rel=1e-5)
    whole = make_task(data, use_wavelet_d=False, lambda_adv=3.0, lambda_wavelet=0.5)
    assert not whole.nets["Dw"].cfg.use_wavelet and whole.w_adv == 3.0


def test_segmenter_phase_uses_generated_photos_of_the_input_layout(data):
    task = make_task(data)
    batch = batch_of(data)
    seen = []
    task.nets["S"].register_forward_hook(lambda m, i, o: seen.append(i[0].detach()))
    torch.manual_seed(3)
    task.loss("S", batch)
    torch.manual_seed(3)
    z = torch.randn(4, task.cfg.z_dim)
    expected = task.nets["G"](one_hot(batch["label"], data.classes.num_classes), z)
    assert torch.allclose(seen[0], expected.detach())
    assert not torch.allclose(seen[0], batch["image"])  # never the unpaired real photo


def test_fixed_inputs_and_sample(data):
    task = make_task(data)
    fixed = task.fixed_inputs(data, 3, torch.Generator().manual_seed(0))
    again = task.fixed_inputs(data, 3, torch.Generator().manual_seed(0))
    assert torch.equal(fixed["label"], again["label"]) and torch.equal(fixed["z"], again["z"])
    grid = task.sample(fixed)
    assert grid.dtype == torch.uint8 and grid.shape == (3, 3, 32, 128)
    colours = data.classes.colorize(fixed["label"]).permute(0, 3, 1, 2)
    assert torch.equal(grid[..., :64], colours)
    assert torch.equal(task.sample(fixed), grid)  # same z -> same photos
    assert task.nets["G"].training  # sample restores the mode


def test_unknown_phase_and_bad_data(data):
    task = make_task(data)
    with pytest.raises(ValueError, match="unknown phase 'X'"):
        task.loss("X", batch_of(data))
    cfg = StandInConfig()
    with pytest.raises(ValueError, match="unpaired"):
        check_unpaired(cfg, StandInStreets(size=(32, 64), mode="paired", num_scenes=4))
    with pytest.raises(ValueError, match="multiples of 32"):
        check_unpaired(cfg, StandInStreets(size=(48, 80), mode="unpaired", num_scenes=4))
    check_unpaired(cfg, data)
    with pytest.raises(ValueError, match="use_instance_edges"):
        make_task(data, use_instance_edges=True)


def test_extra_options_are_read_when_the_config_has_them(data):
    extra = make_dataclass("WithUSISOptions", [("r1_gamma", float, 0.0), ("r1_interval", int, 16),
                                               ("seg_depth", int, 3), ("seg_init_gain", float, 0.02)],
                           bases=(StandInConfig,), frozen=True)
    cfg = extra()
    task = UnpairedSIS(cfg, data, generator=StandInGenerator(data.classes.num_classes, cfg.z_dim))
    assert [p.name for p in task.phases()] == ["G", "S", "Dw"]  # r1_gamma 0: no R1 phase
    assert task.nets["S"].cfg.depth == 3 and task.nets["S"].cfg.init_gain == 0.02
    assert task.r1_interval == 16


def test_dontcare_channel(data):
    task = make_task(data, use_dontcare=True)
    label = torch.tensor([[[0, 255], [18, 1]]])
    segmap = task.segmap(label)
    assert segmap.shape == (1, 20, 2, 2) and segmap[0, 19, 0, 1] == 1 and segmap.sum() == 4


def test_with_real_spade_generator_and_export(data, tmp_path):
    spade = pytest.importorskip("semsynth.models.spade")
    sis = pytest.importorskip("semsynth.train.tasks.sis")
    from semsynth.models import from_pretrained

    cfg = replace(sis.Config(), mode="unpaired", family="oasis", ngf=4, z_dim=8, spade_hidden=8, seg_channels=8,
                  wavelet_channels=8, use_vgg=False)
    task = UnpairedSIS(cfg, data)
    assert isinstance(task.nets["G"], spade.SPADEGenerator)
    loss, _ = task.loss("G", batch_of(data, 2))
    assert torch.isfinite(loss)
    task.export(tmp_path / "model")
    G = from_pretrained(tmp_path / "model")
    assert G.meta["task"] == "sis" and G.meta["mode"] == "unpaired" and G.meta["size"] == [32, 64]
    z = torch.randn(2, 8)
    segmap = one_hot(batch_of(data, 2)["label"], data.classes.num_classes)
    task.nets["G"].eval()
    assert torch.allclose(G(segmap, z), task.nets["G"](segmap, z), atol=1e-6)
    assert isinstance(sis.build(cfg, data), UnpairedSIS)
