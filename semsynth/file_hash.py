"""SHA-256 of a file, read in 4 MiB blocks: weight files (Inception, VGG, segmenters, converted checkpoints) and
checkpoint manifests are identified by it."""
from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path) -> str:
    """Hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(Path(path), "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
