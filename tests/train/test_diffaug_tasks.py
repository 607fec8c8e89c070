"""--augment diffaug: every discriminator input of the image, layout and sis tasks goes through DiffAugment
(layouts: spatial transforms only; SPADE: one draw for the label map and both photos of a pair), the generator's
gradient passes through it, and it is off by default."""
import dataclasses
import json
import sys
from pathlib import Path

import pytest
import torch

from semsynth.cli.main import main
from semsynth.losses import diffaug
from semsynth.train.tasks import adversarial, image, layout, sis, spade, usis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.paired_standin import PairedStandIn, collate  # noqa: E402
from helpers.tiny_sets import TinyLabelSet  # noqa: E402
from helpers.usis_standins import StandInConfig, StandInGenerator, StandInStreets  # noqa: E402


@pytest.fixture
def calls(monkeypatch):
    """Every diff_augment call of the adversarial and USIS tasks: (photo given, label given, policy)."""
    seen = []

    def spy(photo=None, label=None, policy=(), generator=None):
        seen.append((photo is not None, label is not None, tuple(policy)))
        return diffaug.diff_augment(photo, label, policy, generator)
    monkeypatch.setattr(adversarial, "diff_augment", spy)
    monkeypatch.setattr(usis, "diff_augment", spy)
    return seen


def image_task(policy):
    torch.manual_seed(0)
    cfg = image.Config(**{**image.PRESETS["tiny"]["task"], "diffaug": policy})
    return image.build(cfg, TinyLabelSet(mode="images"))


def layout_task(policy):
    torch.manual_seed(0)
    return layout.build(layout.Config(**{**layout.PRESETS["tiny"]["task"], "diffaug": policy}), TinyLabelSet())


def test_image_task_augments_every_d_input_and_the_gradient_reaches_g(calls):
    task = image_task("color,translation,cutout")
    data = TinyLabelSet(mode="images")
    batch = data.batch(range(4))
    task.loss("D", batch)
    assert calls == [(True, False, ("color", "translation", "cutout"))] * 2  # real and fake
    task.loss("Dreg", batch)
    assert len(calls) == 3
    loss, _ = task.loss("G", batch)
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in task.nets["G"].parameters())


def test_layout_task_takes_only_spatial_transforms(calls):
    task = layout_task("translation,cutout")
    task.loss("D", TinyLabelSet().batch(range(4)))
    assert calls == [(False, True, ("translation", "cutout"))] * 2
    with pytest.raises(ValueError, match="layout task.*color"):
        layout_task("color,translation")


def test_off_by_default_d_sees_the_inputs_as_they_are(monkeypatch):
    task = image_task("")
    seen = []
    D = task.nets["D"]
    monkeypatch.setitem(task.nets, "D", lambda x: seen.append(x) or D(x))
    batch = TinyLabelSet(mode="images").batch(range(4))
    task.loss("D", batch)
    assert torch.equal(seen[0], batch["image"])
    task = image_task("translation")
    D = task.nets["D"]
    monkeypatch.setitem(task.nets, "D", lambda x: seen.append(x) or D(x))
    task.loss("D", batch)
    assert not torch.equal(seen[-2], batch["image"])


def test_spade_d_sees_label_and_photos_under_one_draw(monkeypatch):
    data = PairedStandIn(n=4, size=(32, 64), num_classes=5)
    cfg = sis.Config(**{**sis.PRESETS["tiny"]["task"], "norm": "instance", "diffaug": "color,translation,cutout"})
    torch.manual_seed(0)
    task = sis.build(cfg, data)
    assert isinstance(task, spade.PairedSIS)
    drawn, seen = [], []
    monkeypatch.setattr(spade, "draw", lambda *a, **k: drawn.append(diffaug.draw(*a, **k)) or drawn[-1])
    D = task.nets["D"]
    monkeypatch.setitem(task.nets, "D", lambda x: seen.append(x) or D(x))
    batch = collate([data[i] for i in range(4)])
    task.loss("D", batch)
    (params,), (x,) = drawn, seen
    segmap = task.segmap(batch)
    want_real, want_map = diffaug.apply(params, batch["image"], segmap)
    C = segmap.shape[1]
    assert torch.allclose(x[4:, C:], want_real) and torch.equal(x[4:, :C], want_map)  # real pair
    assert torch.equal(x[:4, :C], want_map)  # the fake pair sees the same label map
    assert not torch.equal(want_map, segmap)


def test_usis_dw_sees_augmented_photos(calls):
    data = StandInStreets(size=(32, 64), mode="unpaired", num_scenes=4)
    cfg = dataclasses.replace(usis.config_of(StandInConfig()), diffaug="color,cutout")
    task = usis.UnpairedSIS(cfg, data, generator=StandInGenerator(data.classes.num_classes, cfg.z_dim))
    batch = {k: torch.stack([data[i][k] for i in range(4)]) for k in ("label", "image")}
    for phase in ("G", "S", "Dw", "Dreg"):
        task.loss(phase, batch)
    assert calls == [(True, False, ("color", "cutout"))] * 4  # G: fake; S: none; Dw: real + fake; Dreg: real


def test_augment_diffaug_on_the_command_line_trains_and_is_recorded(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "image", "--augment", "diffaug", "--size", "32x64", "--steps", "1", "--batch", "2",
                 "--workers", "0", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["task_config"]["diffaug"] == diffaug.PHOTO_POLICY and config["data"]["augment"] is False
    assert main(["train", "segmenter", "--augment", "diffaug", "--out", str(tmp_path / "seg")]) == 2
