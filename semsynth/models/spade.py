"""SPADE normalisation, the SPADE residual block, the SPADE / OASIS generators and SPADE's VAE style encoder.

One generator class covers both published families (S:models/networks/generator.py, O:models/generator.py):
- family "spade" (Park et al. 2019): start from the nearest-downsampled segmap through a 3x3 conv (or from
  z through a Linear when use_vae), head_0, G_middle_0/1, up_0..up_3 (+ up_4 for "most");
- family "oasis" (Sushko et al. 2021, also the USIS generator): a z vector of z_dim replicated over all pixels
  ("3D noise") is concatenated to the segmap; that tensor feeds the first conv and every SPADE; 6 blocks.
The VAE encoder (`ConvEncoder`) is a separate network: the task keeps it next to G (nets["E"]) and the
exported generator is sampled with random z, so G's parameter count equals the published one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from semsynth.models.spectral_norm import raw_weight, spectral_norm

FAMILIES = ("spade", "oasis")
NORMS = ("instance", "batch", "syncbatch")
# SPADE's num_upsampling_layers -> number of x2 upsamplings (S:models/networks/generator.py)
NUM_UPSAMPLINGS = {"normal": 5, "more": 6, "most": 7}


def param_free_norm(kind: str, channels: int) -> nn.Module:
    """Normalisation without learned affine parameters (SPADE supplies gamma and beta)."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=False)
    if kind == "syncbatch":
        # behaves as BatchNorm2d unless torch.distributed is initialised
        return nn.SyncBatchNorm(channels, affine=False)
    raise ValueError(f"unknown norm {kind!r}; choose from {list(NORMS)}")


def maybe_spectral(module: nn.Module, use: bool) -> nn.Module:
    return spectral_norm(module) if use else module


def init_xavier(module: nn.Module, gain: float) -> None:
    """xavier-normal(gain) weights and zero biases on every conv / linear (SPADE and OASIS `init_type=xavier`,
    `init_variance=0.02`). Spectral-normalised weights are initialised through their `original` tensor."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_normal_(raw_weight(m), gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class SPADE(nn.Module):
    """out = norm(x) * (1 + gamma(segmap)) + beta(segmap); segmap resized to x with mode="nearest"."""

    def __init__(self, channels: int, label_channels: int, norm: str = "batch", hidden: int = 128,
                 kernel_size: int = 3):
        super().__init__()
        pad = kernel_size // 2
        self.norm = param_free_norm(norm, channels)
        self.shared = nn.Sequential(nn.Conv2d(label_channels, hidden, kernel_size, padding=pad), nn.ReLU())
        self.gamma = nn.Conv2d(hidden, channels, kernel_size, padding=pad)
        self.beta = nn.Conv2d(hidden, channels, kernel_size, padding=pad)
        self.channels, self.label_channels = channels, label_channels

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        assert C == self.channels and segmap.shape[:2] == (N, self.label_channels), (x.shape, segmap.shape)
        segmap = F.interpolate(segmap, size=(H, W), mode="nearest")  # nearest: label ids must not blend
        actv = self.shared(segmap)
        gamma, beta = self.gamma_beta(actv)
        return self.norm(x) * (1 + gamma) + beta

    def gamma_beta(self, actv: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """gamma(actv), beta(actv) as ONE conv with both weights stacked: the same numbers, but the hidden
        activations are read once forward and backward (SPADE's largest convs; the two modules stay apart in
        the state dict, as the official checkpoints name them)."""
        weight = torch.cat([self.gamma.weight, self.beta.weight])
        bias = torch.cat([self.gamma.bias, self.beta.bias])
        return F.conv2d(actv, weight, bias, padding=self.gamma.padding).chunk(2, dim=1)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, label_channels={self.label_channels}"


class SPADEResBlock(nn.Module):
    """SPADE -> lrelu -> conv3x3, twice; the shortcut is a learned 1x1 conv (no bias) of SPADE_s(x) iff
    fin != fout. Spectral norm on conv_0, conv_1, conv_s only (never inside SPADE)."""

    def __init__(self, fin: int, fout: int, label_channels: int, norm: str = "batch", hidden: int = 128,
                 use_spectral_norm: bool = True, spade_kernel_size: int = 3):
        super().__init__()
        fmiddle = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.conv_0 = maybe_spectral(nn.Conv2d(fin, fmiddle, 3, padding=1), use_spectral_norm)
        self.conv_1 = maybe_spectral(nn.Conv2d(fmiddle, fout, 3, padding=1), use_spectral_norm)
        self.norm_0 = SPADE(fin, label_channels, norm, hidden, spade_kernel_size)
        self.norm_1 = SPADE(fmiddle, label_channels, norm, hidden, spade_kernel_size)
        if self.learned_shortcut:
            self.conv_s = maybe_spectral(nn.Conv2d(fin, fout, 1, bias=False), use_spectral_norm)
            self.norm_s = SPADE(fin, label_channels, norm, hidden, spade_kernel_size)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, segmap)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, segmap), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, segmap), 0.2))
        return x_s + dx


@dataclass(frozen=True)
class SPADEGeneratorConfig:
    label_channels: int = 20               # input channels: one-hot classes (+ don't-care) (+ instance edge)
    family: str = "spade"                  # "spade" (Park et al. 2019) | "oasis" (OASIS / USIS generator)
    ngf: int = 64                          # base width: SPADE `ngf`, OASIS `channels_G` (top blocks have 16 * ngf)
    z_dim: int = 64                        # noise size: OASIS 3D noise 64; SPADE VAE 256; unused by spade w/o VAE
    use_vae: bool = False                  # spade family: start from z through a Linear (z from ConvEncoder)
    num_upsampling_layers: str = "normal"  # spade family: "normal" (5 x2) | "more" (6) | "most" (7); oasis: normal
    norm: str = "batch"                    # SPADE param-free norm: "instance" | "batch" | "syncbatch"
    use_spectral_norm: bool = True         # spectral norm on the residual blocks' convs
    resolution: tuple = (256, 512)         # output (H, W); each divisible by 2^(number of upsamplings)
    spade_hidden: int = 128                # hidden channels of SPADE's shared conv (published: 128)
    spade_kernel_size: int = 3             # kernel of SPADE's three convs (SPADE norm_G "spade<norm>KxK"; published 3)
    init_gain: float = 0.02                # xavier-normal gain of every conv / linear (published: 0.02)


class SPADEGenerator(nn.Module):
    """G(segmap [N, label_channels, H, W], z [N, z_dim] | None) -> photo [N, 3, H, W] in [-1, 1].

    z=None samples z ~ N(0, I) with torch.randn on segmap.device (global RNG: pass z for determinism). The
    oasis family also accepts a spatial z [N, z_dim, H, W] (local editing). A generator that uses no noise
    (family "spade" without VAE) rejects a z rather than ignore it; check `uses_noise`.
    """

    def __init__(self, cfg: SPADEGeneratorConfig):
        super().__init__()
        check_generator_config(cfg)
        self.cfg = cfg
        nf = cfg.ngf
        H, W = cfg.resolution
        self.scale = 2 ** num_upsamplings(cfg)
        self.sh, self.sw = H // self.scale, W // self.scale  # start map at cfg.resolution
        if cfg.family == "spade":
            cond = cfg.label_channels
            if cfg.use_vae:
                self.fc = nn.Linear(cfg.z_dim, 16 * nf * self.sh * self.sw)
            else:
                self.fc = nn.Conv2d(cond, 16 * nf, 3, padding=1)
            block = lambda fin, fout: SPADEResBlock(fin, fout, cond, cfg.norm, cfg.spade_hidden,  # noqa: E731
                                                    cfg.use_spectral_norm, cfg.spade_kernel_size)
            self.head_0 = block(16 * nf, 16 * nf)
            self.G_middle_0 = block(16 * nf, 16 * nf)
            self.G_middle_1 = block(16 * nf, 16 * nf)
            self.up_0 = block(16 * nf, 8 * nf)
            self.up_1 = block(8 * nf, 4 * nf)
            self.up_2 = block(4 * nf, 2 * nf)
            self.up_3 = block(2 * nf, nf)
            final = nf
            if cfg.num_upsampling_layers == "most":
                self.up_4 = block(nf, nf // 2)
                final = nf // 2
        else:
            cond = cfg.label_channels + cfg.z_dim
            channels = [16 * nf, 16 * nf, 16 * nf, 8 * nf, 4 * nf, 2 * nf, nf]
            self.fc = nn.Conv2d(cond, 16 * nf, 3, padding=1)
            self.body = nn.ModuleList(
                SPADEResBlock(channels[i], channels[i + 1], cond, cfg.norm, cfg.spade_hidden, cfg.use_spectral_norm,
                              cfg.spade_kernel_size)
                for i in range(len(channels) - 1))
            final = nf
        self.conv_img = nn.Conv2d(final, 3, 3, padding=1)
        init_xavier(self, cfg.init_gain)

    @property
    def uses_noise(self) -> bool:
        return self.cfg.family == "oasis" or self.cfg.use_vae

    def extra_repr(self) -> str:
        c = self.cfg
        return (f"family={c.family}, label_channels={c.label_channels}, ngf={c.ngf}, z_dim={c.z_dim}, "
                f"use_vae={c.use_vae}, start={self.sh}x{self.sw}, resolution={tuple(c.resolution)}")

    def _check_inputs(self, segmap: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor | None:
        c = self.cfg
        if segmap.dim() != 4:
            raise ValueError(f"segmap must be [N, {c.label_channels}, H, W], got shape {tuple(segmap.shape)}")
        N, C, H, W = segmap.shape
        if C != c.label_channels:
            raise ValueError(f"segmap has {C} channels but the generator was built for label_channels="
                             f"{c.label_channels}")
        if c.use_vae and (H, W) != tuple(c.resolution):
            raise ValueError(f"segmap size {H}x{W} differs from the resolution {tuple(c.resolution)} the VAE "
                             f"generator was built for (its Linear start map is {self.sh}x{self.sw})")
        if H % self.scale or W % self.scale:
            raise ValueError(f"segmap size {H}x{W} must be divisible by 2^k={self.scale} (the generator upsamples "
                             f"its start map k times)")
        if not self.uses_noise:
            if z is not None:
                raise ValueError("this generator takes no noise (family 'spade' without use_vae); pass z=None")
            return None
        if z is None:
            return torch.randn(N, c.z_dim, device=segmap.device, dtype=segmap.dtype)
        spatial_ok = c.family == "oasis" and z.dim() == 4 and tuple(z.shape) == (N, c.z_dim, H, W)
        if not (tuple(z.shape) == (N, c.z_dim) or spatial_ok):
            raise ValueError(f"z must be [N={N}, z_dim={c.z_dim}]" + (f" or [N, z_dim, {H}, {W}]"
                             if c.family == "oasis" else "") + f", got shape {tuple(z.shape)}")
        return z.to(segmap.dtype)

    def forward(self, segmap: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        z = self._check_inputs(segmap, z)
        N, _, H, W = segmap.shape
        if self.cfg.family == "oasis":
            if z.dim() == 2:
                z = z[:, :, None, None].expand(N, self.cfg.z_dim, H, W)  # one vector per image, every pixel
            seg = torch.cat([z, segmap], dim=1)                            # [N, z_dim + label_channels, H, W]
            x = self.fc(F.interpolate(seg, size=(H // self.scale, W // self.scale), mode="nearest"))
            for i, block in enumerate(self.body):
                x = block(x, seg)
                if i < len(self.body) - 1:
                    x = F.interpolate(x, scale_factor=2, mode="nearest")
        else:
            seg = segmap
            if self.cfg.use_vae:
                x = self.fc(z).view(N, 16 * self.cfg.ngf, self.sh, self.sw)
            else:
                x = self.fc(F.interpolate(seg, size=(H // self.scale, W // self.scale), mode="nearest"))
            up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
            x = up(self.head_0(x, seg))
            x = self.G_middle_0(x, seg)
            if self.cfg.num_upsampling_layers in ("more", "most"):
                x = up(x)
            x = up(self.G_middle_1(x, seg))
            x = up(self.up_0(x, seg))
            x = up(self.up_1(x, seg))
            x = up(self.up_2(x, seg))
            x = self.up_3(x, seg)
            if self.cfg.num_upsampling_layers == "most":
                x = self.up_4(up(x), seg)
        x = torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))
        assert x.shape == (N, 3, H, W), x.shape
        return x


def num_upsamplings(cfg: SPADEGeneratorConfig) -> int:
    """Number of x2 upsamplings k: the start map is (H / 2^k, W / 2^k)."""
    return NUM_UPSAMPLINGS[cfg.num_upsampling_layers if cfg.family == "spade" else "normal"]


def check_generator_config(cfg: SPADEGeneratorConfig) -> None:
    """Raise ValueError naming the field for an impossible generator configuration."""
    if cfg.family not in FAMILIES:
        raise ValueError(f"unknown family {cfg.family!r}; choose from {list(FAMILIES)}")
    if cfg.num_upsampling_layers not in NUM_UPSAMPLINGS:
        raise ValueError(f"unknown num_upsampling_layers {cfg.num_upsampling_layers!r}; "
                         f"choose from {list(NUM_UPSAMPLINGS)}")
    if cfg.family == "oasis" and cfg.num_upsampling_layers != "normal":
        raise ValueError("the oasis family always upsamples 5 times: num_upsampling_layers must be 'normal'")
    if cfg.family == "oasis" and cfg.use_vae:
        raise ValueError("use_vae belongs to the spade family; the oasis family draws its own 3D noise")
    if cfg.norm not in NORMS:
        raise ValueError(f"unknown norm {cfg.norm!r}; choose from {list(NORMS)}")
    if cfg.label_channels < 1 or cfg.ngf < 1 or cfg.z_dim < 1:
        raise ValueError(f"label_channels, ngf and z_dim must be positive, got {cfg.label_channels}, "
                         f"{cfg.ngf}, {cfg.z_dim}")
    if cfg.num_upsampling_layers == "most" and cfg.ngf < 2:
        raise ValueError(f"num_upsampling_layers 'most' ends with ngf // 2 channels: ngf must be >= 2, got {cfg.ngf}")
    if cfg.spade_kernel_size < 1 or cfg.spade_kernel_size % 2 == 0:
        raise ValueError(f"spade_kernel_size must be odd and positive (same-size convs), got {cfg.spade_kernel_size}")
    k = num_upsamplings(cfg)
    H, W = cfg.resolution
    if H % 2 ** k or W % 2 ** k:
        raise ValueError(f"resolution {H}x{W} must be divisible by 2^{k}={2 ** k} "
                         f"({cfg.family}, num_upsampling_layers={cfg.num_upsampling_layers!r})")


@dataclass(frozen=True)
class ConvEncoderConfig:
    ndf: int = 64              # width of the first conv (SPADE uses ngf); doubles per layer up to 8 * ndf
    z_dim: int = 256           # size of mu and logvar (SPADE: 256)
    input_size: int = 256      # photos are bilinearly resized to input_size^2; convs stride 2 down to 4x4
    use_spectral_norm: bool = True  # SPADE norm_E "spectralinstance"


class ConvEncoder(nn.Module):
    """SPADE's VAE style encoder: photo [N, 3, H, W] -> (mu, logvar), each [N, z_dim]."""

    def __init__(self, cfg: ConvEncoderConfig):
        super().__init__()
        n = int(round(math.log2(cfg.input_size / 4)))
        if n < 1 or 4 * 2 ** n != cfg.input_size:
            raise ValueError(f"ConvEncoder input_size must be 4 * 2^k (k >= 1), got {cfg.input_size}")
        self.cfg = cfg
        layers, fin = [], 3
        for i in range(n):
            fout = cfg.ndf * min(2 ** i, 8)
            conv = maybe_spectral(nn.Conv2d(fin, fout, 3, stride=2, padding=1, bias=False), cfg.use_spectral_norm)
            layers += [conv, nn.InstanceNorm2d(fout, affine=False), nn.LeakyReLU(0.2)]
            fin = fout
        self.layers = nn.Sequential(*layers)
        self.fc_mu = nn.Linear(fin * 16, cfg.z_dim)
        self.fc_var = nn.Linear(fin * 16, cfg.z_dim)
        init_xavier(self, 0.02)

    def encode(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"ConvEncoder expects photos [N, 3, H, W], got shape {tuple(image.shape)}")
        s = self.cfg.input_size
        if image.shape[2:] != (s, s):
            image = F.interpolate(image, size=(s, s), mode="bilinear", align_corners=False)
        x = self.layers(image).flatten(1)  # [N, C * 4 * 4]
        return self.fc_mu(x), self.fc_var(x)

    forward = encode


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + eps * exp(logvar / 2), eps ~ N(0, I) from the global RNG."""
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
