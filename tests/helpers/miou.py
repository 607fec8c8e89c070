"""A small confusion-matrix mIoU for learning tests (the metrics package has its own, tested separately)."""
from __future__ import annotations

import torch


def confusion(pred: torch.Tensor, label: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    keep = label != ignore_index
    idx = label[keep] * num_classes + pred[keep]
    return torch.bincount(idx, minlength=num_classes ** 2).view(num_classes, num_classes)  # [true, pred]


def miou(conf: torch.Tensor) -> float:
    """Mean over classes with a non-empty union of intersection / union (data-set level, not per image)."""
    inter = conf.diag().double()
    union = conf.sum(0).double() + conf.sum(1).double() - inter
    return float((inter[union > 0] / union[union > 0]).mean())
