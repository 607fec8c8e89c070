"""Whole-image wavelet discriminator of USIS (UP §5.2, Fig. 4; U:models/discriminator.py:WaveletDiscriminator),
which is SWAGAN's discriminator (rosinality/stylegan2-pytorch swagan.py): it judges a photo in the Haar wavelet
domain and returns one logit per image. It never sees the label map.

Layout (published Cityscapes config, input 256x512): DWT -> 12 ch @ 128x256; FromRGB (1x1) -> 64 ch; 6 ConvBlocks
(3x3 conv, then blur + stride-2 3x3 conv) -> 256 @ 64x128, 512 @ 32x64 ... 512 @ 2x4; before every later block the
wavelet input is carried down one level (IWT -> blur [1,3,3,1] with stride 2 -> DWT), turned into features by a
1x1 FromRGB and added to the running features; minibatch stddev -> 3x3 conv -> EqualLinear(512) -> EqualLinear(1).
Channels at (image-domain long side) r: min(max_channels, channel_base / r), i.e. 512 up to r = 64, 256 @ 128,
128 @ 256, 64 @ 512. Equalised learning rate and fused LeakyReLU(0.2) * sqrt(2) as StyleGAN2.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from semsynth.models.wavelet import dwt, idwt


@dataclass(frozen=True)
class WaveletDiscriminatorConfig:
    in_channels: int = 3                   # photo channels
    resolution: tuple[int, int] = (256, 512)  # (H, W) of the photos; both divisible by 2 ** (num_blocks + 1)
    channel_base: int = 32768              # channels at long side r = min(max_channels, channel_base // r)
    max_channels: int = 512                # cap of the channel map
    final_side: int = 4                    # long side of the last feature map (SWAGAN: 4)
    stddev_group: int = 4                  # minibatch-stddev group size (largest divisor of N not above it)
    use_wavelet: bool = True               # False = the "Whole" ablation: pixel-unshuffle / avg-pool replace the DWT


def _key(resolution: tuple[int, int]) -> int:
    # SWAGAN's "size": the long side rounded to a power of two
    return 2 ** round(math.log2(max(resolution)))


def num_blocks(cfg: WaveletDiscriminatorConfig) -> int:
    return int(math.log2(_key(cfg.resolution) // cfg.final_side)) - 1


class FusedLeakyReLU(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return F.leaky_relu(x + self.bias.view(shape), 0.2) * math.sqrt(2)


class EqualConv2d(nn.Module):
    """Conv with weights ~ N(0, 1) scaled by 1/sqrt(fan_in) at run time (equalised learning rate)."""

    def __init__(self, fin: int, fout: int, kernel: int, stride: int = 1, padding: int = 0, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fout, fin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(fout)) if bias else None
        self.scale, self.stride, self.padding = 1 / math.sqrt(fin * kernel * kernel), stride, padding

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        return f"{i}, {o}, kernel={k}, stride={self.stride}, padding={self.padding}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, self.stride, self.padding)


class EqualLinear(nn.Module):
    def __init__(self, fin: int, fout: int, activate: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fout, fin))
        self.bias = nn.Parameter(torch.zeros(fout))
        self.scale, self.activate = 1 / math.sqrt(fin), activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.linear(x, self.weight * self.scale)
        if self.activate:
            return F.leaky_relu(out + self.bias, 0.2) * math.sqrt(2)
        return out + self.bias


def blur(x: torch.Tensor, pad: tuple[int, int], stride: int = 1) -> torch.Tensor:
    """Depthwise [1, 3, 3, 1] x [1, 3, 3, 1] / 64 FIR filter with padding (before, after) on both axes."""
    k = torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=x.dtype, device=x.device)
    k = torch.outer(k, k) / 64
    C = x.shape[1]
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    return F.conv2d(x, k.expand(C, 1, 4, 4), stride=stride, groups=C)


class ConvLayer(nn.Module):
    """EqualConv2d + fused LeakyReLU; `downsample` = blur then stride-2 conv (StyleGAN2)."""

    def __init__(self, fin: int, fout: int, kernel: int, downsample: bool = False):
        super().__init__()
        self.downsample = downsample
        stride, padding = (2, 0) if downsample else (1, kernel // 2)
        self.conv = EqualConv2d(fin, fout, kernel, stride, padding, bias=False)
        self.act = FusedLeakyReLU(fout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample:
            x = blur(x, (2, 2))  # 4-tap blur + 3x3 stride 2: H -> H / 2
        return self.act(self.conv(x))


class ConvBlock(nn.Module):
    def __init__(self, fin: int, fout: int):
        super().__init__()
        self.conv1 = ConvLayer(fin, fin, 3)
        self.conv2 = ConvLayer(fin, fout, 3, downsample=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


class FromWavelet(nn.Module):
    """SWAGAN FromRGB: optionally carry the wavelet input down one level, then 1x1 conv, added to `skip`."""

    def __init__(self, fin: int, fout: int, downsample: bool, use_wavelet: bool):
        super().__init__()
        self.downsample, self.use_wavelet = downsample, use_wavelet
        self.conv = ConvLayer(fin, fout, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.downsample:
            if self.use_wavelet:
                x = dwt(blur(idwt(x), (1, 1), stride=2))
            else:
                x = F.avg_pool2d(x, 2)
        out = self.conv(x)
        return x, (out if skip is None else out + skip)


class WaveletDiscriminator(nn.Module):
    def __init__(self, cfg: WaveletDiscriminatorConfig = WaveletDiscriminatorConfig()):
        super().__init__()
        self.cfg = cfg
        n = num_blocks(cfg)
        if n < 1:
            raise ValueError(f"WaveletDiscriminator: resolution {cfg.resolution} is too small for final_side "
                             f"{cfg.final_side}")
        H, W = cfg.resolution
        k = 2 ** (n + 1)
        if H % k or W % k:
            raise ValueError(f"WaveletDiscriminator: resolution {cfg.resolution} must be divisible by {k} "
                             f"({n} blocks after one DWT)")

        def ch(r: float) -> int:
            return int(min(cfg.max_channels, cfg.channel_base // r))

        key = _key(cfg.resolution)
        bands = 4 * cfg.in_channels
        # SWAGAN: the first FromRGB has channels[size]; block j then maps to channels[size / 2 ** (j + 2)]
        fins = [ch(key)] + [ch(key / 2 ** (j + 1)) for j in range(1, n)]
        fouts = [ch(key / 2 ** (j + 2)) for j in range(n)]
        self.from_wavelets = nn.ModuleList(FromWavelet(bands, fins[j], j > 0, cfg.use_wavelet) for j in range(n))
        self.convs = nn.ModuleList(ConvBlock(fins[j], fouts[j]) for j in range(n))
        self.from_last = FromWavelet(bands, fouts[-1], True, cfg.use_wavelet)
        self.final_conv = ConvLayer(fouts[-1] + 1, fouts[-1], 3)
        fh, fw = H // k, W // k
        self.final_linear = nn.Sequential(EqualLinear(fouts[-1] * fh * fw, fouts[-1], activate=True),
                                          EqualLinear(fouts[-1], 1, activate=False))

    def to_bands(self, image: torch.Tensor) -> torch.Tensor:
        return dwt(image) if self.cfg.use_wavelet else F.pixel_unshuffle(image, 2)

    def minibatch_stddev(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        group = max(g for g in range(1, min(N, self.cfg.stddev_group) + 1) if N % g == 0)
        y = x.view(group, -1, 1, C, H, W)                           # [G, N/G, F=1, C, H, W]
        y = torch.sqrt(y.float().var(0, unbiased=False) + 1e-8)   # [N/G, 1, C, H, W]
        y = y.mean([2, 3, 4], keepdim=True).squeeze(2)            # [N/G, 1, 1, 1]
        y = y.to(x.dtype).repeat(group, 1, H, W)                  # [N, 1, H, W]
        return torch.cat([x, y], dim=1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] -> one logit per image [N]."""
        x, out, _ = self.trunk(image)
        _, out = self.from_last(x, out)
        out = self.final_conv(self.minibatch_stddev(out))
        logits = self.final_linear(out.flatten(1))
        assert logits.shape == (image.shape[0], 1), logits.shape
        return logits.squeeze(1)

    def features(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The output of every conv block, full size first (USIS `netDu(image, for_features=True)`)."""
        return self.trunk(image)[2]

    def trunk(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """(wavelet input carried down to the last level, running features, every conv block's output)."""
        if image.dim() != 4 or tuple(image.shape[1:]) != (self.cfg.in_channels, *self.cfg.resolution):
            raise ValueError(f"WaveletDiscriminator expects [N, {self.cfg.in_channels}, "
                             f"{self.cfg.resolution[0]}, {self.cfg.resolution[1]}], got {tuple(image.shape)}")
        x = self.to_bands(image)                                  # [N, 4*3, H/2, W/2]
        out, features = None, []
        for from_wavelet, conv in zip(self.from_wavelets, self.convs):
            x, out = from_wavelet(x, out)
            out = conv(out)
            features.append(out)
        return x, out, features
