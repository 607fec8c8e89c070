"""Improved precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al. 2020) of
generated features against real ones. FID folds fidelity and diversity into one number, so a generator collapsed
onto a few good images and one that covers everything badly can score alike; these four tell them apart
(precision, density: do fakes lie where reals are; recall, coverage: are the reals' regions reached).

With NND_k(x) the distance from x to its k-th nearest neighbour in its own set, x itself excluded, and
B(x) the ball of radius NND_k(x) around x (N reals, M fakes):
- precision = share of fakes inside B(real) of at least one real;
- recall    = share of reals inside B(fake) of at least one fake;
- density   = 1 / (k M) * sum over fakes and reals of 1[fake in B(real)] (about 1 for identically distributed sets,
  above 1 where fakes crowd into dense real regions);
- coverage  = share of reals whose B(real) holds at least one fake.
Balls are closed (distance <= radius) for precision and recall, as Kynkäänniemi's paper and code define them, and
open (<) for density and coverage, as Naeem's reference code (clovaai/generative-evaluation-prdc) does; the two
differ only on exact ties (duplicated samples).

Arithmetic is float64 with torch.cdist. Memory stays bounded for any N, M (50k x 50k would be 20 GB as one
matrix): distances are computed in blocks of whole rows, each at most BLOCK_ELEMENTS values (2^25 float64 =
256 MiB; 671 rows of 50k columns), and reduced at once to the k-th neighbour distance (real-real, fake-fake) or to
per-sample counts and flags (real-fake). Beyond the features themselves memory is one block plus O(N + M). Time is
O((N^2 + M^2 + N M) d) multiply-adds: 3k + 3k 2048-d features take about 6 s on one CPU core, so 50k + 50k
(about 10^13) take about half an hour on one core; pass device="cuda" for seconds.
"""
from __future__ import annotations

import numpy as np
import torch

BLOCK_ELEMENTS = 2 ** 25  # distances held at once (float64: 256 MiB); a block is always at least one whole row


def _as_features(features, name: str, device) -> torch.Tensor:
    f = features.detach() if isinstance(features, torch.Tensor) else torch.from_numpy(np.asarray(features))
    f = f.to(device=device, dtype=torch.float64)
    if f.ndim != 2:
        raise ValueError(f"precision/recall expects {name} features [N, D], got shape {tuple(f.shape)}")
    if not bool(torch.isfinite(f).all()):
        raise ValueError(f"the {name} features hold NaN or inf values")
    return f


def check_k(k, n_real: int, n_fake: int) -> int:
    """k as an int, or the error: k >= 1, and every sample needs k neighbours besides itself in its own set."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be a whole number of nearest neighbours, got {k!r}")
    if k < 1:
        raise ValueError(f"k must be >= 1 nearest neighbours, got {k}")
    if min(n_real, n_fake) <= k:
        raise ValueError(f"k = {k} nearest neighbours need at least {k + 1} real and {k + 1} generated samples "
                         f"(a sample is not its own neighbour), got {n_real} real and {n_fake} generated")
    return int(k)


def _row_blocks(n_rows: int, n_cols: int, block_elements: int):
    step = max(1, block_elements // max(1, n_cols))
    for start in range(0, n_rows, step):
        yield start, min(start + step, n_rows)


def knn_radii(features: torch.Tensor, k: int, block_elements: int = BLOCK_ELEMENTS) -> torch.Tensor:
    """NND_k [N]: the distance from each row of `features` [N, D] to its k-th nearest other row."""
    n = len(features)
    radii = torch.empty(n, dtype=features.dtype, device=features.device)
    for start, stop in _row_blocks(n, n, block_elements):
        dist = torch.cdist(features[start:stop], features)  # [rows, N]
        rows = torch.arange(start, stop, device=dist.device)
        dist[rows - start, rows] = float("inf")  # a sample is not its own neighbour
        radii[start:stop] = dist.kthvalue(k, dim=1).values
    return radii


def prdc(real_features, fake_features, k: int = 3, *, device=None,
         block_elements: int = BLOCK_ELEMENTS) -> dict[str, float]:
    """{"precision", "recall", "density", "coverage"} of fake features [M, D] against real features [N, D] (numpy
    arrays or tensors), with k nearest neighbours. device: where the distances are computed (None = where the
    features are; numpy arrays: CPU)."""
    real = _as_features(real_features, "real", device)
    fake = _as_features(fake_features, "generated", real.device)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and generated feature widths differ: {real.shape[1]} vs {fake.shape[1]}")
    n_real, n_fake = len(real), len(fake)
    k = check_k(k, n_real, n_fake)
    real_radii, fake_radii = knn_radii(real, k, block_elements), knn_radii(fake, k, block_elements)

    fake_in_some_real_ball = torch.zeros(n_fake, dtype=torch.bool, device=real.device)  # precision
    real_in_some_fake_ball = torch.zeros(n_real, dtype=torch.bool, device=real.device)  # recall
    real_balls_per_fake = torch.zeros(n_fake, dtype=torch.int64, device=real.device)  # density
    real_ball_holds_a_fake = torch.zeros(n_real, dtype=torch.bool, device=real.device)  # coverage
    for start, stop in _row_blocks(n_real, n_fake, block_elements):
        dist = torch.cdist(real[start:stop], fake)  # [rows, M]: these reals to every fake
        radius = real_radii[start:stop, None]
        fake_in_some_real_ball |= (dist <= radius).any(0)
        inside_open = dist < radius
        real_balls_per_fake += inside_open.sum(0)
        real_ball_holds_a_fake[start:stop] = inside_open.any(1)
        real_in_some_fake_ball[start:stop] = (dist <= fake_radii[None, :]).any(1)
    return {"precision": float(fake_in_some_real_ball.double().mean()),
            "recall": float(real_in_some_fake_ball.double().mean()),
            "density": float(real_balls_per_fake.sum()) / (k * n_fake),
            "coverage": float(real_ball_holds_a_fake.double().mean())}
