import dataclasses
import math

import pytest
import torch

from semsynth.classes import class_set_to_dict
from semsynth.inference.sampling import load_generator, sample_images, sample_layouts
from semsynth.losses.gan import path_lengths, r1_penalty
from semsynth.train.tasks import image, layout, task_module
from tests.helpers.loop import run_phases
from tests.helpers.tiny_sets import TinyLabelSet

TINY = layout.PRESETS["tiny"]["task"]


def tiny_layout(**kw) -> layout.LayoutTask:
    torch.manual_seed(0)
    return layout.build(layout.Config(**{**TINY, **kw}), TinyLabelSet())


def test_module_contract():
    mod = task_module("layout")
    assert set(mod.PRESETS) == {"tiny", "small", "paper"}
    for preset in mod.PRESETS.values():
        layout.Config(**preset["task"])  # every preset field exists
    assert mod.data_mode(layout.Config()) == "labels"
    assert image.data_mode(image.Config()) == "images"
    for field in dataclasses.fields(layout.Config):
        assert field.default is not dataclasses.MISSING


def test_validate_names_bad_values():
    for kw, word in [({"arch": "progan"}, "arch"), ({"output": "soft"}, "output"), ({"d_input": "x"}, "d_input"),
                     ({"gumbel_temperature": 0.0}, "gumbel_temperature"), ({"real_smoothing": 1.0}, "real_smoothing"),
                     ({"pl_interval": 0}, "pl_interval"), ({"pl_decay": 0.0}, "pl_decay"),
                     ({"pl_weight": -1.0}, "pl_weight"), ({"pl_batch_shrink": 0}, "pl_batch_shrink")]:
        with pytest.raises(ValueError, match=word):
            layout.validate(layout.Config(**kw))
    with pytest.raises(ValueError, match="short side"):
        layout.validate(layout.Config(), TinyLabelSet(n=1, size=(30, 60)))


def test_phases_and_lazy_regulariser_optimizer_rescaling():
    task = tiny_layout(pl_weight=2.0)
    assert [(p.name, p.optimizer, p.interval) for p in task.phases()] == [("G", "G", 1), ("Greg", "G", 4),
                                                                        ("D", "D", 1), ("Dreg", "D", 16)]
    opts = task.optimizers()
    g, d = opts["G"].param_groups[0], opts["D"].param_groups[0]
    # lazy regularisation (stylegan2-ada-pytorch training_loop.py): G (I=4) lr x 0.8, beta2 0.991992;
    # D (I=16) lr x 16/17, beta2 0.990585
    assert math.isclose(g["lr"], 0.0025 * 0.8) and g["betas"][0] == 0 and round(g["betas"][1], 6) == 0.991992
    assert math.isclose(d["lr"], 0.0025 * 16 / 17) and round(d["betas"][1], 6) == 0.990585
    plain = tiny_layout(pl_weight=0.0).optimizers()["G"].param_groups[0]
    assert plain["lr"] == 0.0025 and plain["betas"] == (0.0, 0.99)
    assert "Greg" not in [p.name for p in tiny_layout(pl_weight=0.0).phases()]
    dc = tiny_layout(arch="dcgan").optimizers()["D"].param_groups[0]
    assert [p.name for p in tiny_layout(arch="dcgan").phases()] == ["G", "D"]
    assert dc["lr"] == 2e-4 and dc["betas"] == (0.5, 0.999)


@pytest.mark.parametrize("arch,output,d_input", [("stylegan2", "labels", "gumbel"), ("stylegan2", "labels", "hard-st"),
                                                 ("stylegan2", "rgb", "gumbel"), ("dcgan", "labels", "softmax"),
                                                 ("dcgan", "rgb", "gumbel")])
def test_training_steps_update_both_nets(arch, output, d_input):
    task = tiny_layout(arch=arch, output=output, d_input=d_input)
    ds = TinyLabelSet()
    before = {k: [p.detach().clone() for p in net.parameters()] for k, net in task.nets.items()}
    history = run_phases(task, [ds.batch(range(4)), ds.batch(range(4, 8))], steps=2)
    assert {"loss_G", "loss_D"} <= set(history[0])
    for key in ("G", "D"):
        changed = [not torch.equal(a, b) for a, b in zip(before[key], task.nets[key].parameters())]
        assert sum(changed) > len(changed) // 2, key


def test_gumbel_reals_are_distributions_with_ignore_zero_and_keep_the_label():
    task = tiny_layout(real_smoothing=0.05)  # the Config default; the tiny preset's 0 gives exact one-hot reals
    batch = TinyLabelSet().batch(range(4))
    x = task.real_input(batch)
    valid = batch["label"] != 255
    torch.testing.assert_close(x.sum(1)[valid], torch.ones(int(valid.sum())))
    assert x.permute(0, 2, 3, 1)[~valid].abs().max() == 0
    agree = float((x.argmax(1) == batch["label"])[valid].float().mean())
    print(f"argmax of smoothed + Gumbel reals agrees with the label on {agree:.3f} of pixels")
    assert agree > 0.9
    assert 0.5 < float(x.max(1).values[valid].mean()) < 0.999  # not exactly one-hot: no value tell for D


def test_gumbel_reals_without_smoothing_are_exactly_one_hot():
    task = tiny_layout(real_smoothing=0.0)  # the tiny preset: no real pixel flipped by the relaxation's noise
    batch = TinyLabelSet().batch(range(4))
    x = task.real_input(batch)
    valid = batch["label"] != 255
    assert torch.isfinite(x).all() and set(x.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(x.argmax(1)[valid], batch["label"][valid])


def test_hard_st_fakes_are_one_hot_with_gradients():
    task = tiny_layout(d_input="hard-st")
    logits = torch.randn(2, 4, 32, 64, requires_grad=True)
    y = task.fake_input(logits)
    assert set(y.detach().unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(y.sum(1), torch.ones(2, 32, 64))
    (y * torch.randn_like(y)).sum().backward()
    assert logits.grad.abs().sum() > 0


def test_rgb_reals_are_colourised_maps():
    task = tiny_layout(output="rgb")
    batch = TinyLabelSet().batch(range(2))
    x = task.real_input(batch)
    assert x.shape == (2, 3, 32, 64) and x.min() >= -1 and x.max() <= 1
    sky = batch["label"] == 0
    expected = torch.tensor([70, 130, 180]) / 127.5 - 1
    torch.testing.assert_close(x.permute(0, 2, 3, 1)[sky], expected.expand(int(sky.sum()), 3))


class Quadratic(torch.nn.Module):
    """D(x) = sum(a * x^2) per sample: d D / d x = 2 a x, so ||grad||^2 = sum(4 a^2 x^2)."""

    def __init__(self, shape):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(shape))

    def forward(self, x):
        return (self.a * x.square()).flatten(1).sum(1, keepdim=True)


def test_r1_penalty_matches_closed_form():
    torch.manual_seed(0)
    D = Quadratic((3, 4, 5))
    x = torch.randn(6, 3, 4, 5, requires_grad=True)
    expected = (4 * D.a.square() * x.square()).flatten(1).sum(1).mean()
    torch.testing.assert_close(r1_penalty(D(x), x), expected)


def test_dreg_phase_scales_r1_by_gamma_half_and_interval():
    task = tiny_layout(d_input="softmax", r1_gamma=0.3, r1_interval=8)  # exact one-hot reals: deterministic input
    task.nets["D"] = Quadratic((4, 32, 64))
    batch = TinyLabelSet().batch(range(4))
    x = task.real_input(batch)
    expected = (4 * task.nets["D"].a.square() * x.square()).flatten(1).sum(1).mean() * 0.3 / 2 * 8
    loss, scalars = task.loss("Dreg", batch)
    torch.testing.assert_close(loss, expected)
    assert "r1" in scalars


def test_style_mixing_uses_a_second_latent():
    for prob in (1.0, 0.0):
        task = tiny_layout(style_mixing_prob=prob)
        calls = []
        task.nets["G"].register_forward_pre_hook(lambda m, args, kwargs: calls.append(kwargs), with_kwargs=True)
        task.generate(4, "cpu")
        if prob == 0:
            assert calls == [{}]
        else:
            assert calls[0]["mix_z"].shape == (4, 32) and 1 <= calls[0]["mix_cutoff"] < task.nets["G"].num_ws


@pytest.mark.parametrize("output", ["labels", "rgb"])
def test_sample_export_and_reload(tmp_path, output):
    task = tiny_layout(output=output)
    ds = TinyLabelSet()
    fixed = task.fixed_inputs(ds, 6, torch.Generator().manual_seed(0))
    pics = task.sample(fixed)
    assert pics.dtype == torch.uint8 and pics.shape == (6, 3, 32, 64)
    task.nets["G"].eval()
    task.export(tmp_path / "model")
    G, meta = load_generator(tmp_path)  # a run folder holding model/
    assert meta["task"] == "layout" and meta["output"] == output and meta["size"] == [32, 64]
    assert meta["classes"]["names"] == list(ds.classes.names) and meta["dataset"] == "tiny-streets"
    ids, far = sample_layouts(G, meta, 5, seed=3, batch=2)
    assert ids.shape == (5, 32, 64) and ids.dtype == torch.long
    assert (far is None) == (output == "labels")
    if output == "labels":
        assert int(ids.max()) < 4


def test_samples_depend_only_on_their_seed():
    task = tiny_layout()
    G = task.nets["G"].eval()
    meta = {"task": "layout", "output": "labels", "classes": class_set_to_dict(TinyLabelSet(n=1).classes)}
    with torch.no_grad():
        G.mapping.w_avg.normal_()
    a, _ = sample_layouts(G, meta, 7, seed=10, batch=3, truncation_psi=0.7)
    b, _ = sample_layouts(G, meta, 7, seed=10, batch=7, truncation_psi=0.7)
    c, _ = sample_layouts(G, meta, 3, seed=14, batch=2, truncation_psi=0.7)
    assert torch.equal(a, b) and torch.equal(a[4:], c)
    assert not torch.equal(a[0], a[1])
    with torch.no_grad():
        G.synthesis.blocks[-1].torgb.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 1e3]))
    ones, _ = sample_layouts(G, meta, 2, seed=0)
    assert (ones == 3).all()  # argmax follows the logits


def test_void_class_stands_for_ignore_pixels(tmp_path):
    task = tiny_layout(use_void_class=True, d_input="softmax")
    assert task.nets["G"].cfg.out_channels == 5 and task.nets["D"].cfg.in_channels == 5
    batch = TinyLabelSet().batch(range(2))
    x = task.real_input(batch)
    ignore = batch["label"] == 255
    assert ignore.any() and (x[:, 4][ignore] == 1).all() and (x[:, 4][~ignore] == 0).all()
    torch.testing.assert_close(x.sum(1), torch.ones(2, 32, 64))  # no all-zero pixels left for D to spot
    with torch.no_grad():
        task.nets["G"].synthesis.blocks[-1].torgb.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.0, 1e3]))
    task.nets["G"].eval()
    task.export(tmp_path)
    G, meta = load_generator(tmp_path)
    ids, _ = sample_layouts(G, meta, 2)
    assert meta["void_class"] is True and (ids == 255).all()


def test_sample_images_is_batch_independent():
    torch.manual_seed(0)
    task = image.build(image.Config(**image.PRESETS["tiny"]["task"]), TinyLabelSet(mode="images"))
    G = task.nets["G"].eval()
    a, b = sample_images(G, 5, seed=1, batch=2), sample_images(G, 5, seed=1, batch=5)
    assert a.dtype == torch.uint8 and a.shape == (5, 3, 32, 64)
    # same latents; the grouped conv may pick another kernel for another batch size, so allow float rounding
    # to move a few uint8 values by one level
    diff = (a.int() - b.int()).abs()
    print(f"batch 2 vs 5: max |diff| {int(diff.max())}, {int((diff > 0).sum())} of {diff.numel()} values differ")
    assert diff.max() <= 1 and (diff > 0).float().mean() < 1e-3
    assert not torch.equal(a[0], a[1])


def test_image_task_trains_and_exports(tmp_path):
    torch.manual_seed(0)
    ds = TinyLabelSet(mode="images")
    task = image.build(image.Config(**image.PRESETS["tiny"]["task"]), ds)
    history = run_phases(task, [ds.batch(range(4))], steps=1)
    assert {"loss_G", "loss_D", "r1"} <= set(history[0])
    assert task.sample(task.fixed_inputs(ds, 2, torch.Generator().manual_seed(0))).shape == (2, 3, 32, 64)
    task.export(tmp_path)
    G, meta = load_generator(tmp_path)
    assert meta["task"] == "image" and meta["output"] == "image" and G.cfg.out_channels == 3
    with pytest.raises(ValueError, match="layout generator"):
        sample_layouts(G, meta, 1)


def test_path_lengths_of_a_linear_generator():
    # images = ws @ M per sample: J_w^T y = M y, so the length is |M y| averaged (as squares) over the ws
    torch.manual_seed(0)
    N, num_ws, D, C, H, W = 3, 2, 5, 2, 4, 6
    M = torch.randn(D, C * H * W)
    ws = torch.randn(N, num_ws, D, requires_grad=True)
    images = (ws.sum(1) @ M).reshape(N, C, H, W)
    torch.manual_seed(1)
    lengths = path_lengths(images, ws)
    torch.manual_seed(1)
    y = torch.randn_like(images) / math.sqrt(H * W)
    expected = (y.flatten(1) @ M.T).square().sum(1).sqrt()  # the same gradient reaches every w
    torch.testing.assert_close(lengths, expected)


def test_path_length_phase_trains_g_and_tracks_the_mean():
    task = tiny_layout(pl_weight=2.0)
    batch = TinyLabelSet().batch(range(4))
    for step in range(3):
        loss, scalars = task.loss("Greg", batch)
        assert math.isfinite(float(loss.detach())) and scalars["pl_penalty"] >= 0
        loss.backward()
        grads = [q.grad for q in task.nets["G"].synthesis.parameters() if q.grad is not None]
        assert grads and sum(float(g.abs().sum()) for g in grads) > 0
    assert task.state_dict()["pl_mean"] == scalars["pl_mean"] > 0
    other = tiny_layout(pl_weight=2.0)
    other.load_state_dict(task.state_dict())
    assert float(other.pl_mean) == float(task.pl_mean)
