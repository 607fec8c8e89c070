"""Adversarial losses on raw discriminator logits, the R1 gradient penalty and StyleGAN2's path lengths. The losses
return scalars (means)."""
from __future__ import annotations

import math

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


def path_lengths(images: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
    """Per-sample |J_w^T y| with y ~ N(0, 1) / sqrt(H W) (StyleGAN2 Eq. 4; stylegan2-ada loss.py): the root of the
    squared gradient summed over w_dim and averaged over the ws. `ws` [N, num_ws, w_dim] must be in the graph of
    `images` [N, C, H, W]; the result keeps the graph for the penalty's backward."""
    y = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
    (grad,) = torch.autograd.grad((images * y).sum(), ws, create_graph=True)
    return grad.float().square().sum(2).mean(1).sqrt()
