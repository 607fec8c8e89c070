"""Mean intersection over union from one confusion matrix over the whole evaluation set.

Convention (the segmentation benchmarks', not torchmetrics' per-image mean): per class
IoU = sum TP / (sum TP + sum FP + sum FN) over every pixel of the set; pixels whose *true* label is
`ignore_index` are skipped; a class absent from both prediction and truth has no IoU (None) and is left out
of the mean. A class present only in the prediction has IoU 0 and counts.
"""
from __future__ import annotations

import numpy as np
import torch


def confusion_update(matrix: torch.Tensor, pred: torch.Tensor, target: torch.Tensor,
                     ignore_index: int = 255) -> torch.Tensor:
    """Add the pixels of pred/target LongTensor [N, H, W] to `matrix` [C, C] (rows = truth, columns =
    prediction). Raises on ids outside 0..C-1 (ignore allowed in the target only)."""
    if pred.shape != target.shape or pred.dim() != 3:
        raise ValueError(f"pred and target must both be [N, H, W], got {tuple(pred.shape)} and {tuple(target.shape)}")
    c = matrix.shape[0]
    pred, target = pred.long().flatten(), target.long().flatten().to(pred.device)
    keep = target != ignore_index
    pred, target = pred[keep], target[keep]
    if len(pred):
        if int(pred.min()) < 0 or int(pred.max()) >= c:
            raise ValueError(f"predicted ids must lie in 0..{c - 1}; found {int(pred.min())}..{int(pred.max())}")
        if int(target.min()) < 0 or int(target.max()) >= c:
            raise ValueError(f"true ids must lie in 0..{c - 1} or be {ignore_index}; "
                             f"found {int(target.min())}..{int(target.max())}")
    counts = torch.bincount(target * c + pred, minlength=c * c).reshape(c, c)
    matrix += counts.to(matrix.device, matrix.dtype)
    return matrix


def iou_from_confusion(matrix: np.ndarray | torch.Tensor) -> dict:
    """{"miou", "per_class_iou" (None where the class is in neither prediction nor truth), "pixel_accuracy"}."""
    m = torch.as_tensor(matrix).double().cpu().numpy()
    tp = np.diag(m)
    union = m.sum(0) + m.sum(1) - tp
    per_class = [float(t / u) if u > 0 else None for t, u in zip(tp, union)]
    present = [v for v in per_class if v is not None]
    total = m.sum()
    return {
        "miou": float(np.mean(present)) if present else float("nan"),
        "per_class_iou": per_class,
        "pixel_accuracy": float(tp.sum() / total) if total > 0 else float("nan"),
    }


class ConfusionMatrix:
    """Streaming confusion matrix for semantic segmentation; `compute()` gives data-set-level IoU."""

    def __init__(self, num_classes: int, ignore_index: int = 255):
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = int(num_classes)
        self.ignore_index = int(ignore_index)
        self.matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> "ConfusionMatrix":
        confusion_update(self.matrix, pred.cpu(), target.cpu(), self.ignore_index)
        return self

    def merge(self, other: "ConfusionMatrix") -> "ConfusionMatrix":
        if other.num_classes != self.num_classes:
            raise ValueError(f"cannot merge a {other.num_classes}-class matrix into a {self.num_classes}-class one")
        self.matrix += other.matrix
        return self

    def reset(self) -> None:
        self.matrix.zero_()

    def compute(self) -> dict:
        return iou_from_confusion(self.matrix)
