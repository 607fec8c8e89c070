"""Segmentation losses of OASIS / USIS: class-balanced pixel cross-entropy and the N+1 "fake class" targets.

USIS L_seg (UP Eq. 3-4) weighs each class by its inverse pixel frequency; the code (O:models/losses.py, reused by
U:) computes the weights per batch: w_c = P / (K * count_c), with P the number of labelled pixels, K the number of
classes present in the batch and count_c the pixels of class c. Ignore pixels weigh 0 (OASIS's don't-care
channel). Averaged over the P labelled pixels this is the mean over present classes of each class's mean CE,
which equals OASIS's value (it divides by B*H*W) when no pixel is ignored.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from semsynth.classes import IGNORE_INDEX

FAKE_CLASS = 0  # channel 0 of an N+1 segmenter is "fake"; real class c is channel c + 1 (OASIS #34)


def class_balance_weights(label: torch.Tensor, num_classes: int, ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Per-class weights [num_classes] from the batch's label maps [N, H, W]; absent classes get 0."""
    valid = label != ignore_index
    counts = torch.bincount(label[valid].flatten(), minlength=num_classes).double()
    if counts.numel() > num_classes:
        raise ValueError(f"label ids up to {counts.numel() - 1} exceed num_classes {num_classes}")
    present = counts > 0
    weights = torch.zeros(num_classes, dtype=torch.float64, device=label.device)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights.float()


def balanced_cross_entropy(logits: torch.Tensor, label: torch.Tensor, ignore_index: int = IGNORE_INDEX,
                           use_class_balance: bool = True) -> torch.Tensor:
    """Pixel CE of logits [N, C, H, W] against ids [N, H, W] (ignore pixels excluded), each pixel weighted by its
    class's `class_balance_weights` and averaged over the labelled pixels. Computed in fp32."""
    N, C, H, W = logits.shape
    if label.shape != (N, H, W):
        raise ValueError(f"logits {tuple(logits.shape)} and label {tuple(label.shape)} disagree; expected [N, H, W]")
    valid = label != ignore_index
    if not valid.any():
        return logits.float().sum() * 0.0  # nothing labelled: zero loss that still touches the graph
    ce = F.cross_entropy(logits.float(), label.long(), ignore_index=ignore_index, reduction="none")  # [N, H, W]
    if not use_class_balance:
        return ce[valid].mean()
    weights = class_balance_weights(label, C, ignore_index)
    pixel_w = weights[torch.where(valid, label, torch.zeros_like(label))] * valid  # [N, H, W]
    return (ce * pixel_w).sum() / valid.sum()


def real_class_targets(label: torch.Tensor, ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """ids [N, H, W] -> targets of an N+1 segmenter: class c -> c + 1, ignore stays ignore."""
    return torch.where(label == ignore_index, label, label + 1)


def segmentation_loss(logits: torch.Tensor, label: torch.Tensor, ignore_index: int = IGNORE_INDEX,
                      use_class_balance: bool = True) -> torch.Tensor:
    """USIS L_seg (UP Eq. 3): class-balanced CE of N+1 segmenter logits [N, C+1, H, W] on a generated photo
    against its input layout [N, H, W], with real-class targets (label + 1); the fake channel is never a target."""
    return balanced_cross_entropy(logits, real_class_targets(label, ignore_index), ignore_index, use_class_balance)

