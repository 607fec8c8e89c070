"""A stand-in for the FID Inception in evaluation tests: cheap, deterministic, and sensitive to image content."""
from __future__ import annotations

import torch


class ColourStats(torch.nn.Module):
    """Stand-in extractor: 8-d colour statistics of uint8 images (per-channel mean and std, max, min)."""
    weights_sha256 = "stand-in"

    def forward(self, images):
        x = images.float() / 255
        return torch.cat([x.mean((2, 3)), x.std((2, 3)), x.amax((1, 2, 3))[:, None], x.amin((1, 2, 3))[:, None]], 1)
