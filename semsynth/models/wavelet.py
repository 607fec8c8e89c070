"""One-level 2-D Haar wavelet transform and its inverse as torch ops.

`dwt`: [N, C, H, W] -> [N, 4C, H/2, W/2], band-major like SWAGAN (channels = LL of every input channel, then LH,
then HL, then HH). Filters come from PyWavelets' `pywt.Wavelet("haar")` (taps 1/sqrt(2)); the transform is a
stride-2 conv2d and, being orthonormal, `idwt` is the transposed conv with the same filters.
"""
from __future__ import annotations

import pywt
import torch
import torch.nn.functional as F

BANDS = ("LL", "LH", "HL", "HH")


def _pywt_haar_bank() -> torch.Tensor:
    w = pywt.Wavelet("haar")
    # pywt's dec_* are convolution filters; conv2d correlates, so reverse them
    lo = torch.tensor(w.dec_lo[::-1], dtype=torch.float64)
    hi = torch.tensor(w.dec_hi[::-1], dtype=torch.float64)
    bank = [torch.outer(lo, lo), torch.outer(hi, lo), torch.outer(lo, hi), torch.outer(hi, hi)]  # rows x cols
    return torch.stack(bank).unsqueeze(1)


_HAAR = _pywt_haar_bank()  # [4, 1, 2, 2] float64, built once


def haar_filters(dtype=torch.float32, device=None) -> torch.Tensor:
    """[4, 1, 2, 2] analysis filters LL, LH, HL, HH (outer products of PyWavelets' Haar lo/hi filters)."""
    return _HAAR.to(dtype=dtype, device=device)


def _channel_major(channels: int) -> torch.Tensor:
    # grouped conv output is ordered c * 4 + band; this permutation gives band * C + c
    return torch.arange(4 * channels).view(channels, 4).t().reshape(-1)


def dwt(x: torch.Tensor) -> torch.Tensor:
    """Haar DWT: [N, C, H, W] (H, W even) -> [N, 4C, H/2, W/2] = cat(LL, LH, HL, HH)."""
    if x.dim() != 4 or x.shape[-2] % 2 or x.shape[-1] % 2:
        raise ValueError(f"dwt expects [N, C, H, W] with even H and W, got {tuple(x.shape)}")
    C = x.shape[1]
    filt = haar_filters(x.dtype, x.device).repeat(C, 1, 1, 1)  # [4C, 1, 2, 2], index c * 4 + band
    y = F.conv2d(x, filt, stride=2, groups=C)                  # [N, C*4, H/2, W/2]
    return y[:, _channel_major(C).to(x.device)]                # [N, 4*C, H/2, W/2]


def idwt(y: torch.Tensor) -> torch.Tensor:
    """Inverse Haar DWT: [N, 4C, h, w] (band-major) -> [N, C, 2h, 2w]."""
    if y.dim() != 4 or y.shape[1] % 4:
        raise ValueError(f"idwt expects [N, 4C, h, w] band-major sub-bands, got {tuple(y.shape)}")
    C = y.shape[1] // 4
    order = torch.argsort(_channel_major(C)).to(y.device)      # band-major -> channel-major
    filt = haar_filters(y.dtype, y.device).repeat(C, 1, 1, 1)  # [4C, 1, 2, 2]
    return F.conv_transpose2d(y[:, order], filt, stride=2, groups=C)


def split_bands(y: torch.Tensor) -> dict[str, torch.Tensor]:
    """[N, 4C, h, w] -> {"LL": [N, C, h, w], "LH": ..., "HL": ..., "HH": ...}."""
    return dict(zip(BANDS, y.chunk(4, dim=1)))
