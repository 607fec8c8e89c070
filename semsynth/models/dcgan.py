"""DCGAN (Radford et al. 2015; pytorch/examples dcgan/main.py) for 64x64 and non-square 64x128 outputs.

Non-square maps start from a 4x8 (instead of 4x4) first transposed conv, and D ends in a 4x8 valid conv.
Call signature matches the StyleGAN2 generator: G(z, truncation_psi) where truncation scales z toward its mean
(0): z * psi, the simplest analogue of StyleGAN2's w-space truncation. DCGAN has no noise inputs, so
`noise_mode` is accepted and ignored. BatchNorm uses batch statistics in train() and running statistics in
eval(), so sampling in eval() makes each sample independent of its batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from semsynth.models.shapes import assert_shape
from semsynth.models.stylegan2 import base_size


def _init_weights(module: nn.Module) -> None:
    # DCGAN init: conv weights N(0, 0.02); BN weight N(1, 0.02), bias 0 (dcgan/main.py weights_init)
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _num_doublings(resolution) -> tuple[tuple[int, int], int]:
    (h0, w0), n = base_size(resolution)
    if n < 1 or min(h0, w0) != 4:
        raise ValueError(f"DCGAN resolution {tuple(resolution)}: short side must be at least 8 (e.g. 64x64, 64x128)")
    return (h0, w0), n


@dataclass(frozen=True)
class GeneratorConfig:
    z_dim: int = 100                    # latent size (nz)
    resolution: tuple = (64, 64)        # output (H, W): short side 4 * 2^k; 64x128 starts from a 4x8 map
    out_channels: int = 3               # 3 for photos, C for class-logit layouts
    ngf: int = 64                       # channels of the last hidden layer; doubled per step toward 4x4
    use_tanh: bool = True               # tanh output (photos / colour-coded maps); False = raw logits


class Generator(nn.Module):
    """G(z [N, z_dim]) -> [N, out_channels, H, W]."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        (h0, w0), n = _num_doublings(cfg.resolution)
        chans = [cfg.ngf * 2 ** (n - 1 - i) for i in range(n)]  # 64x64: 512, 256, 128, 64
        layers = [nn.ConvTranspose2d(cfg.z_dim, chans[0], (h0, w0), 1, 0, bias=False),
                  nn.BatchNorm2d(chans[0]), nn.ReLU(True)]
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        layers.append(nn.ConvTranspose2d(chans[-1], cfg.out_channels, 4, 2, 1, bias=False))
        if cfg.use_tanh:
            layers.append(nn.Tanh())
        self.main = nn.Sequential(*layers)
        _init_weights(self)

    @property
    def z_dim(self) -> int:
        return self.cfg.z_dim

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, noise_mode: str = "random") -> torch.Tensor:
        assert_shape(z, [None, self.cfg.z_dim], "z")
        x = self.main((z * truncation_psi)[:, :, None, None])
        assert_shape(x, [z.shape[0], self.cfg.out_channels, *self.cfg.resolution], "DCGAN output")
        return x


@dataclass(frozen=True)
class DiscriminatorConfig:
    resolution: tuple = (64, 64)        # input (H, W)
    in_channels: int = 3                # 3 for photos, C for layouts
    ndf: int = 64                       # channels of the first layer; doubled per step down to 4x4


class Discriminator(nn.Module):
    """D(x) -> logits [N, 1] (the sigmoid lives in the logistic loss: BCE on logits)."""

    def __init__(self, cfg: DiscriminatorConfig):
        super().__init__()
        self.cfg = cfg
        (h0, w0), n = _num_doublings(cfg.resolution)
        chans = [cfg.ndf * 2 ** i for i in range(n)]  # 64x64: 64, 128, 256, 512
        layers = [nn.Conv2d(cfg.in_channels, chans[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(chans[-1], 1, (h0, w0), 1, 0, bias=False))
        self.main = nn.Sequential(*layers)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert_shape(x, [None, self.cfg.in_channels, *self.cfg.resolution], "discriminator input")
        return self.main(x).flatten(1)
