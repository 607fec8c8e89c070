"""On-disk cache of real-set statistics (feature sums, features): computed once per key and read back as plain
.npz arrays (no pickle). What a key holds (the real set's files, the weights hash, ...) is decided in
semsynth/evaluation/protocol.py; this module only stores and matches it."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np


def default_cache_dir() -> Path:
    """`$SEMSYNTH_CACHE/real-stats`, or `~/.cache/semsynth/real-stats`."""
    root = os.environ.get("SEMSYNTH_CACHE") or Path.home() / ".cache" / "semsynth"
    return Path(root) / "real-stats"


def key_sha256(key: dict) -> str:
    """SHA-256 of the canonical JSON of a cache key: names its file, and reports cite it."""
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def cache_path(key: dict, cache_dir: str | Path) -> Path:
    """File of `key` (a JSON-able dict): the SHA-256 of its canonical JSON names it."""
    return Path(cache_dir) / f"{key_sha256(key)[:20]}.npz"


def _write_atomic(path: Path, arrays: dict[str, np.ndarray], key: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays, __key__=np.asarray(json.dumps(key, sort_keys=True, default=str)))
        os.replace(tmp, path)  # readers see the old file or the whole new one, never a partial write
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cached_real_stats(key: dict, compute_fn: Callable[[], dict[str, np.ndarray]],
                      cache_dir: str | Path | None = None) -> dict[str, np.ndarray]:
    """Arrays for `key` from the cache, or from `compute_fn()` (then written atomically to the cache).

    key: everything the arrays depend on, e.g. {"kind": "fid-stats", "data": "cityscapes", "split": "val",
    "size": [256, 512], "n": 500, "weights_sha256": ...}. A stored file whose key differs is recomputed.
    """
    if not isinstance(key, dict) or not key:
        raise ValueError(f"cache key must be a non-empty dict, got {key!r}")
    path = cache_path(key, cache_dir or default_cache_dir())
    want = json.dumps(key, sort_keys=True, default=str)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["__key__"]) == want:
                    return {k: z[k] for k in z.files if k != "__key__"}
        except (OSError, ValueError, KeyError):
            pass  # unreadable or foreign file: recompute and replace it
    arrays = {k: np.asarray(v) for k, v in compute_fn().items()}
    _write_atomic(path, arrays, key)
    return arrays
