"""Spectral normalisation (Miyato et al. 2018) of a conv / linear weight: W_sn = W / sigma, sigma = u^T W v.

Why not `torch.nn.utils.parametrizations.spectral_norm`: its `weight / sigma` goes through generic autograd,
whose backward makes four or five weight-sized temporaries per layer (g / sigma, g * W, the outer product u v^T,
their sum). SPADE's 1024-channel 3x3 convs hold 38 MB weights, above glibc's mmap threshold, so each temporary is
a fresh mmap: the issue measured 537k page faults per SPADE G step vs 258k for the hook-based SN. Here the
division has its own backward, (g - <g, W_sn> u v^T) / sigma, written into ONE new tensor (the gradient itself),
and the power iteration writes into the stored u, v. bench/spectral_norm.py, SPADE G fwd+bwd at 128x256, 36 ch,
ngf 64, 1 thread, 2 processes each: 275k minor faults/step and 1786 MB peak RSS vs 469k and 1959 MB for torch's
parametrization (step time too noisy on the shared machine to rank: 16-78 s vs 14-22 s; per 1024-channel 3x3 layer
the SN backward alone measured 0.19 s vs 0.67 s).

Semantics are those of the original (and of both torch versions): one power iteration per training forward,
u and v updated in place and treated as constants by autograd; in eval, no iteration and sigma = u^T W v with the
stored u, v, so converted official checkpoints give their exact eval outputs. The module is registered through
`torch.nn.utils.parametrize`, so the state-dict names are unchanged (`<conv>.parametrizations.weight.original`,
`<conv>.parametrizations.weight.0._u`, `..._v`): existing semsynth checkpoints and the converters' name tables
keep working.
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

INIT_POWER_ITERATIONS = 15  # as torch's SN, so a fresh layer starts from a converged sigma


class _DivideBySigma(torch.autograd.Function):
    """weight / (u^T W v) with u, v constants; backward in one weight-sized tensor. The backward is built from
    differentiable ops, so double backward (gradient penalties through D) still works."""

    @staticmethod
    def forward(ctx, weight: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(weight, u, v)
        return weight / torch.dot(u, torch.mv(weight.flatten(1), v))

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        weight, u, v = ctx.saved_tensors  # the inputs, not W_sn or sigma: a double backward must see them depend on W
        mat = weight.flatten(1)
        sigma = torch.dot(u, torch.mv(mat, v))
        # d sigma / d W = u v^T, so dL/dW = (g - <g, W> / sigma * u v^T) / sigma
        c = torch.dot(grad.reshape(-1), weight.reshape(-1)) / sigma
        g = torch.addr(grad.reshape(mat.shape), u, v * c, alpha=-1)
        g = g / sigma if torch.is_grad_enabled() else g.div_(sigma)  # in place unless recording a double backward
        return g.view(grad.shape), None, None


def _no_autocast(device_type: str):
    # autocast exists for cpu / cuda; the meta device (shape checks) has none to turn off
    return torch.autocast(device_type, enabled=False) if device_type in ("cpu", "cuda") else contextlib.nullcontext()


class SpectralNorm(nn.Module):
    """The parametrization: holds u [C_out] and v [C_in * k * k] as buffers and maps the raw weight to W / sigma.
    Only dim 0 (conv / linear weights) is supported: that is every use in semsynth."""

    def __init__(self, weight: torch.Tensor, eps: float = 1e-12):
        super().__init__()
        if weight.ndim < 2:
            raise ValueError(f"spectral norm needs a weight of 2 or more dimensions, got shape {list(weight.shape)}")
        self.eps = eps
        h, w = weight.shape[0], weight[0].numel()
        # random start, then 15 iterations as torch's parametrization: a fresh layer starts from a converged sigma
        self.register_buffer("_u", F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=eps))
        self.register_buffer("_v", F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=eps))
        if not weight.is_meta:  # on the meta device (shape checks) there is nothing to compute
            self.power_iteration(weight.detach(), INIT_POWER_ITERATIONS)

    @torch.no_grad()
    def power_iteration(self, weight: torch.Tensor, steps: int = 1) -> None:
        """v <- normalise(W^T u), then u <- normalise(W v), written into the buffers (no new tensors kept). This
        order is Miyato's and the hook-based SN's that the official SPADE / OASIS codes train with (torch's
        parametrization updates u first), so training continued from a converted checkpoint steps as there."""
        mat = weight.flatten(1)
        for _ in range(steps):
            torch.mv(mat.t(), self._u, out=self._v)
            self._v.div_(self._v.norm().clamp_min(self.eps))
            torch.mv(mat, self._v, out=self._u)
            self._u.div_(self._u.norm().clamp_min(self.eps))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.power_iteration(weight.detach())
        # clones: the buffers change in place at the next training forward, before this graph's backward may run.
        # fp32 even under autocast (mv is on its low-precision list): sigma in bf16 would be off by ~0.4%
        with _no_autocast(weight.device.type):
            return _DivideBySigma.apply(weight, self._u.clone(), self._v.clone())

    def right_inverse(self, value: torch.Tensor) -> torch.Tensor:
        return value

    def extra_repr(self) -> str:
        return f"u={self._u.numel()}, v={self._v.numel()}"


def spectral_norm(module: nn.Module, name: str = "weight") -> nn.Module:
    """Attach spectral norm to `module.<name>` (in place); returns the module, as torch's helper does."""
    parametrize.register_parametrization(module, name, SpectralNorm(getattr(module, name)))
    return module


def has_spectral_norm(module: nn.Module, name: str = "weight") -> bool:
    return parametrize.is_parametrized(module, name) and any(
        isinstance(p, SpectralNorm) for p in module.parametrizations[name])


def raw_weight(module: nn.Module, name: str = "weight") -> torch.Tensor:
    """The trained tensor behind `module.<name>`: the un-normalised weight under spectral norm, else the weight.
    Initialisers write into it (writing into W / sigma would be lost)."""
    if parametrize.is_parametrized(module, name):
        return module.parametrizations[name].original
    return getattr(module, name)
