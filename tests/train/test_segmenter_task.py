import dataclasses
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: a site-packages `tests` shadows ours
from helpers.usis_standins import StandInStreets  # noqa: E402

from semsynth.inference.segment import load_segmenter, segment  # noqa: E402
from semsynth.train.tasks import segmenter  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return StandInStreets(size=(32, 64), mode="paired", num_scenes=6)


def tiny_cfg():
    return segmenter.Config(base_channels=4, max_channels=8)


def test_module_contract(data):
    fields = {f.name for f in dataclasses.fields(segmenter.Config)}
    assert set(segmenter.PRESETS) == {"tiny", "small", "paper"}
    for preset in segmenter.PRESETS.values():
        assert set(preset["task"]) <= fields and {"batch", "total_kimg"} <= set(preset["train"])
    assert segmenter.data_mode(segmenter.Config()) == "paired"
    task = segmenter.build(tiny_cfg(), data)
    assert task.ema_source is None and task.name == "segmenter"
    assert task.nets["S"].cfg.out_channels == data.classes.num_classes
    assert [p.name for p in task.phases()] == ["S"] and task.optimizer_nets() == {"S": ["S"]}


def test_validate_rejects_unpaired_and_bad_depth():
    with pytest.raises(ValueError, match="paired"):
        segmenter.validate(tiny_cfg(), StandInStreets(size=(32, 64), mode="unpaired", num_scenes=4))
    with pytest.raises(ValueError, match="divisible by 64"):
        segmenter.validate(dataclasses.replace(tiny_cfg(), depth=6), StandInStreets(size=(32, 64), num_scenes=4))


def test_loss_ignores_ignore_pixels_and_sample(data):
    task = segmenter.build(tiny_cfg(), data)
    items = [data[i] for i in range(2)]
    batch = {k: torch.stack([it[k] for it in items]) for k in ("label", "image")}
    loss, scalars = task.loss("S", batch)
    logits = task.nets["S"](batch["image"])
    masked = batch["label"].clone()
    masked[:, :4] = 255
    loss_masked, _ = task.loss("S", {"image": batch["image"], "label": masked})
    keep = masked != 255
    expected = F.cross_entropy(logits.permute(0, 2, 3, 1)[keep], masked[keep])
    assert loss_masked.item() == pytest.approx(expected.item(), rel=1e-5)
    assert scalars["S/ce"] == pytest.approx(loss.item())
    fixed = task.fixed_inputs(data, 2, torch.Generator().manual_seed(0))
    grid = task.sample(fixed)
    assert grid.dtype == torch.uint8 and grid.shape == (6, 3, 32, 64)


def test_export_load_and_segment(data, tmp_path):
    torch.manual_seed(0)
    task = segmenter.build(tiny_cfg(), data)
    task.nets["S"].eval()
    task.export(tmp_path / "run" / "model")
    images = torch.stack([data[i]["image"] for i in range(3)])
    expected = task.nets["S"](images).argmax(1)
    for where in (tmp_path / "run" / "model", tmp_path / "run"):
        model = load_segmenter(where)
        assert model.meta["size"] == [32, 64] and model.meta["task"] == "segmenter"
        pred = segment(model, images, batch=2)
        assert pred.dtype == torch.long and torch.equal(pred, expected)
    # other sizes: resized to the training size (bilinear), predictions back with nearest
    big = F.interpolate(images, size=(64, 128), mode="bilinear", align_corners=False)
    pred_big = segment(model, big)
    small = model(F.interpolate(big, size=(32, 64), mode="bilinear", align_corners=False)).argmax(1)
    assert torch.equal(pred_big, F.interpolate(small[:, None].float(), size=(64, 128))[:, 0].long())


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning", "ignore::FutureWarning")
def test_torchscript_segmenter(data, tmp_path):
    task = segmenter.build(tiny_cfg(), data)
    net = task.nets["S"].eval()
    images = torch.stack([data[i]["image"] for i in range(2)])
    torch.jit.trace(net, images).save(str(tmp_path / "seg.pt"))
    model = load_segmenter(tmp_path / "seg.pt", trust_torchscript=True)
    assert torch.equal(segment(model, images), net(images).argmax(1))


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_load_and_segment_errors(data, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_segmenter(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="train segmenter"):
        load_segmenter(tmp_path / "empty")
    (tmp_path / "junk.pt").write_bytes(b"not torchscript")
    with pytest.raises(ValueError, match="not a TorchScript"):
        load_segmenter(tmp_path / "junk.pt", trust_torchscript=True)
    net = segmenter.build(tiny_cfg(), data).nets["S"]
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        segment(net, torch.full((1, 3, 32, 64), 200.0))
    with pytest.raises(ValueError, match="float images"):
        segment(net, torch.zeros(1, 3, 32, 64, dtype=torch.uint8))
