"""A toy task module for engine tests: a tiny unconditional GAN on 16x32 synthetic pictures, with G, D and a lazy
R1 phase (interval 2), a NaN-injection option, and a tiny in-memory data set whose items depend on the epoch."""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

from semsynth.models.io import state_dict_for_saving
from semsynth.data import DATASETS
from semsynth.train.task import Phase, Task, no_data_options, no_files
from semsynth.train.tasks import TASKS



@dataclass(frozen=True)
class Config:
    channels: int = 8                  # feature channels of G and D
    z_dim: int = 8                     # latent size
    lr: float = 2e-3                   # Adam learning rate of G and D
    r1_gamma: float = 0.1              # R1 weight; the Dreg phase runs every r1_interval steps
    r1_interval: int = 2               # lazy regularisation interval
    nan_steps: tuple[int, ...] = ()    # G-phase calls (0-based) whose loss is NaN
    use_batchnorm: bool = False        # BatchNorm in G (exercises SyncBatchNorm under DDP)


PRESETS = {
    "tiny": {"task": {}, "train": {"batch": 4, "total_steps": 6, "num_workers": 0, "sample_count": 4,
                                   "ema_halflife_kimg": 0.01}},
    "small": {"task": {"channels": 16}, "train": {"batch": 8, "total_kimg": 0.1}},
}


def data_mode(cfg: Config) -> str:
    return "images"


check_files = no_files
data_options = no_data_options


def validate(cfg: Config, dataset) -> None:
    if cfg.channels < 1:
        raise ValueError(f"channels must be >= 1, got {cfg.channels}")


class ToyDataset(torch.utils.data.Dataset):
    """`n` smooth random pictures [3, 16, 32] in [-1, 1]; with augment, a flip drawn from (seed, epoch, index)."""

    def __init__(self, n: int = 10, size=(16, 32), seed: int = 0, augment: bool = True, **_):
        g = torch.Generator().manual_seed(seed)
        base = torch.rand(n, 3, size[0] // 4, size[1] // 4, generator=g) * 2 - 1
        self.images = F.interpolate(base, size=tuple(size), mode="bilinear", align_corners=False)
        self.size, self.seed, self.augment, self.epoch = tuple(size), seed, augment, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        image = self.images[i]
        if self.augment and np.random.default_rng([self.seed, self.epoch, i]).random() < 0.5:
            image = image.flip(-1)
        return {"image": image.clone(), "name": f"toy{i:03d}"}


def make_dataset(root=None, split="train", size=(16, 32), mode="images", seed=0, augment=True, **_):
    if root is not None and not Path(root).is_dir():  # like a real reader whose files are missing
        raise FileNotFoundError(f"toy data set: root {root} does not exist")
    return ToyDataset(n=10, size=size, seed=seed, augment=augment)


class Generator(nn.Module):
    def __init__(self, z_dim: int, ch: int, size, use_batchnorm: bool):
        super().__init__()
        self.z_dim, self.ch, self.h, self.w = z_dim, ch, size[0] // 4, size[1] // 4
        self.fc = nn.Linear(z_dim, ch * self.h * self.w)
        self.norm = nn.BatchNorm2d(ch) if use_batchnorm else nn.Identity()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, 3, 3, padding=1)

    def forward(self, z):
        x = self.fc(z).view(-1, self.ch, self.h, self.w)  # [N, C, H/4, W/4]
        x = F.leaky_relu(self.norm(x), 0.2)
        x = F.leaky_relu(self.conv1(F.interpolate(x, scale_factor=2)), 0.2)
        return torch.tanh(self.conv2(F.interpolate(x, scale_factor=2)))  # [N, 3, H, W]


class Discriminator(nn.Module):
    def __init__(self, ch: int, size):
        super().__init__()
        self.conv1 = nn.Conv2d(3, ch, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
        self.fc = nn.Linear(ch * (size[0] // 4) * (size[1] // 4), 1)

    def forward(self, x):
        x = F.leaky_relu(self.conv1(x), 0.2)
        x = F.leaky_relu(self.conv2(x), 0.2)
        return self.fc(x.flatten(1))  # [N, 1]


class ToyTask(Task):
    name = "toy"
    data_mode = "images"
    ema_source = "G"

    def __init__(self, cfg: Config, dataset):
        super().__init__()
        self.cfg = cfg
        self.nets = {"G": Generator(cfg.z_dim, cfg.channels, dataset.size, cfg.use_batchnorm),
                     "D": Discriminator(cfg.channels, dataset.size)}
        self.g_calls = 0

    def optimizers(self):
        return {name: torch.optim.Adam(self.nets[name].parameters(), lr=self.cfg.lr, betas=(0.0, 0.99))
                for name in ("G", "D")}

    def optimizer_nets(self):
        return {"G": ["G"], "D": ["D"]}

    def phases(self):
        return [Phase("G", "G"), Phase("D", "D"), Phase("Dreg", "D", interval=self.cfg.r1_interval)]

    def loss(self, phase, batch):
        real = batch["image"]
        z = torch.randn(len(real), self.cfg.z_dim, device=real.device)
        if phase == "G":
            loss = F.softplus(-self.nets["D"](self.nets["G"](z))).mean()
            if self.g_calls in self.cfg.nan_steps:
                loss = loss * float("nan")
            self.g_calls += 1
            return loss, {"loss": loss.item()}
        if phase == "D":
            with torch.no_grad():
                fake = self.nets["G"](z)
            loss = F.softplus(self.nets["D"](fake)).mean() + F.softplus(-self.nets["D"](real)).mean()
            return loss, {"loss": loss.item()}
        real = real.detach().requires_grad_(True)
        out = self.nets["D"](real)
        (grad,) = torch.autograd.grad(out.sum(), real, create_graph=True)
        r1 = grad.square().sum([1, 2, 3]).mean()
        # + 0 * out: the final bias has no R1 gradient; this keeps every parameter in DDP's graph
        loss = r1 * (self.cfg.r1_gamma / 2 * self.cfg.r1_interval) + 0 * out.sum()
        return loss, {"r1": r1.item()}

    def fixed_inputs(self, dataset, n, generator):
        return {"z": torch.randn(n, self.cfg.z_dim, generator=generator)}

    @torch.no_grad()
    def sample(self, fixed):
        img = self.nets["G_ema"](fixed["z"])
        return ((img + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)

    def export(self, folder):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file(state_dict_for_saving(self.nets["G_ema"]), str(folder / "model.safetensors"))
        (folder / "config.json").write_text(json.dumps({"arch": "toy", "z_dim": self.cfg.z_dim}))


def build(cfg: Config, dataset) -> ToyTask:
    return ToyTask(cfg, dataset)


def register(setitem=None) -> None:
    """Make `toy` a task and a data set; `setitem` is pytest's monkeypatch.setitem (default: plain assignment)."""
    put = setitem or (lambda d, k, v: d.__setitem__(k, v))
    put(TASKS, "toy", sys.modules[__name__])  # imported as `toy_task` from tests/train (see conftest.py, run_toy.py)
    put(DATASETS, "toy", make_dataset)


def subprocess_env(**extra) -> dict:
    """Environment for a child Python: this checkout's semsynth first on the path, one thread."""
    root = str(Path(__file__).resolve().parents[2])
    path = [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(path), **extra}
