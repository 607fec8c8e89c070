"""`semsynth train segmenter`: a U-Net trained on real (photo, label) pairs with pixel cross-entropy. It is the
mIoU proxy segmenter of `semsynth evaluate miou` (the papers' DRN / UperNet / DeepLab are not obtainable offline).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from semsynth.classes import class_set_to_dict
from semsynth.data.labels import colorize_batch, to_uint8
from semsynth.losses.segmentation import balanced_cross_entropy
from semsynth.models.io import save_pretrained, unwrap
from semsynth.models.unet import UNet, UNetConfig, auto_depth
from semsynth.train.task import Phase, Task, no_data_options, no_files


@dataclass(frozen=True)
class Config:
    base_channels: int = 32            # U-Net encoder widths base * (1, 1, 2, 2, 4, 4); OASIS D: 128
    max_channels: int = 512            # cap of the encoder widths
    depth: int = 0                     # down/up blocks; 0 = auto (up to 6, bottleneck short side >= 2)
    use_spectral_norm: bool = False    # spectral norm as the OASIS D; off: a plain segmenter trains faster
    use_class_balance: bool = False    # OASIS class-balanced CE instead of plain mean CE over labelled pixels
    lr: float = 1e-3                   # Adam learning rate
    beta1: float = 0.9                 # Adam beta1
    beta2: float = 0.999               # Adam beta2


PRESETS: dict[str, dict] = {
    "tiny": {"task": {"base_channels": 8, "max_channels": 32}, "train": {"batch": 8, "total_kimg": 2}},
    "small": {"task": {"base_channels": 32, "max_channels": 128}, "train": {"batch": 16, "total_kimg": 200}},
    "paper": {"task": {"base_channels": 128, "max_channels": 512, "depth": 6, "lr": 4e-4},
              "train": {"batch": 20, "total_kimg": 600}},
}


def data_mode(cfg: Config) -> str:
    return "paired"


check_files = no_files  # no local file beyond the data set
data_options = no_data_options


def depth_for(cfg: Config, size: tuple[int, int]) -> int:
    return cfg.depth or auto_depth(size)


def validate(cfg: Config, dataset) -> None:
    if getattr(dataset, "mode", "paired") != "paired":
        raise ValueError(f"the segmenter trains on paired (photo, label) items; got data set mode {dataset.mode!r}")
    H, W = dataset.size
    depth = depth_for(cfg, (H, W))
    if H % 2 ** depth or W % 2 ** depth:
        raise ValueError(f"size {H}x{W}: a U-Net of depth {depth} needs H and W divisible by {2 ** depth}")
    if cfg.lr <= 0:
        raise ValueError(f"lr must be > 0, got {cfg.lr}")


def build(cfg: Config, dataset) -> "SegmenterTask":
    validate(cfg, dataset)
    return SegmenterTask(cfg, dataset)


class SegmenterTask(Task):
    name = "segmenter"
    data_mode = "paired"
    ema_source = None

    def __init__(self, cfg: Config, dataset):
        super().__init__()
        self.cfg = cfg
        self.classes = dataset.classes
        self.size = tuple(dataset.size)
        self.nets["S"] = UNet(UNetConfig(
            in_channels=3, out_channels=self.classes.num_classes, base_channels=cfg.base_channels,
            max_channels=cfg.max_channels, depth=depth_for(cfg, self.size), use_spectral_norm=cfg.use_spectral_norm))

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"S": torch.optim.Adam(self.nets["S"].parameters(), lr=self.cfg.lr,
                                      betas=(self.cfg.beta1, self.cfg.beta2))}

    def optimizer_nets(self) -> dict[str, list[str]]:
        return {"S": ["S"]}

    def phases(self) -> list[Phase]:
        return [Phase("S", "S")]

    def loss(self, phase: str, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        if phase != "S":
            raise ValueError(f"unknown phase {phase!r}; the segmenter has ['S']")
        logits = self.nets["S"](batch["image"])  # [N, C, H, W]
        loss = balanced_cross_entropy(logits, batch["label"], self.classes.ignore_index, self.cfg.use_class_balance)
        return loss, {"S/ce": loss.item()}

    def fixed_inputs(self, dataset, n: int, generator: torch.Generator) -> dict:
        idx = torch.randperm(len(dataset), generator=generator)[:n].tolist()
        items = [dataset[i] for i in idx]
        return {"image": torch.stack([it["image"] for it in items]),
                "label": torch.stack([it["label"] for it in items])}

    @torch.no_grad()
    def sample(self, fixed: dict) -> torch.Tensor:
        """uint8 [3n, 3, H, W]: n photos, their colourised predictions, then the true layouts (three grid rows)."""
        net = self.nets["S"]
        was_training = net.training
        net.eval()
        try:
            pred = net(fixed["image"]).argmax(1)  # [N, H, W]
        finally:
            net.train(was_training)
        return torch.cat([to_uint8(fixed["image"]).cpu(), colorize_batch(pred, self.classes),
                          colorize_batch(fixed["label"], self.classes)])

    def export(self, folder) -> None:
        save_pretrained(unwrap(self.nets["S"]), folder, extra={
            "task": "segmenter", "classes": class_set_to_dict(self.classes), "size": list(self.size)})
