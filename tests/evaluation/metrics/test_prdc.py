"""Precision / recall / density / coverage against a plain brute-force reference, sanity cases, k checks."""
import math

import numpy as np
import pytest
import torch

from semsynth.evaluation.metrics.prdc import prdc


def _kth_neighbour_distance(points, i, k):
    others = sorted(math.dist(points[i], points[j]) for j in range(len(points)) if j != i)
    return others[k - 1]


def brute_force_prdc(real, fake, k):
    """The papers' definitions written as loops over plain Python lists."""
    real, fake = real.tolist(), fake.tolist()
    real_radius = [_kth_neighbour_distance(real, i, k) for i in range(len(real))]
    fake_radius = [_kth_neighbour_distance(fake, j, k) for j in range(len(fake))]
    precision_hits = recall_hits = density_hits = coverage_hits = 0
    for f in fake:
        if any(math.dist(f, r) <= rad for r, rad in zip(real, real_radius)):
            precision_hits += 1
        for r, rad in zip(real, real_radius):
            if math.dist(f, r) < rad:
                density_hits += 1
    for r, rad in zip(real, real_radius):
        if any(math.dist(r, f) <= frad for f, frad in zip(fake, fake_radius)):
            recall_hits += 1
        if any(math.dist(r, f) < rad for f in fake):
            coverage_hits += 1
    return {"precision": precision_hits / len(fake), "recall": recall_hits / len(real),
            "density": density_hits / (k * len(fake)), "coverage": coverage_hits / len(real)}


def _features(seed, n, d=8, shift=0.0, scale=1.0):
    return np.random.default_rng(seed).normal(size=(n, d)) * scale + shift


@pytest.mark.parametrize("k", [1, 3, 5])
def test_prdc_equals_the_brute_force_reference(k):
    real, fake = _features(0, 40), _features(1, 30, shift=0.4, scale=1.3)
    expected = brute_force_prdc(real, fake, k)
    got = prdc(real, fake, k=k)
    print(k, expected, got)
    assert set(got) == {"precision", "recall", "density", "coverage"}
    for key in expected:
        assert got[key] == pytest.approx(expected[key], abs=1e-6), key
    assert 0 < got["precision"] < 1 and 0 < got["recall"] < 1 and 0 < got["coverage"] < 1  # a non-trivial case


def test_tiny_blocks_give_the_same_numbers_as_one_block():
    """The block size is a memory knob only: one row per block, odd splits and one block agree exactly."""
    real, fake = _features(2, 40), _features(3, 30, shift=0.3)
    whole = prdc(real, fake, k=3)
    for block_elements in (1, 7 * 40, 10**9):
        assert prdc(real, fake, k=3, block_elements=block_elements) == whole


def test_tensors_and_numpy_arrays_give_the_same_numbers():
    real, fake = _features(4, 40).astype(np.float32), _features(5, 30, shift=0.2).astype(np.float32)
    assert prdc(torch.from_numpy(real), torch.from_numpy(fake)) == prdc(real, fake)


def test_identical_sets_are_fully_precise_and_covered():
    real = _features(6, 50)
    got = prdc(real, real.copy(), k=3)
    assert got["precision"] == got["recall"] == got["coverage"] == 1.0
    # each fake lies in its own real's ball and in the balls of reals that count it among their k - 1 nearest (1 in
    # all); the reals with it as k-th neighbour hold it on the boundary, a tie rounding may count (up to 1 + 1/k)
    assert 1.0 - 1e-9 <= got["density"] <= 1.0 + 1 / 3 + 1e-9


def test_far_apart_sets_score_zero():
    got = prdc(_features(7, 40), _features(8, 30, shift=100.0), k=3)
    assert got == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_a_collapsed_generator_is_precise_but_has_no_recall():
    """What FID alone cannot say: fakes piled onto a few real samples are all realistic, and miss most reals."""
    real = _features(9, 60)
    collapsed = real[:2].repeat(15, axis=0) + _features(10, 30) * 1e-3
    got = prdc(real, collapsed, k=3)
    print(got)
    assert got["precision"] == 1.0 and got["recall"] < 0.2 and got["coverage"] < 0.2


@pytest.mark.parametrize("k, n_real, n_fake, message", [
    (0, 10, 10, "k must be >= 1"),
    (-2, 10, 10, "k must be >= 1"),
    (2.5, 10, 10, "whole number"),
    (True, 10, 10, "whole number"),
    (3, 3, 10, "at least 4 real and 4 generated samples"),
    (3, 10, 3, "got 10 real and 3 generated"),
])
def test_k_is_checked(k, n_real, n_fake, message):
    with pytest.raises(ValueError, match=message):
        prdc(_features(0, n_real), _features(1, n_fake), k=k)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="widths differ"):
        prdc(_features(0, 10, d=8), _features(1, 10, d=4))
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        prdc(np.zeros(10), _features(1, 10))
    bad = _features(1, 10)
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        prdc(_features(0, 10), bad)
