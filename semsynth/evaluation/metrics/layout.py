"""Metrics of label-map sets (no photos): class-share histograms, their Jensen-Shannon divergence, a per-class
share table, FSD (Fréchet distance of per-image class proportions), boundary / isolated-pixel fractions (how
fragmented the maps are, which class shares cannot see) and "layout FID" (FID of colourised maps through the same
Inception path as photos)."""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import torch

from semsynth.classes import ClassSet
from semsynth.evaluation.metrics.fid import fid_between, frechet_distance


def _check_labels(labels: torch.Tensor) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor) or labels.dim() not in (2, 3) or labels.is_floating_point():
        desc = f"{labels.dtype} {tuple(labels.shape)}" if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"label maps must be integer tensors [N, H, W] or [H, W], got {desc}")
    return labels.long() if labels.dim() == 3 else labels.long()[None]


def class_counts(labels: torch.Tensor, num_classes: int, ignore_index: int = 255) -> np.ndarray:
    """Pixel count per class [N, C] (int64) of label maps [N, H, W]; ignore pixels are not counted."""
    labels = _check_labels(labels)
    flat = labels.flatten(1)
    bad = (flat != ignore_index) & ((flat < 0) | (flat >= num_classes))
    if bad.any():
        raise ValueError(f"label ids must lie in 0..{num_classes - 1} or be {ignore_index}; "
                         f"found {sorted(flat[bad].unique().tolist())[:10]}")
    keep = torch.where(flat == ignore_index, num_classes, flat)
    counts = torch.zeros(len(flat), num_classes + 1, dtype=torch.long).scatter_add_(1, keep, torch.ones_like(keep))
    return counts[:, :num_classes].numpy()


def class_histogram(label_batches: Iterable[torch.Tensor], num_classes: int, ignore_index: int = 255) -> np.ndarray:
    """Share of each class among all non-ignore pixels of the set, float64 [C] summing to 1."""
    total = np.zeros(num_classes, np.int64)
    for labels in label_batches:
        total += class_counts(labels, num_classes, ignore_index).sum(0)
    if total.sum() == 0:
        raise ValueError("no labelled pixels: every pixel is ignore (or the set is empty)")
    return total / total.sum()


def class_shares(labels: torch.Tensor | Iterable[torch.Tensor], num_classes: int,
                 ignore_index: int = 255) -> np.ndarray:
    """`class_histogram` of one LongTensor [N, H, W] of label maps (or of an iterable of such batches)."""
    return class_histogram([labels] if isinstance(labels, torch.Tensor) else labels, num_classes, ignore_index)


def js_divergence(p, q) -> float:
    """Jensen-Shannon divergence in bits (log base 2), in [0, 1]: 0 for equal histograms, 1 for disjoint ones.
    p, q: non-negative [C], normalised here."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"histograms must be 1-D of one length, got {p.shape} and {q.shape}")
    if (p < 0).any() or (q < 0).any() or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("histograms must be non-negative with a positive sum")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a, b):
        nz = a > 0  # 0 log 0 = 0; b > 0 wherever a > 0 since b is the mixture
        return float((a[nz] * np.log2(a[nz] / b[nz])).sum())
    return float(np.clip((kl(p, m) + kl(q, m)) / 2, 0.0, 1.0))


def share_table(real_hist, fake_hist, names: Iterable[str]) -> list[dict]:
    """Rows {"class", "real", "fake", "diff"} of pixel shares (fractions), one per class."""
    return [{"class": n, "real": float(r), "fake": float(f), "diff": float(f - r)}
            for n, r, f in zip(names, real_hist, fake_hist)]


def format_share_table(rows: list[dict]) -> str:
    width = max([len(r["class"]) for r in rows] + [5])
    lines = [f"{'class':<{width}}  {'real %':>7}  {'fake %':>7}  {'diff':>7}"]
    lines += [f"{r['class']:<{width}}  {100 * r['real']:7.2f}  {100 * r['fake']:7.2f}  {100 * r['diff']:+7.2f}"
              for r in rows]
    return "\n".join(lines)


def class_proportions(label_batches: Iterable[torch.Tensor], num_classes: int, ignore_index: int = 255) -> np.ndarray:
    """Per-image class shares [N, C] (rows sum to 1; an all-ignore image is an error)."""
    rows = []
    for labels in label_batches:
        counts = class_counts(labels, num_classes, ignore_index).astype(np.float64)
        if (counts.sum(1) == 0).any():
            raise ValueError("an image has no labelled pixels; class proportions are undefined")
        rows.append(counts / counts.sum(1, keepdims=True))
    return np.concatenate(rows)


def fsd(real_props: np.ndarray, fake_props: np.ndarray) -> float:
    """Fréchet distance between per-image class-proportion vectors [N, C] of two sets (Semantic Palette)."""
    if min(len(real_props), len(fake_props)) < 2:
        raise ValueError("FSD needs at least 2 images per set")
    return frechet_distance(real_props.mean(0), np.cov(real_props, rowvar=False),
                            fake_props.mean(0), np.cov(fake_props, rowvar=False))


def neighbour_fractions(labels: torch.Tensor | Iterable[torch.Tensor], ignore_index: int = 255) -> dict[str, float]:
    """{"boundary_fraction", "isolated_fraction"} of a set of label maps [N, H, W] (a tensor or batches of them).

    Boundary: share of labelled pixels with a 4-neighbour of another class. Isolated: share of labelled pixels with
    no 4-neighbour of their own class (salt-and-pepper noise, which a layout GAN makes and real maps rarely have).
    Ignore pixels are neither counted nor anyone's neighbour of either kind; neighbours outside the map do not
    exist, so a labelled pixel whose neighbours are all ignore or outside is isolated but not on a boundary."""
    labelled = boundary = isolated = 0
    for batch in [labels] if isinstance(labels, torch.Tensor) else labels:
        batch = _check_labels(batch)
        valid = batch != ignore_index
        other = torch.zeros_like(valid)
        same = torch.zeros_like(valid)
        for dim in (1, 2):  # each pair of vertical, then horizontal neighbours, seen from both sides
            n = batch.shape[dim]
            a, b = batch.narrow(dim, 0, n - 1), batch.narrow(dim, 1, n - 1)
            both = valid.narrow(dim, 0, n - 1) & valid.narrow(dim, 1, n - 1)
            differ, equal = both & (a != b), both & (a == b)
            for part, flags in ((other, differ), (same, equal)):
                part.narrow(dim, 0, n - 1).logical_or_(flags)
                part.narrow(dim, 1, n - 1).logical_or_(flags)
        labelled += int(valid.sum())
        boundary += int((valid & other).sum())
        isolated += int((valid & ~same).sum())
    if labelled == 0:
        raise ValueError("no labelled pixels: every pixel is ignore (or the set is empty)")
    return {"boundary_fraction": boundary / labelled, "isolated_fraction": isolated / labelled}


def boundary_fraction(labels: torch.Tensor | Iterable[torch.Tensor], ignore_index: int = 255) -> float:
    """Share of labelled pixels with a 4-neighbour of another class (see `neighbour_fractions`)."""
    return neighbour_fractions(labels, ignore_index)["boundary_fraction"]


def isolated_fraction(labels: torch.Tensor | Iterable[torch.Tensor], ignore_index: int = 255) -> float:
    """Share of labelled pixels with no 4-neighbour of their own class (see `neighbour_fractions`)."""
    return neighbour_fractions(labels, ignore_index)["isolated_fraction"]


def neighbour_ratios(real: dict[str, float], generated: dict[str, float]) -> dict[str, float | None]:
    """{"boundary_ratio", "isolated_ratio"}: generated / real of two `neighbour_fractions` results, the figures the
    speckle targets are stated in (1 = as fragmented as real maps); None where the real fraction is 0."""
    return {key.replace("fraction", "ratio"): (generated[key] / real[key] if real[key] > 0 else None)
            for key in ("boundary_fraction", "isolated_fraction")}


def colorized_batches(label_batches: Iterable[torch.Tensor], classes: ClassSet) -> Iterator[torch.Tensor]:
    """Label maps [N, H, W] -> uint8 colour images [N, 3, H, W] with the class set's palette."""
    for labels in label_batches:
        yield classes.colorize(_check_labels(labels)).permute(0, 3, 1, 2).contiguous()


def layout_fid(real_labels: Iterable[torch.Tensor], fake_labels: Iterable[torch.Tensor], classes: ClassSet,
               extractor, batch: int = 50, device="cpu") -> float:
    """FID between colourised label maps of two sets (the segmentation-map FID of layout-GAN papers)."""
    return fid_between(colorized_batches(real_labels, classes), colorized_batches(fake_labels, classes),
                       extractor, batch=batch, device=device)
