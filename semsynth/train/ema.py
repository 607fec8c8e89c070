"""Exponential moving average of the generator, with the half-life in images (StyleGAN2-ADA training_loop.py), so
the average does not depend on the batch size."""
from __future__ import annotations

import torch


def ema_beta(batch: int, cur_nimg: int, halflife_kimg: float, rampup: float | None) -> float:
    """Weight kept from the old average after one step of `batch` images, `cur_nimg` images into the run."""
    ema_nimg = halflife_kimg * 1000
    if rampup is not None:
        ema_nimg = min(ema_nimg, cur_nimg * rampup)  # early on, forget the random init faster
    return 0.5 ** (batch / max(ema_nimg, 1e-8))


@torch.no_grad()
def update_ema(ema: torch.nn.Module, source: torch.nn.Module, beta: float) -> None:
    """ema <- beta * ema + (1 - beta) * source for parameters; buffers (BN statistics, counters) are copied."""
    for p_ema, p in zip(ema.parameters(), source.parameters(), strict=True):
        p_ema.copy_(p.detach().lerp(p_ema, beta))
    for b_ema, b in zip(ema.buffers(), source.buffers(), strict=True):
        b_ema.copy_(b.detach())
