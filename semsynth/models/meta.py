"""Building networks on the meta device: shapes and parameter counts with no memory and no values (dry runs, and
checking a model folder's config against its weights before anything is allocated)."""
from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def building_on_meta():
    """Within it, new modules are created on the meta device. semsynth's spectral norm skips its 15 start-up power
    iterations on meta tensors (through Python decompositions they cost ~0.2 s per layer and compute nothing)."""
    with torch.device("meta"):
        yield
