"""Pictures for people: sample grids and id maps as PNG files. Colourising label maps is
semsynth.data.labels.colorize_batch, which training uses too."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid



def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> torch.Tensor:
    """uint8 [N, 3, H, W] -> uint8 [3, H', W'] grid."""
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"expected uint8 [N, 3, H, W], got {images.dtype} {tuple(images.shape)}")
    return make_grid(images.cpu(), nrow=nrow, padding=padding, pad_value=255)


def save_png(image: torch.Tensor | np.ndarray, path) -> Path:
    """Write uint8 [3, H, W] (tensor) or [H, W, 3] / [H, W] (numpy) as PNG, creating folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        image = image.permute(1, 2, 0).numpy() if image.dim() == 3 else image.numpy()
    Image.fromarray(np.ascontiguousarray(image)).save(path)
    return path


def save_grid(images: torch.Tensor, path, nrow: int = 8) -> Path:
    """uint8 [N, 3, H, W] -> one PNG grid."""
    return save_png(image_grid(images, nrow=nrow), path)


def save_label_png(label: torch.Tensor | np.ndarray, path) -> Path:
    """[H, W] ids (0..254, 255 = ignore) -> 8-bit grey id PNG."""
    arr = label.cpu().numpy() if isinstance(label, torch.Tensor) else np.asarray(label)
    if arr.min() < 0 or arr.max() > 255:
        raise ValueError(f"label ids must fit 8 bits, found {arr.min()}..{arr.max()}")
    return save_png(arr.astype(np.uint8), path)
