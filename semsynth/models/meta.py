"""Building networks on the meta device: shapes and parameter counts with no memory and no values (dry runs, and
checking a model folder's config against its weights before anything is allocated)."""
from __future__ import annotations

import contextlib
from unittest import mock

import torch


@contextlib.contextmanager
def building_on_meta():
    """Within it, new modules are created on the meta device. Spectral norm runs 15 power iterations when it is
    attached; on meta tensors they compute nothing, yet cost ~0.2 s per layer through Python decompositions (~4 s
    for a SPADE G), so they are skipped (a private torch name: without it they simply run)."""
    spectral = getattr(torch.nn.utils.parametrizations, "_SpectralNorm", None)
    skip = (mock.patch.object(spectral, "_power_method", lambda self, weight_mat, n_power_iterations: None)
            if spectral is not None and hasattr(spectral, "_power_method") else contextlib.nullcontext())
    with skip, torch.device("meta"):
        yield
