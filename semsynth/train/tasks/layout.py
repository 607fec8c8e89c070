"""Unconditional layout GAN: StyleGAN2 or DCGAN producing semantic label maps.

output "labels": G ends in C class logits. D must not be able to tell reals from fakes by softness alone
(one-hot reals vs softmax fakes are separable by value alone), so `d_input` picks
how both sides are matched:
  "gumbel"   (default) both sides are Gumbel-softmax relaxed samples at `gumbel_temperature`: of the real
             one-hot smoothed to (1 - real_smoothing) * onehot + real_smoothing / C, and of softmax(logits).
             Same noise model on both sides, so only the layouts differ. With real_smoothing 0 (the tiny and
             small presets) reals stay exact one-hot: D then sees G's uncertain pixels, which keeps argmax maps clean.
  "hard-st"  exact one-hot reals vs straight-through Gumbel one-hot fakes (SB-GAN's gumbelSampler).
  "softmax"  exact one-hot reals vs softmax(logits / gumbel_temperature): the trivially separable pair, kept
             for ablations.
Ignore pixels of reals stay the all-zero vector in every mode (`semsynth.data.labels.one_hot`), which fakes never
are: on data sets with many ignore pixels set `use_void_class` (G gets C + 1 outputs and ignore pixels become the
extra "void" class, as SB-GAN's 19 + 1 Cityscapes setting; sampled void pixels map back to ignore).
output "rgb" (the seed project's approach): G emits colour-coded maps in [-1, 1]; reals are the colourised
label maps; samples become ids by the nearest palette colour (`ClassSet.quantize`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from semsynth.classes import class_set_to_dict
from semsynth.data.labels import colorize_batch, from_uint8, logits_to_ids, one_hot, rgb_to_ids
from semsynth.models import dcgan, stylegan2
from semsynth.models.io import save_pretrained, unwrap
from semsynth.train.task import no_data_options, no_files
from semsynth.losses.diffaug import LABEL_POLICY, parse_policy
from semsynth.train.tasks.adversarial import (AdversarialTask, GANConfig, build_nets, check_regularisers, dataset_name,
                                              diffaug_transforms)

ARCHS = ("stylegan2", "dcgan")
OUTPUTS = ("labels", "rgb")
D_INPUTS = ("gumbel", "hard-st", "softmax")
DIFFAUG_POLICY = LABEL_POLICY  # what `--augment diffaug` sets: label maps take no colour transform


@dataclass(frozen=True)
class Config(GANConfig):
    arch: str = "stylegan2"             # "stylegan2" | "dcgan"
    output: str = "labels"              # "labels" (C class logits) | "rgb" (colour-coded 3-channel map)
    d_input: str = "gumbel"             # labels output: D input matching: "gumbel" | "hard-st" | "softmax"
    gumbel_temperature: float = 1.0     # temperature of the Gumbel-softmax relaxation (or of the softmax in "softmax")
    real_smoothing: float = 0.05        # "gumbel": probability mass spread from the real class over all C classes
    use_void_class: bool = False        # labels output: ignore pixels become an extra class C instead of all-zero
    ngf: int = 64                       # DCGAN generator width
    ndf: int = 64                       # DCGAN discriminator width


PRESETS: dict[str, dict] = {
    # tiny: no path-length regulariser. In runs of a few hundred steps its pull towards a running mean that starts
    # at 0 outweighs the adversarial loss (measured: class-share JS 0.34 -> 0.40 in 120 steps instead of -> 0.017)
    # real_smoothing 0 (tiny and small): the 5 % smoothing, relaxed by Gumbel noise, flips ~5 % of the real pixels
    # D sees, so salt-and-pepper in G's argmax hid in D's input noise and grew with training. Measured with
    # tests/train/test_layout_clean_learning.py's loop, 32x64, seed 0, 240 steps (about the demo's 75 s), G_ema,
    # generated / real: smoothing 0.05: boundary 0.90, isolated pixels 3.3 (0.68 at 120 steps), JS 0.019;
    # smoothing 0: boundary 0.80, isolated 0.45, JS 0.018 (temperature 0.3 or d_input hard-st: 0.77 / 0.63, 0.74 / 0.68)
    "tiny": {"task": dict(z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=32, ngf=8, ndf=8,
                          r1_gamma=0.1, pl_weight=0.0, real_smoothing=0.0),
             "train": dict(batch=8, total_kimg=20, ema_halflife_kimg=1.0)},
    "small": {"task": dict(z_dim=256, w_dim=256, mapping_layers=4, channel_base=8192, channel_max=256, ngf=32,
                           ndf=32, r1_gamma=1.0, real_smoothing=0.0),
              "train": dict(batch=16, total_kimg=2000, ema_halflife_kimg=5.0)},
    # stylegan2-ada 'paper256' widths with 8 mapping layers; DCGAN at the published nz 100 and 64 widths
    # (stylegan2-ada-pytorch train.py cfg_specs; pytorch/examples dcgan/main.py)
    "paper": {"task": dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=16384, channel_max=512, ngf=64,
                           ndf=64, r1_gamma=1.0),
              "train": dict(batch=16, total_kimg=25000, ema_halflife_kimg=10.0),
              "variants": {"arch": {"dcgan": {"task": dict(z_dim=100)}}}},
}


def data_mode(cfg: Config) -> str:
    return "labels"


check_files = no_files  # no local file beyond the data set
data_options = no_data_options


def validate(cfg: Config, dataset=None) -> None:
    for name, value, choices in (("arch", cfg.arch, ARCHS), ("output", cfg.output, OUTPUTS),
                                 ("d_input", cfg.d_input, D_INPUTS)):
        if value not in choices:
            raise ValueError(f"layout task: unknown {name} {value!r}; choose from {list(choices)}")
    if cfg.gumbel_temperature <= 0:
        raise ValueError(f"layout task: gumbel_temperature must be > 0, got {cfg.gumbel_temperature}")
    if not 0 <= cfg.real_smoothing < 1:
        raise ValueError(f"layout task: real_smoothing must lie in [0, 1), got {cfg.real_smoothing}")
    check_regularisers(cfg, "layout")
    parse_policy(cfg.diffaug, diffaug_transforms(False), "layout task")
    if dataset is not None:
        if cfg.arch == "dcgan":
            dcgan._num_doublings(dataset.size)
        else:
            stylegan2.base_size(dataset.size)


def gumbel_softmax(log_probs: torch.Tensor, temperature: float, hard: bool = False) -> torch.Tensor:
    """Relaxed categorical sample per pixel over dim 1; hard=True: one-hot forward, soft gradient (straight-through)."""
    u = torch.rand_like(log_probs, dtype=torch.float32).clamp_(1e-10, 1.0 - 1e-7)
    y = ((log_probs.float() - torch.log(-torch.log(u))) / temperature).softmax(dim=1)
    if not hard:
        return y
    y_hard = F.one_hot(y.argmax(dim=1), y.shape[1]).permute(0, 3, 1, 2).to(y.dtype)  # [N, C, H, W]
    return y_hard - y.detach() + y


class LayoutTask(AdversarialTask):
    name = "layout"
    data_mode = "labels"
    d_input_is_photo = False

    def __init__(self, cfg: Config, dataset):
        validate(cfg, dataset)
        self.cfg = cfg
        self.classes = dataset.classes
        self.size = tuple(dataset.size)
        self.dataset_name = dataset_name(dataset)
        self.num_channels = self.classes.num_classes + int(cfg.use_void_class)  # labels output: logits per class
        channels = self.num_channels if cfg.output == "labels" else 3
        super().__init__(*build_nets(cfg, self.size, channels, cfg.arch, use_tanh=cfg.output == "rgb"), cfg, cfg.arch)

    def real_input(self, batch: dict) -> torch.Tensor:
        label = batch["label"]                                                     # [N, H, W] ids
        if self.cfg.output == "rgb":
            return from_uint8(colorize_batch(label, self.classes)).to(label.device)  # [N, 3, H, W]
        C = self.num_channels
        if self.cfg.use_void_class:  # ignore pixels -> the extra last class
            label = torch.where(label == self.classes.ignore_index, torch.full_like(label, C - 1), label)
        hot = one_hot(label, C, self.classes.ignore_index)                         # [N, C, H, W]; ignore -> 0
        eps = self.cfg.real_smoothing
        if self.cfg.d_input != "gumbel" or eps == 0:  # a one-hot is its own Gumbel-softmax sample (log 0 = -inf)
            return hot
        valid = hot.sum(dim=1, keepdim=True)                                       # [N, 1, H, W]; 0 at ignore
        log_p = torch.log(hot * (1 - eps) + eps / C)
        return gumbel_softmax(log_p, self.cfg.gumbel_temperature) * valid

    def fake_input(self, raw: torch.Tensor) -> torch.Tensor:
        if self.cfg.output == "rgb":
            return raw
        T = self.cfg.gumbel_temperature
        if self.cfg.d_input == "gumbel":
            return gumbel_softmax(raw.float().log_softmax(dim=1), T)
        if self.cfg.d_input == "hard-st":
            return gumbel_softmax(raw.float().log_softmax(dim=1), T, hard=True)
        return (raw.float() / T).softmax(dim=1)

    def to_ids(self, raw: torch.Tensor) -> torch.Tensor:
        if self.cfg.output == "labels":
            void = self.classes.num_classes if self.cfg.use_void_class else None
            return logits_to_ids(raw, void, self.classes.ignore_index)
        return rgb_to_ids(raw, self.classes)[0]

    @torch.no_grad()
    def sample(self, fixed: dict) -> torch.Tensor:
        raw = self.sampling_net()(fixed["z"], noise_mode="const")
        return colorize_batch(self.to_ids(raw).cpu(), self.classes)

    def export(self, folder) -> None:
        save_pretrained(unwrap(self.sampling_net()), folder, extra={
            "task": "layout", "output": self.cfg.output, "void_class": self.cfg.use_void_class,
            "classes": class_set_to_dict(self.classes), "size": list(self.size), "dataset": self.dataset_name})


def build(cfg: Config, dataset) -> LayoutTask:
    return LayoutTask(cfg, dataset)
