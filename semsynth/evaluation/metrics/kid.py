"""Kernel Inception Distance (Bińkowski et al. 2018) as torch-fidelity 0.4.0 computes it: the unbiased MMD^2
with the polynomial kernel k(x, y) = (gamma x.y + coef0)^degree (gamma = 1/d by default), averaged over
`num_subsets` random subsets of `subset_size` features drawn without replacement from each set by
`np.random.RandomState(seed)` in the same order, so the same features give the same subsets and numbers.
Arithmetic is float64 (torch-fidelity uses the features' dtype, float32 for its extractor; the difference is
rounding, about 1e-5 relative on typical sets).

Subset size: `default_subset_size` = min(1000, n // 2) for n samples in the smaller set (at least 2). This
differs from torch-fidelity 0.4.0, which uses a fixed kid_subset_size of 1000 and refuses sets smaller than
that: below 2000 samples we halve instead, because subsets as large as the set are all the same set, and
"KID ± std" would then show a std of 0 by construction. From 2000 samples on both rules give 1000.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from semsynth.evaluation.metrics.features import extract_features

DEFAULT_SEED = 2020  # torch-fidelity's rng_seed
MAX_SUBSET_SIZE = 1000  # torch-fidelity's kid_subset_size


def default_subset_size(n1: int, n2: int) -> int:
    """min(1000, n // 2) features per subset, n the smaller set: half the set leaves real randomness between
    subsets (with the whole set every subset is the same and the std is 0). At least 2 (the MMD needs pairs)."""
    return max(2, min(MAX_SUBSET_SIZE, min(n1, n2) // 2))


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None,
                      coef0: float = 1.0) -> np.ndarray:
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(k_xx: np.ndarray, k_xy: np.ndarray, k_yy: np.ndarray) -> float:
    """Unbiased MMD^2 of two equal-size samples from their kernel matrices (diagonals of k_xx, k_yy dropped)."""
    m = k_xx.shape[0]
    if k_xx.shape != (m, m) or k_xy.shape != (m, m) or k_yy.shape != (m, m):
        raise ValueError(f"kernel matrices must all be [{m}, {m}]")
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2 * k_xy.sum() / (m * m))


def _as_array(features) -> np.ndarray:
    f = features.detach().cpu().double().numpy() if isinstance(features, torch.Tensor) \
        else np.asarray(features, np.float64)
    if f.ndim != 2:
        raise ValueError(f"KID expects features [N, D], got shape {f.shape}")
    return f


def kid_from_features(features1, features2, num_subsets: int = 100, subset_size: int | None = None, degree: int = 3,
                      gamma: float | None = None, coef0: float = 1.0, seed: int = DEFAULT_SEED
                      ) -> tuple[float, float]:
    """(mean, std) of the unbiased polynomial-kernel MMD^2 over random subsets.

    subset_size: None = `default_subset_size` (min(1000, n // 2)); a given size larger than the smaller set is
    clipped to it with a warning (the number then depends on N). Fewer than 2 features in a set is an error.
    """
    f1, f2 = _as_array(features1), _as_array(features2)
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"KID feature widths differ: {f1.shape[1]} vs {f2.shape[1]}")
    n1, n2 = len(f1), len(f2)
    if min(n1, n2) < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {n1} and {n2}")
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be >= 1, got {num_subsets}")
    if subset_size is None:
        subset_size = default_subset_size(n1, n2)
    if subset_size > min(n1, n2):
        warnings.warn(f"KID subset size {subset_size} is larger than the sets ({n1}, {n2}); using "
                      f"{min(n1, n2)}: the value is comparable only with runs of the same subset size", stacklevel=2)
        subset_size = min(n1, n2)
    if subset_size < 2:
        raise ValueError(f"KID subset size must be >= 2, got {subset_size}")
    rng = np.random.RandomState(seed)
    mmds = np.zeros(num_subsets)
    for i in range(num_subsets):
        x = f1[rng.choice(n1, subset_size, replace=False)]
        y = f2[rng.choice(n2, subset_size, replace=False)]
        mmds[i] = mmd2_unbiased(polynomial_kernel(x, x, degree, gamma, coef0),
                                polynomial_kernel(x, y, degree, gamma, coef0),
                                polynomial_kernel(y, y, degree, gamma, coef0))
    return float(mmds.mean()), float(mmds.std())


def kid_between(real, fake, extractor, batch: int = 50, device="cpu", progress: bool = False,
                real_features: np.ndarray | None = None, **kid_options) -> tuple[float, float]:
    """KID (mean, std) between two image sources (folders, uint8 tensors or iterables of uint8 batches).
    `real_features`, when given (e.g. from the cache), replaces reading `real`."""
    if real_features is None:
        real_features = extract_features(real, extractor, batch, device, progress)
    fake_features = extract_features(fake, extractor, batch, device, progress)
    return kid_from_features(real_features, fake_features, **kid_options)
