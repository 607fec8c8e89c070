"""Discriminator feature matching (pix2pixHD / SPADE) and the VAE's KL divergence."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def feature_matching(fake_outputs: list[list[torch.Tensor]], real_outputs: list[list[torch.Tensor]]
                     ) -> torch.Tensor:
    """L1 between D features of fake and (detached) real photos, over every layer except each scale's final
    logits, summed over layers and divided by the number of scales (SPADE's GAN_Feat_loss without lambda_feat).

    Outputs are per scale lists of layer outputs, as MultiscalePatchDiscriminator returns them.
    """
    if len(fake_outputs) != len(real_outputs):
        raise ValueError(f"feature matching needs as many scales for fake ({len(fake_outputs)}) as real "
                         f"({len(real_outputs)})")
    num_d = len(fake_outputs)
    loss = fake_outputs[0][-1].new_zeros((), dtype=torch.float32)
    for fake, real in zip(fake_outputs, real_outputs):
        for f, r in zip(fake[:-1], real[:-1]):
            loss = loss + F.l1_loss(f.float(), r.detach().float()) / num_d
    return loss


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the batch and dimensions (SPADE KLDLoss is a sum)."""
    mu, logvar = mu.float(), logvar.float()
    return -0.5 * torch.sum(1 + logvar - mu.square() - logvar.exp())
