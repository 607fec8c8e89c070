"""Bilinear resize exactly as TensorFlow 1.x `tf.image.resize_bilinear` (align_corners=False, no half-pixel
centres), the resize of the FID reference graph. `F.interpolate(bilinear)` samples at half-pixel centres and
gives different FID numbers; this one reproduces torch-fidelity's resize bit for bit on CPU.

TF1 maps output pixel i to source coordinate i * (in / out), takes floor and floor + 1 (clamped to the last
pixel) and interpolates linearly: first along x, then along y, in float32.
"""
from __future__ import annotations

import torch


def _source_grid(in_size: int, out_size: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)
    pos = torch.arange(out_size, dtype=torch.float32, device=device) * scale.to(device)  # float32 as in TF
    lo = pos.long()
    hi = (lo + 1).clamp_max(in_size - 1)
    return lo, hi, pos - lo.float()


def resize_bilinear_tf1(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """float [N, C, H, W] -> float [N, C, size[0], size[1]] (TF1 bilinear, align_corners=False)."""
    if x.dim() != 4 or not x.is_floating_point():
        raise ValueError(f"resize_bilinear_tf1 expects a float [N, C, H, W] tensor, got {x.dtype} {tuple(x.shape)}")
    out_h, out_w = size
    y_lo, y_hi, dy = _source_grid(x.shape[2], out_h, x.device)
    x_lo, x_hi, dx = _source_grid(x.shape[3], out_w, x.device)
    dx, dy = dx.to(x.dtype), dy.to(x.dtype)
    left, right = x.index_select(3, x_lo), x.index_select(3, x_hi)   # [N, C, H, out_w]
    rows = left + (right - left) * dx.view(1, 1, 1, out_w)          # horizontal lerp on every source row
    top, bottom = rows.index_select(2, y_lo), rows.index_select(2, y_hi)  # [N, C, out_h, out_w]
    return top + (bottom - top) * dy.view(1, 1, out_h, 1)
