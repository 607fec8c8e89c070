"""Adversarial losses on raw discriminator logits, and the R1 gradient penalty. All return scalars (means)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def d_logistic(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating logistic D loss (StyleGAN2): softplus(-D(x)) + softplus(D(G(z)))."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating G loss: softplus(-D(G(z)))."""
    return F.softplus(-fake_logits).mean()


def d_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Hinge D loss (SPADE): relu(1 - D(x)) + relu(1 + D(G(z)))."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def g_hinge(fake_logits: torch.Tensor) -> torch.Tensor:
    """Hinge G loss: -D(G(z))."""
    return -fake_logits.mean()


def r1_penalty(real_logits: torch.Tensor, real_inputs: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||d D(x) / d x||^2 (Mescheder et al. 2018). `real_inputs` must require grad.
    Multiply by gamma / 2 (and the lazy interval) at the call site."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_inputs, create_graph=True)
    return grad.float().square().flatten(1).sum(1).mean()
