"""FID / KID maths: self-distance, symmetry, an independent SciPy computation, streaming, torch-fidelity's KID."""
import numpy as np
import pytest
import scipy.linalg
import torch

from semsynth.evaluation.metrics.features import FeatureStats
from semsynth.evaluation.metrics.fid import fid_from_features, fid_from_stats, frechet_distance
from semsynth.evaluation.metrics.kid import kid_from_features

D = 48  # small feature width keeps the full (eigen-decomposition) route fast; the maths does not depend on d


def _features(seed, n, d=D, scale=1.0, shift=0.0):
    rng = np.random.default_rng(seed)
    mix = np.random.default_rng(1234).normal(size=(d, d)) / np.sqrt(d)  # one distribution family for all seeds
    return (rng.gamma(2.0, 1.0, size=(n, d)) @ mix * scale + shift).astype(np.float32)


def _scipy_fid(f1, f2):
    # independent reference: np.cov + scipy.linalg.sqrtm, as pytorch-fid computes it
    f1, f2 = f1.astype(np.float64), f2.astype(np.float64)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_fid_of_a_set_with_itself_is_zero():
    a = _features(0, 300)
    for value in (fid_from_features(a, a), fid_from_stats(FeatureStats.of(a), FeatureStats.of(a)),
                  fid_from_features(a[:30], a[:30])):  # N > d (full route) and N <= d (low-rank route)
        print("self FID", value)
        assert abs(value) < 1e-6


def test_fid_is_symmetric_and_matches_scipy():
    a, b = _features(1, 400), _features(2, 250, scale=1.3, shift=0.2)
    ab, ba, ref = fid_from_features(a, b), fid_from_features(b, a), _scipy_fid(a, b)
    print(f"FID ab={ab:.10f} ba={ba:.10f} scipy={ref:.10f}")
    assert ab > 1.0
    assert ab == pytest.approx(ba, rel=1e-9)
    assert ab == pytest.approx(ref, rel=1e-7)


def test_low_rank_route_matches_full_route():
    # N <= d uses the nuclear norm of A B^T; it must equal the eigen route on the same covariances
    a, b = _features(3, 30), _features(4, 20, scale=0.7)
    low = fid_from_features(a, b)
    full = fid_from_stats(FeatureStats.of(a), FeatureStats.of(b))
    print("low-rank", low, "full", full, "scipy", _scipy_fid(a, b))
    assert low == pytest.approx(full, rel=1e-7)  # the eigen route adds sqrt(rounding) of null-space eigenvalues
    assert low == pytest.approx(_scipy_fid(a, b), rel=1e-5)  # sqrtm is least accurate on singular matrices


def test_fid_does_not_depend_on_batch_size():
    a, b = _features(5, 301), _features(6, 157, shift=0.5)
    ref = fid_from_features(a, b)
    for batch in (1, 7, 64, 301):
        s1, s2 = FeatureStats(D), FeatureStats(D)
        for start in range(0, len(a), batch):
            s1.update(torch.from_numpy(a[start:start + batch]))
        for start in range(0, len(b), batch):
            s2.update(b[start:start + batch])
        assert fid_from_stats(s1, s2) == pytest.approx(ref, rel=1e-9), batch


def test_stats_merge_like_ranks_and_round_trip():
    a = _features(7, 120)
    halves = FeatureStats(D).update(a[:50]).merge(FeatureStats(D).update(a[50:]))
    mu, cov = halves.mean_cov()
    np.testing.assert_allclose(mu, a.astype(np.float64).mean(0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cov, np.cov(a.astype(np.float64), rowvar=False), rtol=1e-8, atol=1e-10)
    back = FeatureStats.from_arrays(halves.to_arrays())
    assert back.count == 120 and np.array_equal(back.sum_outer, halves.sum_outer)


def test_fid_rejects_bad_input():
    with pytest.raises(ValueError, match="widths differ"):
        fid_from_features(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.zeros(2), np.eye(2) * np.nan, np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"\[N, 4\]"):
        FeatureStats(4).update(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="at least 2"):
        FeatureStats(4).update(np.zeros((1, 4))).mean_cov()


def test_kid_matches_torch_fidelity_on_the_same_features():
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
    a, b = _features(8, 120, d=64).astype(np.float64), _features(9, 90, d=64, shift=0.3).astype(np.float64)
    ours = kid_from_features(a, b, num_subsets=30, subset_size=50, seed=2020)
    theirs = metric_kid.kid_features_to_metric(torch.from_numpy(a), torch.from_numpy(b), kid_subsets=30,
                                               kid_subset_size=50, rng_seed=2020, verbose=False)
    print("ours", ours, "torch-fidelity", theirs)
    assert ours[0] > 1e-3
    assert ours[0] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-9)
    assert ours[1] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-9)


def test_kid_is_near_zero_for_one_distribution_and_clips_subset_size():
    a, b = _features(10, 200), _features(11, 200)
    same, _ = kid_from_features(a, b, num_subsets=20, subset_size=100)
    diff, _ = kid_from_features(a, _features(12, 200, shift=0.5), num_subsets=20, subset_size=100)
    print("KID same distribution", same, "shifted", diff)
    assert abs(same) < 0.1 * diff
    with pytest.warns(UserWarning, match="larger than the sets"):
        kid_from_features(a[:20], b[:30], num_subsets=2, subset_size=1000)
    with pytest.raises(ValueError, match="at least 2"):
        kid_from_features(a[:1], b, num_subsets=2, subset_size=1)


def test_all_reduce_sums_statistics_over_a_process_group(tmp_path):
    dist = torch.distributed
    if not dist.is_available():
        pytest.skip("torch.distributed not available")
    a = _features(13, 40)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        reduced = FeatureStats.of(a).all_reduce()  # one rank: the sum over ranks is its own statistics
    finally:
        dist.destroy_process_group()
    ref = FeatureStats.of(a)
    assert reduced.count == 40
    np.testing.assert_array_equal(reduced.sum_outer, ref.sum_outer)
    np.testing.assert_array_equal(reduced.sum, ref.sum)


def test_kid_default_subsets_leave_randomness_for_small_sets():
    # 50 vs 50: subsets of the whole set are all the same set (std 0 by construction); the default takes 25
    from semsynth.evaluation.metrics.kid import default_subset_size
    a, b = _features(14, 50), _features(15, 50, shift=0.2)
    mean, std = kid_from_features(a, b, num_subsets=20)
    _, whole_std = kid_from_features(a, b, num_subsets=20, subset_size=50)
    print(f"KID 50 vs 50: default subsets {mean:.5f} ± {std:.5f}, whole-set subsets ± {whole_std:.1e}")
    assert std > 1e-3 * abs(mean) and whole_std < 1e-12
    assert [default_subset_size(n, 5000) for n in (3, 4, 50, 1999, 2000, 50000)] == [2, 2, 25, 999, 1000, 1000]
