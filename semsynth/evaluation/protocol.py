"""The FID/KID evaluation protocol shared by `semsynth evaluate` and `semsynth compare`: which real set a cached
statistic belongs to (the cache key), real-set features and statistics through the cache, KID's subset rule,
precision/recall's k and the small-sample warning. Both commands call these functions, so one real set gives one
cache entry and the same numbers in both. The maths lives in fid.py / kid.py / prdc.py, the files in cache.py.

A cache key holds everything the arrays depend on, so a cached statistic cannot describe another set:
- a folder: its resolved path and, for every file read, name, size and mtime_ns (replacing a file under the
  same name changes its size or mtime and recomputes);
- a named data set: name, root, split, size, seed, count, options, a hash of the data readers' source (the
  procedural synthetic-streets is a function of that code) and the stats of every file it reads;
- the protocol version and the SHA-256 of the Inception weights.

`protocol_block` is the provenance every `evaluate --json` and `compare` report carries: what the number depends
on (weights, resize, n, seeds, real split and its cache key, segmenter) and the inputs needed to recompute it
(`semsynth evaluate verify`, semsynth/evaluation/verify.py).
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from semsynth import __version__
from semsynth.data import DATASETS, load_dataset
from semsynth.evaluation.metrics import inception
from semsynth.evaluation.metrics.cache import cached_real_stats, key_sha256
from semsynth.evaluation.metrics.features import FeatureStats, extract_features
from semsynth.evaluation.metrics.fid import stats_of
from semsynth.evaluation.metrics.images import list_images, list_labels
from semsynth.evaluation.metrics.kid import default_subset_size, kid_from_features
from semsynth.evaluation.metrics.prdc import prdc as prdc_from_features
from semsynth.models.io import WEIGHTS_NAME, model_folder

PROTOCOL = "torch-fidelity protocol: uint8 RGB, TF1 bilinear resize to 299x299, (x - 128) / 128, FID Inception"
RESIZE_RULE = ("TF1 bilinear (tf.image.resize_bilinear, align_corners=False) of uint8 RGB to 299x299, "
               "then (x - 128) / 128")
PROTOCOL_VERSION = 1  # part of every cache key: bump it when reading, resizing or normalising images changes
MIN_FID_SAMPLES = 2048  # below this the 2048x2048 covariance is rank-deficient and FID is strongly biased
KID_SUBSETS = 100  # torch-fidelity's kid_subsets
PRDC_K = 3  # nearest neighbours for precision/recall/density/coverage: Kynkäänniemi et al. 2019's k


# ------------------------------------------------------------------------------------------- what a real set is
def _file_stats(paths) -> list[list]:
    stats = []
    for p in paths:
        st = Path(p).stat()
        stats.append([Path(p).name, st.st_size, st.st_mtime_ns])
    return stats


def folder_fingerprint(folder, limit: int | None = None, list_files=list_images) -> dict:
    """Identity of the first `limit` files `list_files(folder)` returns: path, and each file's name, size and
    mtime_ns."""
    files = list_files(folder)[:limit]
    return {"folder": str(Path(folder).resolve()), "n": len(files), "files": _file_stats(files)}


@functools.lru_cache(maxsize=1)
def reader_code_sha256() -> str:
    """SHA-256 of semsynth/data/*.py: what the data sets render or read changes only with this code."""
    h = hashlib.sha256()
    for path in sorted((Path(__file__).parents[1] / "data").glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def dataset_fingerprint(dataset, name: str, *, root=None, split: str, size, seed: int, limit: int | None = None,
                        side: str = "image", options: dict | None = None) -> dict:
    """Identity of the first `limit` items of a named data set. side: "image" (photos) or "label" (layouts): the
    files whose stats enter the key, for readers that list their files (`dataset.scenes`, see data/files.py)."""
    n = len(dataset) if limit is None else min(limit, len(dataset))
    files = [getattr(scene, side) for scene in getattr(dataset, "scenes", [])[:n]]
    return {"data": name, "root": str(Path(root).resolve()) if root else None, "split": split,
            "size": [int(v) for v in size], "n": n, "seed": int(seed), "options": options or {},
            "reader_code_sha256": reader_code_sha256(), "files": _file_stats(f for f in files if f is not None)}


def open_real(real: str, *, root=None, split: str = "val", size=None, seed: int = 0, limit: int | None = None,
              mode: str = "images"):
    """A real set named as a folder or a data-set name -> (source for `as_batches` and friends, fingerprint).
    mode: "images" (photos) or "labels" (id maps). A data set is read at `size` (required) with `seed`."""
    if Path(real).is_dir():
        return real, folder_fingerprint(real, limit, list_images if mode == "images" else list_labels)
    if real not in DATASETS:
        raise ValueError(f"real set {real!r} is neither a folder nor a data set; data sets: {sorted(DATASETS)}")
    if size is None:
        raise ValueError(f"real set {real} is a data set: give the resolution to read it at (--size HxW)")
    dataset = load_dataset(real, root=root, split=split, size=size, mode=mode, seed=seed)
    side = "image" if mode == "images" else "label"
    return dataset, dataset_fingerprint(dataset, real, root=root, split=split, size=size, seed=seed, limit=limit,
                                        side=side)


def classes_fingerprint(classes) -> dict:
    """What colourised layouts depend on: the class names and palette."""
    return {"classes": list(classes.names), "palette_sha256": hashlib.sha256(np.ascontiguousarray(
        classes.colors, np.uint8).tobytes()).hexdigest()}


def real_key(kind: str, fingerprint: dict, extractor) -> dict:
    """The cache key of statistic `kind` ("features", "fid-stats", ...) of the real set `fingerprint`. The
    extractor's memory layout is part of it: its features differ in the last float32 digits, and a cache must
    never mix the two."""
    return {"kind": kind, "protocol_version": PROTOCOL_VERSION, **fingerprint,
            "weights_sha256": extractor.weights_sha256, "layout": getattr(extractor, "layout", "contiguous")}


# ------------------------------------------------------------------------------------------- cached statistics
def real_features(source, extractor, key: dict | None, *, batch: int = 50, limit: int | None = None,
                  device=None, cache_dir=None, progress: bool = False) -> np.ndarray:
    """Features [N, D] of a real image source (see `extract_features`), read from the cache under `key` when
    there (key None = no cache)."""
    def compute():
        return {"features": extract_features(source, extractor, batch, device, progress, limit)}
    return (cached_real_stats(key, compute, cache_dir) if key is not None else compute())["features"]


def real_stats(source, extractor, key: dict | None, *, batch: int = 50, limit: int | None = None,
               device=None, cache_dir=None, progress: bool = False) -> FeatureStats:
    """Streaming FID statistics of a real image source, read from the cache under `key` when there (None = no
    cache). Statistics, not features: O(d^2) memory for any number of images."""
    def compute():
        return stats_of(source, extractor, batch, device, progress, limit).to_arrays()
    return FeatureStats.from_arrays(cached_real_stats(key, compute, cache_dir) if key is not None else compute())


def check_inception(path=None) -> tuple[Path, str]:
    """(weights file, SHA-256) after resolving and hash-checking the Inception weights, or the error saying what is
    missing or wrong. Commands that train before they measure (`demo`, `compare --train`) call it first, so a
    missing file is known in seconds, not after the training."""
    return inception.resolve_weights(path)


# ------------------------------------------------------------------------------------------- KID and sample size
def kid(real_feats, fake_feats, num_subsets: int = KID_SUBSETS, subset_size: int | None = None) -> dict:
    """{"kid_mean", "kid_std", "kid_subsets", "kid_subset_size"}; subset_size None = min(1000, n // 2)."""
    subset_size = subset_size or default_subset_size(len(real_feats), len(fake_feats))
    subset_size = min(subset_size, len(real_feats), len(fake_feats))
    mean, std = kid_from_features(real_feats, fake_feats, num_subsets=num_subsets, subset_size=subset_size)
    return {"kid_mean": mean, "kid_std": std, "kid_subsets": num_subsets, "kid_subset_size": subset_size}


# ------------------------------------------------------------------------------------------- precision / recall
def prdc(real_feats, fake_feats, k: int = PRDC_K, device=None) -> dict:
    """{"precision", "recall", "density", "coverage", "k", "n_real", "n_fake"} of generated features against the
    real set's: the same real features as KID (`real_features` under kind "features"), so one cache entry serves
    both."""
    return {**prdc_from_features(real_feats, fake_feats, k, device=device), "k": int(k),
            "n_real": len(real_feats), "n_fake": len(fake_feats)}


def sample_size_warning(n_real: int, n_fake: int) -> str | None:
    """One line when the sets are too small for a meaningful FID, else None."""
    n = min(n_real, n_fake)
    if n >= MIN_FID_SAMPLES:
        return None
    return (f"only {n_real} real and {n_fake} generated samples: FID needs at least {MIN_FID_SAMPLES} per set "
            f"(below that it is biased upward and compares only with runs of the same n); KID uses subsets of "
            f"{default_subset_size(n_real, n_fake)}, read it with its ± std")


# ------------------------------------------------------------------------------------------- provenance
def real_inputs(real: str, *, root=None, split: str = "val", size=None, seed: int = 0) -> dict:
    """What names a real set so that it can be read again: {"folder": resolved path} or the data-set arguments."""
    if Path(real).is_dir():
        return {"folder": str(Path(real).resolve())}
    return {"data": real, "root": str(Path(root).resolve()) if root else None, "split": split,
            "size": [int(v) for v in size] if size is not None else None, "seed": int(seed)}


def segmenter_provenance(path, miou_real: float | None = None) -> dict:
    """{"path", "sha256" of its weights file (model.safetensors of a model/run folder, or the TorchScript file),
    "miou_real"}: which segmenter gave an mIoU, and how well it segments real photos. sha256 is None for a
    segmenter that is no file (an in-memory stand-in)."""
    path = Path(path)
    weights = model_folder(path) / WEIGHTS_NAME if path.is_dir() else path
    return {"path": str(path.resolve()), "sha256": inception.sha256_of(weights) if weights.is_file() else None,
            "miou_real": miou_real}


def protocol_block(*, inputs: dict, real: dict | None = None, n_real: int | None = None, n_fake: int | None = None,
                   seeds: dict | None = None, extractor=None, fid_skipped: str | None = None,
                   stats_keys: list[dict] = (), kid: dict | None = None, truncation: float | None = None,
                   segmenter: dict | None = None) -> dict:
    """The provenance block of a reported number (evaluate --json and compare's report.json build it here).

    inputs: what `semsynth evaluate verify` needs to recompute (folders, data-set arguments, options); real: the
    real set (`real_inputs`); extractor: the Inception used (None with fid_skipped saying why, or for metrics
    without one); stats_keys: the cache keys of the real statistics used (each cited by kind and SHA-256, which
    also names its cache file); kid: {"kid_subsets", "kid_subset_size"}; segmenter: `segmenter_provenance`.
    """
    block = {"text": PROTOCOL, "version": PROTOCOL_VERSION, "semsynth_version": __version__,
             "real": real, "n_real": n_real, "n_fake": n_fake, "seeds": seeds or {}, "truncation": truncation}
    if extractor is not None:
        block["inception"] = {"weights_sha256": extractor.weights_sha256, "feature_dim": inception.FEATURE_DIM,
                              "feature_resolution": [inception.INPUT_SIZE, inception.INPUT_SIZE],
                              "resize": RESIZE_RULE}
    elif fid_skipped:
        block["inception"] = {"skipped": fid_skipped}
    if stats_keys:
        block["real_stats_keys_sha256"] = {key["kind"]: key_sha256(key) for key in stats_keys}
    if kid is not None:
        block["kid"] = {k: kid[k] for k in ("kid_subsets", "kid_subset_size")}
    if segmenter is not None:
        block["segmenter"] = segmenter
    block["inputs"] = inputs
    return block
