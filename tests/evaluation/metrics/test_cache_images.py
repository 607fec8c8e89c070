"""Real-statistics cache and image sources (folders, tensors, iterables)."""
import numpy as np
import pytest
import torch
from PIL import Image

from semsynth.evaluation.metrics.cache import cache_path, cached_real_stats
from semsynth.evaluation.metrics.features import extract_features
from semsynth.evaluation.metrics.fid import stats_of
from semsynth.evaluation.metrics.images import as_batches, folder_batches, label_folder_batches


def test_cache_hits_on_the_second_call(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"sum": np.arange(4.0), "count": np.asarray(7)}
    key = {"kind": "fid-stats", "data": "x", "split": "val", "size": [32, 64], "n": 7, "weights_sha256": "ab"}
    first = cached_real_stats(key, compute, tmp_path)
    second = cached_real_stats(dict(reversed(list(key.items()))), compute, tmp_path)  # key order is irrelevant
    assert len(calls) == 1
    np.testing.assert_array_equal(first["sum"], second["sum"])
    assert int(second["count"]) == 7
    assert not list(tmp_path.glob("*.tmp"))  # the atomic write left no temp file
    cached_real_stats({**key, "n": 8}, compute, tmp_path)  # another key: computed again
    assert len(calls) == 2
    # a corrupt cache file is recomputed and replaced, not trusted
    cache_path(key, tmp_path).write_bytes(b"garbage")
    cached_real_stats(key, compute, tmp_path)
    assert len(calls) == 3


def _write_pngs(folder, sizes, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = []
    for i, (h, w) in enumerate(sizes):
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(a).save(folder / f"{i:03d}.png")
        arrays.append(a)
    return arrays


def test_folder_batches_read_sorted_rgb_and_split_on_size(tmp_path):
    arrays = _write_pngs(tmp_path / "imgs", [(8, 12)] * 3 + [(10, 6)] * 2)
    (tmp_path / "imgs" / "notes.txt").write_text("ignored")
    batches = list(folder_batches(tmp_path / "imgs", batch=2))
    assert [tuple(b.shape) for b in batches] == [(2, 3, 8, 12), (1, 3, 8, 12), (2, 3, 10, 6)]
    assert torch.equal(batches[0][1], torch.from_numpy(arrays[1]).permute(2, 0, 1))
    assert sum(len(b) for b in as_batches(tmp_path / "imgs", batch=50, limit=4)) == 4


def test_bad_folders_and_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(folder_batches(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no PNG/JPEG"):
        list(folder_batches(tmp_path / "empty"))
    _write_pngs(tmp_path / "bad", [(4, 4)])
    (tmp_path / "bad" / "zzz.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="zzz.png"):
        list(folder_batches(tmp_path / "bad"))
    with pytest.raises(ValueError, match="uint8"):
        list(as_batches([torch.zeros(2, 3, 4, 4)]))


def test_label_folder_batches(tmp_path):
    (tmp_path / "lab").mkdir()
    ids = np.array([[0, 1], [255, 2]], np.uint8)
    Image.fromarray(ids).save(tmp_path / "lab" / "a.png")
    (batch,) = list(label_folder_batches(tmp_path / "lab"))
    assert batch.dtype == torch.long and batch[0].tolist() == [[0, 1], [255, 2]]


def test_streaming_stats_do_not_depend_on_batch_size(tmp_path):
    def extractor(images):  # cheap deterministic stand-in for Inception
        x = images.float()
        return torch.cat([x.mean((2, 3)), x.amax((2, 3)), x[:, :, :2, :2].flatten(1)], 1)
    _write_pngs(tmp_path / "imgs", [(8, 8)] * 9, seed=3)
    feats = extract_features(tmp_path / "imgs", extractor, batch=4, progress=False)
    assert feats.shape == (9, 18)
    ref = stats_of(tmp_path / "imgs", extractor, batch=9)
    for batch in (1, 2, 5):
        s = stats_of(tmp_path / "imgs", extractor, batch=batch)
        np.testing.assert_allclose(s.mean_cov()[1], ref.mean_cov()[1], rtol=1e-12, atol=1e-9)
        assert s.count == 9
