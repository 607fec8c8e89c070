"""StyleGAN2 (config-F networks as in NVlabs/stylegan2-ada-pytorch training/networks.py) in plain PyTorch.

Generator = `mapping` (z -> ws) + `synthesis` ('skip' architecture: every block adds its toRGB output to the
FIR-upsampled running image). Discriminator = 'resnet' blocks + minibatch-stddev epilogue.
Non-square outputs (e.g. 1:2 street scenes) start from a non-square constant (4x8), as the eps696/stylegan2ada
fork does; block channel counts follow the short side: channels(r) = min(channel_base // r, channel_max).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from semsynth.models.layers import (Conv2dLayer, FullyConnected, MinibatchStd, SynthesisLayer, ToRGBLayer,
                                    normalize_2nd_moment, setup_filter, upsample2d)
from semsynth.models.shapes import assert_shape


def base_size(resolution) -> tuple[tuple[int, int], int]:
    """(H, W) -> ((h0, w0), num_doublings): the short side starts at 4 and doubles up to the output size."""
    H, W = (int(v) for v in resolution)
    short = min(H, W)
    n = int(round(math.log2(short / 4))) if short >= 4 else -1
    if n < 0 or 4 << n != short or H % (1 << n) or W % (1 << n):
        raise ValueError(f"resolution {(H, W)}: the short side must be 4 * 2^k and the long side a multiple of "
                         f"2^k (e.g. 32x64, 64x64, 256x512)")
    return (H >> n, W >> n), n


def channels_at(r: int, channel_base: int, channel_max: int) -> int:
    return min(channel_base // r, channel_max)


# ------------------------------------------------------------------------------------------------- generator
@dataclass(frozen=True)
class GeneratorConfig:
    z_dim: int = 512                    # latent z size
    w_dim: int = 512                    # intermediate latent w size (also the mapping's hidden width)
    mapping_layers: int = 8             # FC layers z -> w (8 in the paper configs, 2 in stylegan2-ada 'auto')
    mapping_lr_mul: float = 0.01        # equalised-lr multiplier of the mapping network
    resolution: tuple = (256, 512)      # output (H, W); short side 4 * 2^k, long side a multiple of 2^k
    out_channels: int = 3               # 3 for photos, C for class-logit layouts
    channel_base: int = 16384           # channels(r) = min(channel_base // r, channel_max), r = short side
    channel_max: int = 512              # cap on channels per layer
    w_avg_beta: float = 0.995           # decay of the tracked mean w used by truncation
    conv_clamp: float = 0.0             # clamp conv outputs to +-this (0 = off; 256 in the fp16 paper configs)


class MappingNetwork(nn.Module):
    """z [N, z_dim] -> ws [N, num_ws, w_dim]; tracks `w_avg` in training mode for truncation."""

    def __init__(self, z_dim: int, w_dim: int, num_ws: int, num_layers: int, lr_mul: float, w_avg_beta: float):
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws, self.w_avg_beta = z_dim, w_dim, num_ws, w_avg_beta
        dims = [z_dim] + [w_dim] * num_layers
        self.layers = nn.ModuleList(FullyConnected(dims[i], dims[i + 1], activation="lrelu", lr_mul=lr_mul)
                                    for i in range(num_layers))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, update_w_avg: bool = True,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        """Truncation pulls ws toward `w_avg`: all of them, or only ws[:, :truncation_cutoff] (the coarse layers)
        when a cutoff is given, as stylegan2-ada's mapping does. w_avg is only updated in training mode."""
        assert_shape(z, [None, self.z_dim], "z")
        x = normalize_2nd_moment(z)
        for layer in self.layers:
            x = layer(x)
        if self.training and update_w_avg:
            self.w_avg.copy_(x.detach().float().mean(0).lerp(self.w_avg, self.w_avg_beta))
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)                                   # [N, num_ws, w_dim]
        if truncation_psi != 1:
            cut = self.num_ws if truncation_cutoff is None else truncation_cutoff
            truncated = self.w_avg.to(ws.dtype).lerp(ws[:, :cut], truncation_psi)
            ws = torch.cat([truncated, ws[:, cut:]], dim=1)
        return ws


class SynthesisBlock(nn.Module):
    """One resolution: (const | conv0 up) + conv1 + toRGB; the running image is FIR-upsampled and summed."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, size: tuple[int, int], img_channels: int,
                 is_first: bool, conv_clamp: float, w_index: int):
        super().__init__()
        self.is_first, self.size, self.w_index = is_first, tuple(size), w_index
        if is_first:
            self.const = nn.Parameter(torch.randn(out_channels, *size))
            self.conv0 = None
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, size, up=2, conv_clamp=conv_clamp,
                                        w_index=w_index)
        self.num_conv = 1 if is_first else 2
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, size, conv_clamp=conv_clamp,
                                    w_index=w_index + self.num_conv - 1)
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp,
                                w_index=w_index + self.num_conv)
        self.register_buffer("resample_filter", setup_filter(), persistent=False)

    def forward(self, x, img, ws: torch.Tensor, noise_mode: str):
        # ws: [N, num_conv + 1, w_dim]; the toRGB w is shared with the next block's conv0 (stylegan2-ada indexing)
        if self.is_first:
            x = self.const.to(ws.dtype).unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
            x = self.conv1(x, ws[:, 0], noise_mode)
        else:
            x = self.conv0(x, ws[:, 0], noise_mode)
            x = self.conv1(x, ws[:, 1], noise_mode)
        y = self.torgb(x, ws[:, self.num_conv])
        img = y if img is None else upsample2d(img, self.resample_filter).add_(y)
        return x, img


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> image/logits [N, out_channels, H, W]."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        (h0, w0), n = base_size(cfg.resolution)
        self.resolution, self.out_channels, self.w_dim = tuple(cfg.resolution), cfg.out_channels, cfg.w_dim
        blocks, w_index, in_ch = [], 0, 0
        for i in range(n + 1):
            out_ch = channels_at(4 << i, cfg.channel_base, cfg.channel_max)
            block = SynthesisBlock(in_ch, out_ch, cfg.w_dim, (h0 << i, w0 << i), cfg.out_channels, i == 0,
                                   cfg.conv_clamp, w_index)
            blocks.append(block)
            w_index += block.num_conv
            in_ch = out_ch
        self.blocks = nn.ModuleList(blocks)
        self.num_ws = w_index + 1  # + the last block's toRGB

    def forward(self, ws: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        assert_shape(ws, [None, self.num_ws, self.w_dim], "ws")
        x = img = None
        for block in self.blocks:
            x, img = block(x, img, ws[:, block.w_index: block.w_index + block.num_conv + 1], noise_mode)
        assert_shape(img, [ws.shape[0], self.out_channels, *self.resolution], "synthesis output")
        return img


class Generator(nn.Module):
    """G(z) -> [N, out_channels, H, W] (RGB in about [-1, 1], or class logits)."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        self.synthesis = SynthesisNetwork(cfg)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(cfg.z_dim, cfg.w_dim, self.num_ws, cfg.mapping_layers, cfg.mapping_lr_mul,
                                      cfg.w_avg_beta)

    @property
    def z_dim(self) -> int:
        return self.cfg.z_dim

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, noise_mode: str = "random",
                mix_z: torch.Tensor | None = None, mix_cutoff: int | None = None, return_ws: bool = False,
                truncation_cutoff: int | None = None):
        """Style mixing (training): ws[:, mix_cutoff:] come from `mix_z` (a second mapping pass that does not
        update w_avg). It lives in forward so DDP sees every parameter used through the wrapped call, as do the
        ws that `return_ws` returns beside the output (for the path-length regulariser). `truncation_cutoff`: see
        MappingNetwork.forward."""
        ws = self.mapping(z, truncation_psi, truncation_cutoff=truncation_cutoff)
        if mix_z is not None and mix_cutoff is not None and mix_cutoff < self.num_ws:
            ws2 = self.mapping(mix_z, truncation_psi, update_w_avg=False, truncation_cutoff=truncation_cutoff)
            ws = torch.cat([ws[:, :mix_cutoff], ws2[:, mix_cutoff:]], dim=1)
        out = self.synthesis(ws, noise_mode)
        return (out, ws) if return_ws else out


# ------------------------------------------------------------------------------------------------- discriminator
@dataclass(frozen=True)
class DiscriminatorConfig:
    resolution: tuple = (256, 512)      # input (H, W), same rules as the generator
    in_channels: int = 3                # 3 for photos, C for one-hot / soft layouts
    channel_base: int = 16384           # channels(r) = min(channel_base // r, channel_max)
    channel_max: int = 512              # cap on channels per layer
    mbstd_group: int = 4                # minibatch-stddev group size (min(group, N) is used; N must divide by it)
    mbstd_channels: int = 1             # minibatch-stddev feature maps
    conv_clamp: float = 0.0             # clamp conv outputs (0 = off)


class DiscriminatorBlock(nn.Module):
    """Residual block: [fromRGB] -> conv 3x3 -> conv 3x3 down2, plus a 1x1 down2 skip; both branches * sqrt(0.5)."""

    def __init__(self, tmp_channels: int, out_channels: int, img_channels: int, is_first: bool, conv_clamp: float):
        super().__init__()
        self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation="lrelu", conv_clamp=conv_clamp) \
            if is_first else None
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation="lrelu", conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation="lrelu", down=2, conv_clamp=conv_clamp)
        self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, down=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fromrgb is not None:
            x = self.fromrgb(x)
        y = self.skip(x)
        x = self.conv1(self.conv0(x))
        return (x + y) * math.sqrt(0.5)


class Discriminator(nn.Module):
    """D(x [N, in_channels, H, W]) -> logits [N, 1]."""

    def __init__(self, cfg: DiscriminatorConfig):
        super().__init__()
        self.cfg = cfg
        (h0, w0), n = base_size(cfg.resolution)
        ch = [channels_at(4 << i, cfg.channel_base, cfg.channel_max) for i in range(n + 1)]  # ch[i] at short side 4*2^i
        self.blocks = nn.ModuleList(
            DiscriminatorBlock(ch[i], ch[i - 1], cfg.in_channels, i == n, cfg.conv_clamp) for i in range(n, 0, -1))
        c4 = ch[0]
        self.fromrgb = Conv2dLayer(cfg.in_channels, c4, 1, activation="lrelu") if n == 0 else None  # 4x4 input
        self.mbstd = MinibatchStd(cfg.mbstd_group, cfg.mbstd_channels) if cfg.mbstd_channels > 0 else None
        self.conv = Conv2dLayer(c4 + cfg.mbstd_channels, c4, 3, activation="lrelu", conv_clamp=cfg.conv_clamp)
        self.fc = FullyConnected(c4 * h0 * w0, c4, activation="lrelu")
        self.out = FullyConnected(c4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert_shape(x, [None, self.cfg.in_channels, *self.cfg.resolution], "discriminator input")
        if self.fromrgb is not None:
            x = self.fromrgb(x)
        for block in self.blocks:
            x = block(x)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)
        return self.out(self.fc(x.flatten(1)))
