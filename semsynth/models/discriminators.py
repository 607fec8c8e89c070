"""SPADE's multi-scale PatchGAN discriminator (pix2pixHD style), S:models/networks/discriminator.py.

Input is concat(segmap, photo) [N, label_channels + 3, H, W]; the output is, per scale, the list of every
layer's output: intermediate features (for feature matching) and, last, the patch logits [N, 1, h, w].
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from semsynth.models.spectral_norm import raw_weight, spectral_norm


@dataclass(frozen=True)
class MultiscalePatchDiscriminatorConfig:
    label_channels: int = 20        # segmap channels concatenated to the photo
    ndf: int = 64                   # width of the first conv; doubles per layer up to 512
    num_d: int = 2                  # number of scales (each a PatchGAN on a 2x avg-pooled input)
    n_layers_d: int = 4             # strided / normalised 4x4 conv layers per scale (SPADE n_layers_D)
    use_spectral_norm: bool = True  # spectral norm on the middle convs (SPADE norm_D "spectralinstance")
    image_channels: int = 3         # photo channels


class PatchDiscriminator(nn.Module):
    """SPADE NLayerDiscriminator: conv s2 + lrelu; (n_layers_d - 1) x [SN conv (s2, last s1) + IN + lrelu];
    conv 1-channel. The first and last convs carry neither SN nor IN, as in the official code."""

    def __init__(self, in_channels: int, ndf: int, n_layers: int, use_spectral_norm: bool):
        super().__init__()
        sn = spectral_norm if use_spectral_norm else (lambda m: m)
        nf = ndf
        layers = [nn.Sequential(nn.Conv2d(in_channels, nf, 4, stride=2, padding=2), nn.LeakyReLU(0.2))]
        for n in range(1, n_layers):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            layers.append(nn.Sequential(sn(nn.Conv2d(nf_prev, nf, 4, stride=stride, padding=2, bias=False)),
                                        nn.InstanceNorm2d(nf, affine=False), nn.LeakyReLU(0.2)))
        layers.append(nn.Conv2d(nf, 1, 4, stride=1, padding=2))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for layer in self.layers:
            x = layer(x)
            feats.append(x)
        return feats


class MultiscalePatchDiscriminator(nn.Module):
    """D(concat(segmap, photo)) -> [scale][layer] outputs; `[s][-1]` are the patch logits of scale s."""

    def __init__(self, cfg: MultiscalePatchDiscriminatorConfig):
        super().__init__()
        if cfg.num_d < 1 or cfg.n_layers_d < 1 or cfg.ndf < 1 or cfg.label_channels < 1:
            raise ValueError(f"num_d, n_layers_d, ndf and label_channels must be positive, got {cfg}")
        self.cfg = cfg
        in_channels = cfg.label_channels + cfg.image_channels
        self.scales = nn.ModuleList(PatchDiscriminator(in_channels, cfg.ndf, cfg.n_layers_d, cfg.use_spectral_norm)
                                    for _ in range(cfg.num_d))
        for m in self.modules():  # xavier-normal gain 0.02, zero biases (SPADE init_type=xavier)
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_normal_(raw_weight(m), gain=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        expected = self.cfg.label_channels + self.cfg.image_channels
        if x.dim() != 4 or x.shape[1] != expected:
            raise ValueError(f"discriminator input must be concat(segmap, photo) [N, {expected}, H, W] "
                             f"(label_channels={self.cfg.label_channels} + {self.cfg.image_channels}), "
                             f"got shape {tuple(x.shape)}")
        outputs = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
            outputs.append(d(x))
        return outputs

    def extra_repr(self) -> str:
        c = self.cfg
        return f"label_channels={c.label_channels}, ndf={c.ndf}, num_d={c.num_d}, n_layers_d={c.n_layers_d}"
