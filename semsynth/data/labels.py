"""The one place where label maps become network inputs (and network outputs become label maps again), and photos
cross the uint8 <-> [-1, 1] edge. Training and inference both import it."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from semsynth.classes import IGNORE_INDEX, ClassSet


def one_hot(label: torch.Tensor, num_classes: int, ignore_index: int = IGNORE_INDEX,
            dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """LongTensor [N, H, W] ids -> float [N, C, H, W] one-hot. Ignore pixels become the all-zero vector.

    Ids other than 0..C-1 and `ignore_index` raise: a silent wrap-around would train on wrong classes.
    """
    if label.dim() != 3:
        raise ValueError(f"one_hot expects [N, H, W] ids, got shape {tuple(label.shape)}")
    label = label.long()
    valid = label != ignore_index
    if valid.any():
        lo, hi = int(label[valid].min()), int(label[valid].max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"label ids must lie in 0..{num_classes - 1} or be {ignore_index}; found {lo}..{hi}")
    safe = torch.where(valid, label, torch.zeros_like(label))
    out = F.one_hot(safe, num_classes).permute(0, 3, 1, 2).to(dtype)  # [N, C, H, W]
    return out * valid.unsqueeze(1).to(dtype)


def make_segmap(label: torch.Tensor, num_classes: int, ignore_index: int, use_dontcare: bool = False,
                edges: torch.Tensor | None = None) -> torch.Tensor:
    """label LongTensor [N, H, W] -> float segmap [N, num_classes (+1 don't-care) (+1 edge), H, W].
    `edges`: float [N, 1, H, W] instance boundaries as the data set computes them (Cityscapes "edges")."""
    if use_dontcare:
        label = torch.where(label == ignore_index, torch.full_like(label, num_classes), label)
        segmap = one_hot(label, num_classes + 1, ignore_index=ignore_index)
    else:
        segmap = one_hot(label, num_classes, ignore_index=ignore_index)
    if edges is not None:
        if edges.shape != (label.shape[0], 1, *label.shape[1:]):
            raise ValueError(f"edge map shape {tuple(edges.shape)} does not match label {tuple(label.shape)}")
        segmap = torch.cat([segmap, edges.to(segmap.dtype)], dim=1)
    return segmap


def boundary_edges(ids: torch.Tensor) -> torch.Tensor:
    """LongTensor [N, H, W] ids (instance or class ids) -> float [N, 1, H, W]: 1 on both sides of every boundary
    between different ids, 4-neighbourhood; the instance-edge channel of SPADE (`get_edges`) and of the Cityscapes
    reader. Given a label map, it is the edge map of a layout in which every class region is one instance."""
    if ids.dim() != 3:
        raise ValueError(f"boundary_edges expects [N, H, W] ids, got shape {tuple(ids.shape)}")
    edge = torch.zeros_like(ids, dtype=torch.bool)
    dx = ids[:, :, 1:] != ids[:, :, :-1]
    dy = ids[:, 1:, :] != ids[:, :-1, :]
    edge[:, :, 1:] |= dx
    edge[:, :, :-1] |= dx
    edge[:, 1:, :] |= dy
    edge[:, :-1, :] |= dy
    return edge.unsqueeze(1).float()


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [..., 3, H, W] in [-1, 1] -> uint8 (rounded, clamped)."""
    return ((images.detach().float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def from_uint8(images: torch.Tensor) -> torch.Tensor:
    """uint8 [..., 3, H, W] -> float in [-1, 1]."""
    return images.float().div_(127.5).sub_(1)  # in place: one allocation on the data-loading hot path


def logits_to_ids(logits: torch.Tensor, void_class: int | None = None, ignore_index: int = 255) -> torch.Tensor:
    """float [N, C, H, W] class logits -> LongTensor [N, H, W] (argmax); the `void_class` channel, when the
    generator has one, becomes `ignore_index`."""
    ids = logits.argmax(dim=1)
    if void_class is not None:
        ids = torch.where(ids == void_class, torch.full_like(ids, ignore_index), ids)
    return ids


def rgb_to_ids(rgb: torch.Tensor, classes: ClassSet) -> tuple[torch.Tensor, float]:
    """Colour-coded maps float [N, 3, H, W] in [-1, 1] -> (ids LongTensor [N, H, W], share of far pixels)."""
    ids, far = classes.quantize(to_uint8(rgb).permute(0, 2, 3, 1).cpu())
    return ids, far


def colorize_batch(labels: torch.Tensor, classes: ClassSet) -> torch.Tensor:
    """LongTensor [N, H, W] ids -> uint8 [N, 3, H, W] colours."""
    return classes.colorize(labels).permute(0, 3, 1, 2).contiguous()
