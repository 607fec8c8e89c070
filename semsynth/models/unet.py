"""U-Net segmentation network: the OASIS discriminator architecture (O:models/discriminator.py), used as the
USIS segmenter S (num_classes + 1 outputs, channel 0 = "fake") and as the evaluation proxy segmenter
(num_classes outputs).

Encoder: `depth` residual blocks, each halving H and W (AvgPool); decoder: `depth` residual blocks, each
doubling H and W (nearest), reading the concatenation of the matching encoder output and the previous decoder
output; final 1x1 conv to `out_channels`. Pre-activation LeakyReLU(0.2), spectral norm on every 3x3 / 1x1 conv
except the final one, no normalisation layers (O:models/discriminator.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from semsynth.models.spectral_norm import raw_weight, spectral_norm


@dataclass(frozen=True)
class UNetConfig:
    in_channels: int = 3               # photo channels
    out_channels: int = 36             # logits per pixel: num_classes + 1 (USIS segmenter) or num_classes (proxy)
    base_channels: int = 128           # encoder widths: base * (1, 1, 2, 2, 4, 4, ...), capped at max_channels
    max_channels: int = 512            # cap of the encoder widths
    depth: int = 6                     # residual down blocks = up blocks; H and W must be divisible by 2**depth
    use_spectral_norm: bool = True     # spectral norm on every conv except the final 1x1
    init_gain: float = 0.0             # xavier-normal gain of every conv, biases 0 (OASIS / USIS S: 0.02);
                                       # 0 = PyTorch's default init

    def encoder_channels(self) -> list[int]:
        """[in, c1, ..., c_depth]; the published config gives [3, 128, 128, 256, 256, 512, 512]."""
        return [self.in_channels] + [min(self.max_channels, self.base_channels * 2 ** (i // 2))
                                     for i in range(self.depth)]

    def last_channels(self) -> int:
        return max(1, self.base_channels // 2)  # 64 in the published config


def auto_depth(size: tuple[int, int], max_depth: int = 6) -> int:
    """Deepest U-Net (<= max_depth) whose bottleneck keeps H, W integral and its short side >= 2."""
    H, W = size
    depth = 0
    while depth < max_depth and H % 2 ** (depth + 1) == 0 and W % 2 ** (depth + 1) == 0 \
            and min(H, W) // 2 ** (depth + 1) >= 2:
        depth += 1
    if depth < 2:
        raise ValueError(f"size {size}: a U-Net needs H and W divisible by 4 with a short side >= 8")
    return depth


class ResBlock(nn.Module):
    """OASIS `residual_block_D`: up (+1), down (-1) or same (0) resolution; learned 1x1 shortcut iff fin != fout."""

    def __init__(self, fin: int, fout: int, updown: int, first: bool, use_sn: bool):
        super().__init__()
        sn = spectral_norm if use_sn else (lambda m: m)
        self.updown, self.first = updown, first
        self.conv1 = sn(nn.Conv2d(fin, fout, 3, 1, 1))
        self.conv2 = sn(nn.Conv2d(fout, fout, 3, 1, 1))
        self.conv_s = sn(nn.Conv2d(fin, fout, 1, 1, 0)) if fin != fout else None

    def extra_repr(self) -> str:
        return f"updown={self.updown}, first={self.first}"

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.updown > 0:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        if self.first and self.updown < 0:  # the first block pools before its 1x1 conv (as OASIS)
            x = F.avg_pool2d(x, 2)
        if self.conv_s is not None:
            x = self.conv_s(x)
        if not self.first and self.updown < 0:
            x = F.avg_pool2d(x, 2)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dx = x if self.first else F.leaky_relu(x, 0.2)  # the first block sees the photo, not an activation
        if self.updown > 0:
            dx = F.interpolate(dx, scale_factor=2.0, mode="nearest")
        dx = self.conv1(dx)
        dx = self.conv2(F.leaky_relu(dx, 0.2))
        if self.updown < 0:
            dx = F.avg_pool2d(dx, 2)
        return self.shortcut(x) + dx


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig = UNetConfig()):
        super().__init__()
        if cfg.depth < 2:
            raise ValueError(f"UNet depth must be >= 2, got {cfg.depth}")
        self.cfg = cfg
        ch = cfg.encoder_channels()
        use_sn = cfg.use_spectral_norm
        self.down = nn.ModuleList(ResBlock(ch[i], ch[i + 1], -1, i == 0, use_sn) for i in range(cfg.depth))
        up = [ResBlock(ch[-1], ch[-2], 1, False, use_sn)]
        for i in range(1, cfg.depth - 1):
            up.append(ResBlock(2 * ch[-1 - i], ch[-2 - i], 1, False, use_sn))
        up.append(ResBlock(2 * ch[1], cfg.last_channels(), 1, False, use_sn))
        self.up = nn.ModuleList(up)
        self.out = nn.Conv2d(cfg.last_channels(), cfg.out_channels, 1)
        if cfg.init_gain > 0:
            self.init_weights(cfg.init_gain)

    def init_weights(self, gain: float) -> None:
        """OASIS `init_networks`: xavier-normal(gain) weights, zero biases (spectral-norm convs: the raw weight)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_normal_(raw_weight(m), gain=gain)
                nn.init.zeros_(m.bias)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        N, C, H, W = image.shape
        k = 2 ** self.cfg.depth
        if C != self.cfg.in_channels or H % k or W % k:
            raise ValueError(f"UNet expects [N, {self.cfg.in_channels}, H, W] with H, W divisible by {k} "
                             f"(depth {self.cfg.depth}), got {tuple(image.shape)}")
        x = image
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = self.up[0](x)
        for i in range(1, len(self.up)):
            x = self.up[i](torch.cat([skips[-1 - i], x], dim=1))  # [N, 2c, h, w]: skip first, as OASIS
        logits = self.out(x)
        assert logits.shape == (N, self.cfg.out_channels, H, W), logits.shape
        return logits
