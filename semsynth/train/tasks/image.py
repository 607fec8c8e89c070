"""Single-stage baseline: the same StyleGAN2 objective trained directly on photos (3 channels in [-1, 1])."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from semsynth.data.labels import to_uint8
from semsynth.losses.diffaug import PHOTO_POLICY, parse_policy
from semsynth.models import stylegan2
from semsynth.models.io import save_pretrained, unwrap
from semsynth.train.task import no_data_options, no_files
from semsynth.train.tasks.adversarial import (AdversarialTask, GANConfig, build_nets, check_regularisers, dataset_name,
                                              diffaug_transforms)

DIFFAUG_POLICY = PHOTO_POLICY  # what `--augment diffaug` sets


@dataclass(frozen=True)
class Config(GANConfig):
    pass  # the StyleGAN2 fields of GANConfig; photos need nothing else


PRESETS: dict[str, dict] = {
    # tiny: no path-length regulariser, as the layout task's tiny preset (see there)
    "tiny": {"task": dict(z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=32, r1_gamma=0.1,
                          pl_weight=0.0),
             "train": dict(batch=8, total_kimg=20, ema_halflife_kimg=1.0)},
    "small": {"task": dict(z_dim=256, w_dim=256, mapping_layers=4, channel_base=8192, channel_max=256, r1_gamma=1.0),
              "train": dict(batch=16, total_kimg=2000, ema_halflife_kimg=5.0)},
    "paper": {"task": dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=16384, channel_max=512, r1_gamma=1.0),
              "train": dict(batch=16, total_kimg=25000, ema_halflife_kimg=10.0)},
}


def data_mode(cfg: Config) -> str:
    return "images"


check_files = no_files  # no local file beyond the data set
data_options = no_data_options


def validate(cfg: Config, dataset=None) -> None:
    check_regularisers(cfg, "image")
    parse_policy(cfg.diffaug, diffaug_transforms(True), "image task")
    if dataset is not None:
        stylegan2.base_size(dataset.size)


class ImageTask(AdversarialTask):
    name = "image"
    data_mode = "images"

    def __init__(self, cfg: Config, dataset):
        validate(cfg, dataset)
        self.cfg = cfg
        self.size = tuple(dataset.size)
        self.dataset_name = dataset_name(dataset)
        super().__init__(*build_nets(cfg, self.size, 3, "stylegan2"), cfg, "stylegan2")

    def real_input(self, batch: dict) -> torch.Tensor:
        return batch["image"]

    def fake_input(self, raw: torch.Tensor) -> torch.Tensor:
        return raw

    @torch.no_grad()
    def sample(self, fixed: dict) -> torch.Tensor:
        return to_uint8(self.sampling_net()(fixed["z"], noise_mode="const")).cpu()

    def export(self, folder) -> None:
        save_pretrained(unwrap(self.sampling_net()), folder, extra={
            "task": "image", "output": "image", "size": list(self.size), "dataset": self.dataset_name})


def build(cfg: Config, dataset) -> ImageTask:
    return ImageTask(cfg, dataset)
