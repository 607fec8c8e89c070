"""Shape checks at module boundaries (after NVlabs/stylegan3 torch_utils/misc.py `assert_shape`)."""
from __future__ import annotations

import torch


def assert_shape(tensor: torch.Tensor, shape: list[int | None], name: str = "tensor") -> None:
    """Raise ValueError unless `tensor` has len(shape) dims and each size equals the entry (None = any size)."""
    if tensor.dim() != len(shape):
        raise ValueError(f"{name}: expected {len(shape)} dims {list(shape)}, got shape {list(tensor.shape)}")
    for i, (size, want) in enumerate(zip(tensor.shape, shape)):
        if want is not None and size != want:
            raise ValueError(f"{name}: dim {i} is {size}, expected {want} "
                             f"(shape {list(tensor.shape)} vs {list(shape)})")
