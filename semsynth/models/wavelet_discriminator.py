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

from semsynth.models.layers import Conv2dLayer, FullyConnected, MinibatchStd, downsample2d, setup_filter
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


def conv_layer(fin: int, fout: int, kernel: int, downsample: bool = False) -> Conv2dLayer:
    """rosinality's ConvLayer (EqualConv2d + FusedLeakyReLU; `downsample` = [1, 3, 3, 1] blur, then a stride-2
    conv) is stylegan2-ada's Conv2dLayer with down=2: the same padding (2 before the blur), filter and stride."""
    return Conv2dLayer(fin, fout, kernel, activation="lrelu", down=2 if downsample else 1)


class ConvBlock(nn.Module):
    def __init__(self, fin: int, fout: int):
        super().__init__()
        self.conv1 = conv_layer(fin, fin, 3)
        self.conv2 = conv_layer(fin, fout, 3, downsample=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


class FromWavelet(nn.Module):
    """SWAGAN FromRGB: optionally carry the wavelet input down one level, then 1x1 conv, added to `skip`."""

    def __init__(self, fin: int, fout: int, downsample: bool, use_wavelet: bool):
        super().__init__()
        self.downsample, self.use_wavelet = downsample, use_wavelet
        self.conv = conv_layer(fin, fout, 1)
        self.register_buffer("blur_filter", setup_filter(), persistent=False)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.downsample:
            if self.use_wavelet:
                x = dwt(downsample2d(idwt(x), self.blur_filter))  # blur [1, 3, 3, 1], keep every 2nd pixel
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
        self.mbstd = MinibatchStd(cfg.stddev_group, any_batch=True)
        self.final_conv = conv_layer(fouts[-1] + 1, fouts[-1], 3)
        fh, fw = H // k, W // k
        self.final_linear = nn.Sequential(FullyConnected(fouts[-1] * fh * fw, fouts[-1], activation="lrelu"),
                                          FullyConnected(fouts[-1], 1))
        self.register_load_state_dict_pre_hook(rename_old_keys)

    def to_bands(self, image: torch.Tensor) -> torch.Tensor:
        return dwt(image) if self.cfg.use_wavelet else F.pixel_unshuffle(image, 2)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] -> one logit per image [N]."""
        x, out, _ = self.trunk(image)
        _, out = self.from_last(x, out)
        out = self.final_conv(self.mbstd(out))
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


def rename_old_keys(module, state_dict, prefix, *args) -> None:
    """Checkpoints written before the discriminator shared models/layers.py name a conv layer's tensors
    `<layer>.conv.weight` and `<layer>.act.bias`; they are now `<layer>.weight` and `<layer>.bias` (same values,
    same order, so optimizer states still match). Renames them in place so such runs resume."""
    own = {prefix + k for k in module.state_dict()}
    for key in [k for k in state_dict if k.startswith(prefix) and k not in own]:
        for old, new in ((".conv.weight", ".weight"), (".act.bias", ".bias")):
            renamed = key[:-len(old)] + new
            if key.endswith(old) and renamed in own:
                state_dict[renamed] = state_dict.pop(key)
