"""Fine-tuning a converted official SPADE: `--init-from` machinery on the spade-cityscapes fixture. The converted
folder's G and its `discriminator/` start a paired SIS task of the same sizes, which then trains a few steps."""
from dataclasses import replace

import torch

from semsynth.cli.main import main
from semsynth.data.labels import boundary_edges
from semsynth.models.io import from_pretrained, read_meta
from semsynth.train.config import task_config_obj
from semsynth.train.init_from import init_nets
from semsynth.train.tasks import sis
from tests.convert.fixtures import fixture_case
from tests.helpers.loop import run_phases
from tests.helpers.paired_standin import PairedStandIn, collate


def test_a_converted_spade_fine_tunes_from_its_g_and_d(tmp_path):
    folder = tmp_path / "spade"
    assert main(["convert", "spade", str(fixture_case("spade-cityscapes")), "--out", str(folder)]) == 0
    meta = read_meta(folder)
    H, W = meta["size"]
    data = PairedStandIn(n=4, size=(H, W), num_classes=35)  # 35 ids + the edge channel, as the converted G takes
    cfg = replace(task_config_obj("sis", meta["task_config"]), use_vgg=False, norm="batch")
    torch.manual_seed(0)
    task = sis.build(cfg, data)
    loaded = init_nets(task.nets, task.ema_source, folder)
    assert set(loaded) == {"G", "D"}  # D from discriminator/, matched by its architecture
    converted = from_pretrained(folder)
    assert all(torch.equal(task.nets["G"].state_dict()[k], v) for k, v in converted.state_dict().items())

    batch = collate([data[i] for i in range(2)])
    batch["edges"] = boundary_edges(batch["label"])
    history = run_phases(task, [batch], steps=3)
    assert all(torch.isfinite(torch.tensor(list(h.values()))).all() for h in history)
    changed = [k for k, v in converted.state_dict().items()
               if v.is_floating_point() and not torch.equal(task.nets["G"].state_dict()[k], v)]
    assert changed, "three training steps left every weight of the converted G as it was"
