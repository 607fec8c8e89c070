"""Fréchet Inception Distance (Heusel et al. 2017): ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

Tr((S1 S2)^(1/2)) is computed exactly through the symmetric matrix S1^(1/2) S2 S1^(1/2), which has the same
eigenvalues as S1 S2: two float64 eigen-decompositions, no complex arithmetic, no iterative sqrtm. Eigenvalues
below zero (rounding on rank-deficient covariances) count as zero, as the real part of their square root does
in torch-fidelity 0.4.0 (`np.sqrt(np.linalg.eigvals(S1 @ S2)).real`).

From raw features with fewer samples than dimensions (N <= d, e.g. a few hundred 2048-d vectors) the same
trace is exact and far cheaper as the nuclear norm of A B^T / sqrt((n1 - 1)(n2 - 1)) with A, B the centred
features: S1 S2 and (A B^T)(A B^T)^T share their non-zero eigenvalues.
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from semsynth.evaluation.metrics.features import FeatureStats
from semsynth.evaluation.metrics.images import as_batches


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(sigma)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr((sigma1 sigma2)^(1/2)) for symmetric positive semi-definite sigma1, sigma2."""
    root1 = _psd_sqrt(sigma1)
    m = root1 @ sigma2 @ root1
    eig = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(eig, 0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(f"means must be 1-D of one length, got {mu1.shape} and {mu2.shape}")
    d = mu1.shape[0]
    if sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(f"covariances must be [{d}, {d}], got {sigma1.shape} and {sigma2.shape}")
    if not (np.isfinite(sigma1).all() and np.isfinite(sigma2).all() and np.isfinite(mu1).all()
            and np.isfinite(mu2).all()):
        raise ValueError("FID inputs contain NaN or infinity (non-finite features?)")
    diff = mu1 - mu2
    tr_covmean = trace_sqrt_product(sigma1, sigma2)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


def fid_from_stats(stats1: FeatureStats, stats2: FeatureStats) -> float:
    return frechet_distance(*stats1.mean_cov(), *stats2.mean_cov())


def _as_float64(features) -> np.ndarray:
    f = features.detach().cpu().double().numpy() if isinstance(features, torch.Tensor) \
        else np.asarray(features, np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"FID expects features [N >= 2, D], got shape {f.shape}")
    return f


def fid_from_features(features1, features2) -> float:
    """FID between two feature sets [N1, D], [N2, D] (numpy or torch), exact in float64."""
    f1, f2 = _as_float64(features1), _as_float64(features2)
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"FID feature widths differ: {f1.shape[1]} vs {f2.shape[1]}")
    n1, n2, d = len(f1), len(f2), f1.shape[1]
    if max(n1, n2) > d:
        return fid_from_stats(FeatureStats.of(f1), FeatureStats.of(f2))
    mu1, mu2 = f1.mean(0), f2.mean(0)
    a, b = f1 - mu1, f2 - mu2
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("FID inputs contain NaN or infinity (non-finite features?)")
    tr1, tr2 = (a * a).sum() / (n1 - 1), (b * b).sum() / (n2 - 1)
    tr_covmean = np.linalg.svd(a @ b.T, compute_uv=False).sum() / np.sqrt((n1 - 1) * (n2 - 1))
    diff = mu1 - mu2
    return float(diff @ diff + tr1 + tr2 - 2 * tr_covmean)


def stats_of(images, extractor, batch: int = 50, device=None, progress: bool = False,
             limit: int | None = None) -> FeatureStats:
    """Statistics of the features of an image source (see `extract_features`), one batch at a time."""
    if device is not None and hasattr(extractor, "to"):  # plain callables run where they are
        extractor = extractor.to(device)
    stats = None
    with tqdm(desc="FID features", unit="img", disable=not progress, leave=False) as bar:
        for images_uint8 in as_batches(images, batch, limit):
            feats = extractor(images_uint8)
            stats = (stats or FeatureStats(feats.shape[1])).update(feats)
            bar.update(len(images_uint8))
    if stats is None:
        raise ValueError("no images to compute FID statistics from")
    return stats


def fid_between(real, fake, extractor, batch: int = 50, device="cpu", progress: bool = False,
                real_stats: FeatureStats | None = None) -> float:
    """FID between two image sources (folders, uint8 tensors or iterables of uint8 batches).
    `real_stats`, when given (e.g. from the cache), replaces reading `real`."""
    stats_real = real_stats if real_stats is not None else stats_of(real, extractor, batch, device, progress)
    return fid_from_stats(stats_real, stats_of(fake, extractor, batch, device, progress))
