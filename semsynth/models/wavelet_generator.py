"""USIS's wavelet generator (`--netG wavelet`, U:models/generator.py ResidualWaveletGenerator_1): the OASIS generator
run in the Haar wavelet domain, so that it can shape high frequencies directly (UP §4.2).

Every feature map holds 4C channels at (h, w): the four Haar sub-bands (band-major: LL, LH, HL, HH of C image-domain
channels, as semsynth.models.wavelet) of a C-channel map at (2h, 2w). Differences from the OASIS family of
semsynth.models.spade, all as the official code:
- widths are 4x OASIS's (64 * ngf at the top), and the start map is half OASIS's (H / 64, W / 64);
- SPADE runs in the image domain (`WaveletSPADE`: inverse DWT -> param-free norm -> modulation by the segmap ->
  DWT), so its norm and gamma / beta have C = width / 4 channels;
- each residual block returns its shortcut and its residual separately; between blocks the residual is upsampled
  nearest in the wavelet domain and the shortcut through the image domain (inverse DWT -> bilinear x2 -> DWT), and
  the two are summed; the last block's sum goes through a 1x1 conv to 12 sub-bands, inverse DWT, tanh;
- the shortcut's 1x1 conv reads x directly: the official code builds a `norm_s` SPADE but never calls it, so it is
  left out here (the converter drops its never-trained tensors).
Noise: a z of z_dim per image replicated over all pixels ("3D noise"), concatenated BEFORE the labels, feeding the
first conv and every SPADE (as OASIS).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from semsynth.models.spade import NORMS, SPADE, init_xavier, maybe_spectral
from semsynth.models.wavelet import dwt, idwt

NUM_BLOCKS = 6  # the official generator's depth: 5 x2 upsamplings after a start map of H / 64 x W / 64 sub-bands


@dataclass(frozen=True)
class WaveletSPADEGeneratorConfig:
    label_channels: int = 35         # input channels: one-hot classes (+ don't-care)
    ngf: int = 64                    # USIS `channels_G`: widths 4 * (16, 16, 16, 8, 4, 2, 1) * ngf
    z_dim: int = 64                  # 3D noise size
    norm: str = "batch"              # param-free norm of SPADE: "instance" | "batch" | "syncbatch"
    use_spectral_norm: bool = True   # spectral norm on the blocks' convs (USIS: not no_spectral_norm)
    resolution: tuple = (256, 512)   # output (H, W); each divisible by 64
    spade_hidden: int = 128          # hidden channels of SPADE's shared conv (published: 128)
    spade_kernel: int = 3            # kernel of SPADE's convs (USIS `spade_ks`)
    init_gain: float = 0.02          # xavier-normal gain of every conv (USIS init_variance 0.02)


class WaveletSPADE(SPADE):
    """SPADE applied to the image-domain map behind a wavelet feature map: idwt -> SPADE -> dwt."""

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        return dwt(super().forward(idwt(x), segmap))


class WaveletSPADEResBlock(nn.Module):
    """forward(x, seg) -> (shortcut, residual), both [N, fout, h, w]; the generator combines them (see module doc)."""

    def __init__(self, fin: int, fout: int, cfg: WaveletSPADEGeneratorConfig, label_channels: int):
        super().__init__()
        fmiddle = min(fin, fout)
        sn = cfg.use_spectral_norm
        self.conv_0 = maybe_spectral(nn.Conv2d(fin, fmiddle, 3, padding=1), sn)
        self.conv_1 = maybe_spectral(nn.Conv2d(fmiddle, fout, 3, padding=1), sn)
        self.conv_s = maybe_spectral(nn.Conv2d(fin, fout, 1, bias=False), sn) if fin != fout else None
        spade = lambda c: WaveletSPADE(c // 4, label_channels, cfg.norm, cfg.spade_hidden,  # noqa: E731
                                       cfg.spade_kernel)
        self.norm_0, self.norm_1 = spade(fin), spade(fmiddle)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x_s = x if self.conv_s is None else self.conv_s(x)
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return x_s, dx


class WaveletSPADEGenerator(nn.Module):
    """G(segmap [N, label_channels, H, W], z [N, z_dim] | [N, z_dim, H, W] | None) -> photo [N, 3, H, W] in [-1, 1].

    z=None draws torch.randn(N, z_dim) from the global RNG, as the official forward does."""

    uses_noise = True

    def __init__(self, cfg: WaveletSPADEGeneratorConfig):
        super().__init__()
        check_config(cfg)
        self.cfg = cfg
        nf = 4 * cfg.ngf
        channels = [16 * nf, 16 * nf, 16 * nf, 8 * nf, 4 * nf, 2 * nf, nf]
        cond = cfg.label_channels + cfg.z_dim
        self.fc = nn.Conv2d(cond, channels[0], 3, padding=1)
        self.body = nn.ModuleList(WaveletSPADEResBlock(channels[i], channels[i + 1], cfg, cond)
                                  for i in range(NUM_BLOCKS))
        self.conv_img = nn.Conv2d(nf, 3 * 4, 1)  # to the 4 sub-bands of RGB
        init_xavier(self, cfg.init_gain)

    def extra_repr(self) -> str:
        c = self.cfg
        return f"label_channels={c.label_channels}, ngf={c.ngf}, z_dim={c.z_dim}, resolution={tuple(c.resolution)}"

    def _noise(self, segmap: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        c = self.cfg
        if segmap.dim() != 4 or segmap.shape[1] != c.label_channels:
            raise ValueError(f"segmap must be [N, {c.label_channels}, H, W], got shape {tuple(segmap.shape)}")
        N, _, H, W = segmap.shape
        if H % 64 or W % 64:
            raise ValueError(f"segmap size {H}x{W} must be divisible by 64 (a start map of H/64 x W/64 sub-bands, "
                             "upsampled 5 times, then one inverse DWT)")
        if z is None:
            z = torch.randn(N, c.z_dim, dtype=segmap.dtype, device=segmap.device)
        if tuple(z.shape) == (N, c.z_dim):
            return z.to(segmap.dtype)[:, :, None, None].expand(N, c.z_dim, H, W)  # one vector per image
        if tuple(z.shape) != (N, c.z_dim, H, W):
            raise ValueError(f"z must be [N={N}, z_dim={c.z_dim}] or [N, z_dim, {H}, {W}], got {tuple(z.shape)}")
        return z.to(segmap.dtype)

    def forward(self, segmap: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        N, _, H, W = segmap.shape
        seg = torch.cat([self._noise(segmap, z), segmap], dim=1)           # [N, z_dim + labels, H, W]
        x = self.fc(F.interpolate(seg, size=(H // 64, W // 64), mode="nearest"))
        for i, block in enumerate(self.body):
            x_s, x = block(x, seg)
            if i < len(self.body) - 1:
                up_s = dwt(F.interpolate(idwt(x_s), scale_factor=2, mode="bilinear", align_corners=False))
                x = F.interpolate(x, scale_factor=2, mode="nearest") + up_s
        x = torch.tanh(idwt(self.conv_img(x + x_s)))
        assert x.shape == (N, 3, H, W), x.shape
        return x


def check_config(cfg: WaveletSPADEGeneratorConfig) -> None:
    """Raise ValueError naming the field for an impossible configuration."""
    if cfg.norm not in NORMS:
        raise ValueError(f"unknown norm {cfg.norm!r}; choose from {list(NORMS)}")
    if cfg.label_channels < 1 or cfg.ngf < 1 or cfg.z_dim < 1 or cfg.spade_hidden < 1:
        raise ValueError(f"label_channels, ngf, z_dim and spade_hidden must be positive, got {cfg.label_channels}, "
                         f"{cfg.ngf}, {cfg.z_dim}, {cfg.spade_hidden}")
    if cfg.spade_kernel < 1 or cfg.spade_kernel % 2 == 0:
        raise ValueError(f"spade_kernel must be odd (same-size convs), got {cfg.spade_kernel}")
    H, W = cfg.resolution
    if H % 64 or W % 64:
        raise ValueError(f"resolution {H}x{W} must be divisible by 64 (5 x2 upsamplings of a wavelet start map)")
