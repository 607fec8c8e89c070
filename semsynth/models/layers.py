"""StyleGAN2 building blocks in plain PyTorch ops (no CUDA extension): equalised-lr layers, bias + activation,
FIR resampling, minibatch stddev, modulated convolution (fused or not), noise injection. The one copy of
these in the package: the wavelet discriminator (rosinality's SWAGAN layers) is built from them too.

Follows NVlabs/stylegan2-ada-pytorch training/networks.py and torch_utils/ops/{upfirdn2d,conv2d_resample,bias_act}.py.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2)  # keeps activations at unit variance through lrelu (bias_act def_gain)


def bias_act(x: torch.Tensor, b: torch.Tensor | None, activation: str = "linear", clamp: float = 0.0,
             dim: int = 1, inplace: bool = False) -> torch.Tensor:
    """x + b (broadcast along `dim`), then linear or lrelu(0.2) * sqrt(2), then clamp to +-clamp (0 = off).

    The clamp bounds the output after the gain, as stylegan2-ada's bias_act does (conv_clamp 256 -> |x| <= 256).
    inplace: the caller owns x (a fresh conv output); without autograd the four passes then reuse its memory
    instead of allocating four new activations (at 256x256 each allocation page-faults anew)."""
    if inplace and not needs_autograd(x, b):
        return _bias_act_(x, b, activation, clamp, dim)
    if b is not None:
        x = x + b.to(x.dtype).reshape([-1 if i == dim else 1 for i in range(x.dim())])
    if activation == "lrelu":  # lrelu(x) * g = lrelu(x * g) for g > 0: scale the new tensor, then lrelu in place,
        # so autograd keeps one activation (lrelu's result) instead of two
        x = F.leaky_relu_(x.mul_(LRELU_GAIN) if b is not None else x * LRELU_GAIN, LRELU_SLOPE)
    elif activation != "linear":
        raise ValueError(f"unknown activation {activation!r}; choose from ['linear', 'lrelu']")
    if clamp > 0:
        x = x.clamp(-clamp, clamp)
    return x


def needs_autograd(*tensors: torch.Tensor) -> bool:
    """Whether autograd records ops on these tensors (in-place updates are then off limits)."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors if t is not None)


def _bias_act_(x: torch.Tensor, b: torch.Tensor | None, activation: str, clamp: float, dim: int) -> torch.Tensor:
    if b is not None:
        x.add_(b.to(x.dtype).reshape([-1 if i == dim else 1 for i in range(x.dim())]))
    if activation == "lrelu":
        F.leaky_relu_(x.mul_(LRELU_GAIN), LRELU_SLOPE)
    elif activation != "linear":
        raise ValueError(f"unknown activation {activation!r}; choose from ['linear', 'lrelu']")
    if clamp > 0:
        x.clamp_(-clamp, clamp)
    return x


# ------------------------------------------------------------------------------------------------ FIR resampling
def setup_filter(taps=(1, 3, 3, 1)) -> torch.Tensor:
    """Separable FIR taps -> normalised 2-D filter [fh, fw] (outer product, sum 1)."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = f[:, None] * f[None, :]
    return f / f.sum()


def upfirdn2d(x: torch.Tensor, f: torch.Tensor, up: int = 1, down: int = 1, padding=(0, 0, 0, 0),
              gain: float = 1.0) -> torch.Tensor:
    """Upsample by zero insertion, pad (px0, px1, py0, py1; negative crops), filter with `f`, keep every
    `down`-th pixel. Same semantics as stylegan2-ada's `_upfirdn2d_ref`; the filter is a depthwise conv2d.
    An even, non-negative padding (the x2 resampling convs' case) is left to the conv, saving a padded copy."""
    N, C, H, W = x.shape
    px0, px1, py0, py1 = padding
    if up > 1:
        x = x.reshape(N, C, H, 1, W, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])    # [N, C, H, up, W, up] zeros after each pixel
        x = x.reshape(N, C, H * up, W * up)
    fh, fw = f.shape
    weight = (f * gain).flip([0, 1]).to(x.dtype)[None, None].expand(C, 1, fh, fw)  # [C, 1, fh, fw]
    if px0 == px1 >= 0 and py0 == py1 >= 0:
        return F.conv2d(x, weight, groups=C, stride=down, padding=(py0, px0))
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    return F.conv2d(x, weight, groups=C, stride=down)


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2) -> torch.Tensor:
    """x2 FIR upsampling; output [N, C, H*up, W*up]; gain up^2 keeps the mean."""
    fw = f.shape[-1]
    p0, p1 = (fw + up - 1) // 2, (fw - up) // 2
    return upfirdn2d(x, f, up=up, padding=(p0, p1, p0, p1), gain=up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor, down: int = 2) -> torch.Tensor:
    """x2 FIR downsampling; output [N, C, H/down, W/down]."""
    fw = f.shape[-1]
    p0, p1 = (fw - down + 1) // 2, (fw - down) // 2
    return upfirdn2d(x, f, down=down, padding=(p0, p1, p0, p1))


def conv2d_resample(x: torch.Tensor, w: torch.Tensor, f: torch.Tensor | None = None, up: int = 1, down: int = 1,
                    padding: int = 0, groups: int = 1) -> torch.Tensor:
    """2-D conv with optional x2 up (strided transposed conv, then FIR) or x2 down (FIR, then strided conv), as
    stylegan2-ada's conv2d_resample fast paths. w: [C_out, C_in / groups, kh, kw]."""
    if up > 1 and down > 1:
        raise ValueError("conv2d_resample: up and down together are not supported")
    if up == 1 and down == 1:
        return F.conv2d(x, w, padding=padding, groups=groups)
    c_out, c_in_g, kh, kw = w.shape
    fw = f.shape[-1]
    if up > 1:
        p0 = padding + (fw + up - 1) // 2 - (kw - 1)
        p1 = padding + (fw - up) // 2 - (kw - up)
        wt = w.reshape(groups, c_out // groups, c_in_g, kh, kw).transpose(1, 2)  # [G, C_in_g, C_out_g, kh, kw]
        wt = wt.reshape(groups * c_in_g, c_out // groups, kh, kw)
        x = F.conv_transpose2d(x, wt, stride=up, groups=groups)
        return upfirdn2d(x, f, padding=(p0, p1, p0, p1), gain=up * up)
    p0 = padding + (fw - down + 1) // 2
    p1 = padding + (fw - down) // 2
    if kh == kw == 1:  # a 1x1 conv commutes with the per-channel FIR: filter only the kept pixels, then mix channels
        return F.conv2d(upfirdn2d(x, f, down=down, padding=(p0, p1, p0, p1)), w, groups=groups)
    x = upfirdn2d(x, f, padding=(p0, p1, p0, p1))
    return F.conv2d(x, w, stride=down, groups=groups)


# ------------------------------------------------------------------------------------------------ equalised lr
class FullyConnected(nn.Module):
    """Equalised-lr linear layer: weight ~ N(0, 1) / lr_mul, used as weight * lr_mul / sqrt(in); bias * lr_mul."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str = "linear",
                 lr_mul: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.in_features, self.out_features, self.activation = in_features, out_features, activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.bias_gain = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias.to(x.dtype) * self.bias_gain if self.bias is not None else None
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, self.activation, inplace=True)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, act={self.activation}, lr_mul={self.bias_gain:g}"


class Conv2dLayer(nn.Module):
    """Equalised-lr conv with optional FIR x2 up/down, bias and activation (the discriminator's conv)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 activation: str = "linear", up: int = 1, down: int = 1, conv_clamp: float = 0.0):
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.activation, self.up, self.down, self.conv_clamp = activation, up, down, conv_clamp
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.register_buffer("resample_filter", setup_filter(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        x = conv2d_resample(x, w, self.resample_filter, up=self.up, down=self.down, padding=self.padding)
        return bias_act(x, self.bias, self.activation, self.conv_clamp, inplace=True)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}->{self.out_channels}, k={self.kernel_size}, act={self.activation}, "
                f"up={self.up}, down={self.down}")


# ------------------------------------------------------------------------------------------------ minibatch stddev
class MinibatchStd(nn.Module):
    """Appends `num_channels` feature maps holding the stddev of the features across groups of `group_size`
    samples (stylegan2-ada's MinibatchStdLayer): D sees how varied a batch is, which counters mode collapse.
    any_batch: a batch not divisible by the group uses the largest group size that divides it (SWAGAN's and USIS's
    wavelet discriminator); otherwise such a batch is an error, as in stylegan2-ada."""

    def __init__(self, group_size: int, num_channels: int = 1, any_batch: bool = False):
        super().__init__()
        self.group_size, self.num_channels, self.any_batch = group_size, num_channels, any_batch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        if self.any_batch:
            G = max(g for g in range(1, min(N, self.group_size) + 1) if N % g == 0)
        else:
            G = min(self.group_size, N)
            if N % G:
                raise ValueError(f"minibatch-stddev: batch {N} is not divisible by the group size {G}")
        F_ = self.num_channels
        y = x.float().reshape(G, -1, F_, C // F_, H, W)    # [GnFcHW] split the batch into groups (in fp32)
        y = y - y.mean(dim=0)                               # [GnFcHW] subtract the group mean
        y = (y.square().mean(dim=0) + 1e-8).sqrt()          # [nFcHW]  stddev over the group
        y = y.mean(dim=[2, 3, 4])                           # [nF]     average over channels and pixels
        y = y.reshape(-1, F_, 1, 1).repeat(G, 1, H, W)      # [NFHW]   replicate over group and pixels
        return torch.cat([x, y.to(x.dtype)], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}, any_batch={self.any_batch}"


# ------------------------------------------------------------------------------------------------ modulation
def use_fused_modconv(batch: int) -> bool:
    """Which form of modulated conv to run: fused (one grouped conv) only for a single sample with autograd off.

    With autograd on (training) it is the non-fused form, as StyleGAN2-ADA: the fused form's per-sample weights
    [N, O, I, k, k] and its grouped-conv weight gradient cost memory and time (~300 MB per 512-channel layer at
    batch 32 on a GPU; the issue measured the CPU training iteration 0.86x official fused, 1.00x non-fused).
    bench/modconv.py, CPU, 1 thread, fp32, ms fused / non-fused, median of 3 on a loaded 2-core machine (+-20%):
        layer (C, HxW)      N  forward no-grad   fwd+bwd
        small 256, 16x16    1   10.7 / 16.0      63.2 / 49.6
        small 256, 32x32    1   50.8 / 51.7     208.8 / 188.5
        small 256, 32x32    4  189.7 / 180.4    577.2 / 559.7
        small 128, 64x64    4  141.6 / 141.2    469.7 / 580.8
        tiny 32, 64x64      4    8.3 / 14.1      39.6 / 63.0
    fwd+bwd favours non-fused at most sizes; without autograd the fused form wins or ties at N = 1, and N > 1 is
    a tie within the noise, so N > 1 runs non-fused there too (no per-sample weight tensor, less memory)."""
    return batch == 1 and not torch.is_grad_enabled()


def demodulation(weight: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
    """d_{n,o} = rsqrt(sum_{i,k} (w_{o,i,k} s_{n,i})^2 + 1e-8), in float32, without the per-sample weights.

    sum_{i,k} w^2 s^2 = sum_i s_{n,i}^2 (sum_k w_{o,i,k}^2): summing the kernel taps first leaves an [N, C_out, C_in]
    product instead of [N, C_out, C_in, kh, kw], which with its autograd copies was ~6% of a StyleGAN2 training
    iteration's time and 38 MB per 512-channel layer at batch 4. Elementwise, not a matmul, so bf16 autocast
    cannot lower its precision."""
    w_sq = weight.float().square().sum(dim=[2, 3])                                      # [C_out, C_in]
    s_sq = styles.float().square()                                                      # [N, C_in]
    return ((s_sq.unsqueeze(1) * w_sq.unsqueeze(0)).sum(dim=2) + 1e-8).rsqrt()          # [N, C_out]


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True,
                     up: int = 1, padding: int = 0, resample_filter: torch.Tensor | None = None,
                     fused: bool | None = None) -> torch.Tensor:
    """Per-sample modulated (and demodulated) conv (StyleGAN2 Eq. 1-3):
    w'_{n,o,i,k} = w_{o,i,k} * s_{n,i};  d_{n,o} = rsqrt(sum_{i,k} w'^2 + 1e-8);  y = conv(x, w' * d).

    x [N, C_in, H, W], weight [C_out, C_in, k, k], styles [N, C_in] -> [N, C_out, H*up, W*up].
    fused=True: ONE grouped conv (groups = N) with per-sample weights. fused=False: scale x by the styles, one
    shared-weight conv, multiply by d [N, C_out]; the same function, as the conv is linear in x and in w.
    None chooses by `use_fused_modconv`. Per-sample weights and d are float32 in both forms (bf16 autocast casts
    only what enters the conv), as the official code keeps its demodulation coefficients in float32.
    """
    N, c_in, H, W = x.shape
    c_out, _, kh, kw = weight.shape
    if fused is None:
        fused = use_fused_modconv(N)
    d = demodulation(weight, styles) if demodulate else None                            # [N, C_out]
    if not fused:
        x = x * styles.to(x.dtype).reshape(N, c_in, 1, 1)
        x = conv2d_resample(x, weight.to(x.dtype), resample_filter, up=up, padding=padding)
        if not demodulate:
            return x
        d = d.to(x.dtype).reshape(N, c_out, 1, 1)
        return x.mul_(d) if not needs_autograd(x, d) else x * d  # x: the conv's own output, free to reuse
    w = weight.float().unsqueeze(0) * styles.float().reshape(N, 1, c_in, 1, 1)          # [N, C_out, C_in, kh, kw]
    if demodulate:
        w = w * d.reshape(N, c_out, 1, 1, 1)
    x = x.reshape(1, N * c_in, H, W)                                                    # samples become groups
    w = w.to(x.dtype).reshape(N * c_out, c_in, kh, kw)
    x = conv2d_resample(x, w, resample_filter, up=up, padding=padding, groups=N)
    return x.reshape(N, c_out, x.shape[2], x.shape[3])


class NoiseInjection(nn.Module):
    """Adds strength * noise [N, 1, H, W]; strength starts at 0. noise_mode: random | const (a stored map) | none."""

    def __init__(self, size: tuple[int, int]):
        super().__init__()
        self.size = tuple(size)
        self.strength = nn.Parameter(torch.zeros([]))
        self.register_buffer("noise_const", torch.randn(self.size))

    def forward(self, x: torch.Tensor, noise_mode: str = "random", inplace: bool = False) -> torch.Tensor:
        """inplace: the caller owns x, so without autograd the noise is added into it."""
        if noise_mode == "random":
            noise = torch.randn([x.shape[0], 1, *self.size], device=x.device, dtype=x.dtype)
        elif noise_mode == "const":
            noise = self.noise_const.to(x.dtype)
        elif noise_mode == "none":
            return x
        else:
            raise ValueError(f"unknown noise_mode {noise_mode!r}; choose from ['random', 'const', 'none']")
        strength = self.strength.to(x.dtype)
        if inplace and not needs_autograd(x, strength):
            return x.addcmul_(noise, strength)
        return torch.addcmul(x, noise, strength)

    def extra_repr(self) -> str:
        return f"size={self.size}"


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (optionally x2 up) + noise + bias + lrelu. Consumes ws[:, w_index]."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, size: tuple[int, int], up: int = 1,
                 conv_clamp: float = 0.0, w_index: int = 0):
        super().__init__()
        self.in_channels, self.out_channels, self.up, self.conv_clamp = in_channels, out_channels, up, conv_clamp
        self.w_index = w_index
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.noise = NoiseInjection(size)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("resample_filter", setup_filter(), persistent=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        styles = self.affine(w)                                                         # [N, C_in]
        x = modulated_conv2d(x, self.weight, styles, up=self.up, padding=1, resample_filter=self.resample_filter)
        x = self.noise(x, noise_mode, inplace=True)  # x is the modulated conv's fresh output
        return bias_act(x, self.bias, "lrelu", self.conv_clamp, inplace=True)

    def extra_repr(self) -> str:
        return f"{self.in_channels}->{self.out_channels}, up={self.up}, w_index={self.w_index}"


class ToRGBLayer(nn.Module):
    """Modulated 1x1 conv without demodulation to `out_channels` (RGB or class logits) + bias."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, conv_clamp: float = 0.0, w_index: int = 0):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.conv_clamp, self.w_index = conv_clamp, w_index
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False)
        return bias_act(x, self.bias, "linear", self.conv_clamp, inplace=True)

    def extra_repr(self) -> str:
        return f"{self.in_channels}->{self.out_channels}, w_index={self.w_index}"


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()

