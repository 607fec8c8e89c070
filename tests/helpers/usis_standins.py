"""Stand-ins for modules written on other branches (synthetic-streets, SPADEGenerator, sis.Config), used by the
USIS / segmenter tests only until those land. They follow the documented interfaces."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from semsynth.classes import get_class_set
from semsynth.data.base import SegmentationDataset

# class id (Cityscapes train ids) -> base colour of its stand-in photo texture
_PALETTE = {10: (70, 130, 180), 2: (90, 90, 90), 0: (120, 60, 120), 1: (230, 40, 220), 13: (20, 20, 160),
            8: (40, 140, 30)}


class StandInStreets(SegmentationDataset):
    """Tiny procedural street scenes: sky, building, vegetation, sidewalk, road bands with random heights and cars
    as rectangles. Photos colour each class with its own tone plus a class-specific texture."""

    def __init__(self, size=(32, 64), mode="paired", seed=0, num_scenes=64, offset=0):
        super().__init__(get_class_set("cityscapes"), size=size, mode=mode, seed=seed)
        self.n, self.offset = num_scenes, offset
        self.name = "stand-in-streets"

    @property
    def num_scenes(self) -> int:
        return self.n

    def scene_name(self, index: int) -> str:
        return f"scene{index + self.offset:05d}"

    def load_label(self, index: int) -> np.ndarray:
        H, W = self.size
        rng = np.random.default_rng([self.seed, index + self.offset])
        label = np.full((H, W), 0, np.uint8)  # road
        sky = int(rng.integers(H // 8, H // 3))
        building = sky + int(rng.integers(H // 8, H // 3))
        sidewalk = building + int(rng.integers(2, H // 6))
        label[:sky] = 10
        label[sky:building] = 2
        split = int(rng.integers(W // 4, 3 * W // 4))
        label[sky:building, split:] = 8
        label[building:sidewalk] = 1
        for _ in range(int(rng.integers(1, 3))):
            x0, w = int(rng.integers(0, W - W // 4)), int(rng.integers(W // 8, W // 4))
            y0, h = min(H - 3, sidewalk + 1), int(rng.integers(H // 8, H // 4))
            label[y0:y0 + h, x0:x0 + w] = 13
        return label

    def load_image(self, index: int) -> np.ndarray:
        label = self.load_label(index)
        rng = np.random.default_rng([self.seed, index + self.offset, 1])
        H, W = label.shape
        img = np.zeros((H, W, 3), np.float32)
        yy, xx = np.mgrid[:H, :W]
        for cid, colour in _PALETTE.items():
            m = label == cid
            texture = 25 * np.sin((xx * (cid % 4 + 1) + yy * (cid % 3)) * 0.9)[m]  # class-specific stripes
            img[m] = np.asarray(colour, np.float32) + texture[:, None]
        img += rng.normal(0, 6, img.shape)
        return np.clip(img, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class StandInConfig:
    """A config carrying usis.Config's fields (and some of the sis command's others), tiny values: UnpairedSIS takes
    any such object (usis.config_of)."""
    mode: str = "unpaired"
    family: str = "oasis"
    ngf: int = 8
    z_dim: int = 8
    use_vae: bool = False
    num_upsampling_layers: str = "normal"
    norm: str = "batch"
    spade_hidden: int = 16
    use_spectral_norm: bool = True
    use_dontcare: bool = False
    use_instance_edges: bool = False
    ndf: int = 8
    num_d: int = 1
    n_layers_d: int = 2
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.0
    beta2: float = 0.99
    lambda_feat: float = 10.0
    lambda_vgg: float = 10.0
    lambda_kld: float = 0.05
    use_vgg: bool = False
    vgg_weights: str | None = None
    # --- unpaired (USIS) ---
    seg_channels: int = 8
    lr_s: float = 1e-3
    lambda_seg: float = 1.0
    lambda_adv: float = 1.0
    wavelet_channels: int = 8
    use_wavelet_d: bool = True
    lambda_wavelet: float = 1.0


class StandInGenerator(nn.Module):
    """G(segmap [N, C, H, W], z [N, z_dim] | None) -> [N, 3, H, W] in [-1, 1]; z replicated over pixels."""

    def __init__(self, label_channels: int, z_dim: int, width: int = 16):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(
            nn.Conv2d(label_channels + z_dim, width, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, width, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 3, 3, padding=1), nn.Tanh())

    def forward(self, segmap: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        N, _, H, W = segmap.shape
        if z is None:
            z = torch.randn(N, self.z_dim, device=segmap.device)
        return self.net(torch.cat([segmap, z[:, :, None, None].expand(N, self.z_dim, H, W)], dim=1))
