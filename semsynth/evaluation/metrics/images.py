"""Image sources for the metrics: folders of PNG/JPEG files, data sets and iterables, all turned into
batches of uint8 [B, 3, H, W] (the edge format of every metric)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from semsynth.data.base import read_image  # the one id-PNG reader of the package
from semsynth.data.labels import to_uint8
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def list_images(folder: str | Path) -> list[Path]:
    """Every PNG/JPEG file directly in `folder`, sorted by name. Raises on a missing or empty folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"image folder {folder} holds no PNG/JPEG files")
    return files


def read_rgb(path: Path) -> torch.Tensor:
    """uint8 [3, H, W]; raises ValueError naming the file when it cannot be decoded."""
    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"{path}: cannot decode image ({err})") from err
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)


def _batches_of(images: Iterable[torch.Tensor], batch: int) -> Iterator[torch.Tensor]:
    # stack consecutive images of one size; a size change closes the batch (FID resizes every image anyway)
    pending: list[torch.Tensor] = []
    for img in images:
        if pending and (len(pending) == batch or img.shape != pending[0].shape):
            yield torch.stack(pending)
            pending = []
        pending.append(img)
    if pending:
        yield torch.stack(pending)


def folder_batches(folder: str | Path, batch: int = 50, limit: int | None = None) -> Iterator[torch.Tensor]:
    """uint8 [B, 3, H, W] batches of the images of `folder` (sorted by name; at most `limit`)."""
    files = list_images(folder)[:limit]
    return _batches_of((read_rgb(p) for p in files), batch)


def _dataset_entries(dataset, key: str, mode: str, limit: int | None):
    """The `key` entries of the first `limit` items of a semsynth data set, one by one."""
    n = len(dataset) if limit is None else min(limit, len(dataset))
    for i in range(n):
        item = dataset[i]
        if key not in item:
            raise ValueError(f"the data set yields no {key!r} entries; load it with mode={mode!r}")
        yield item[key]


def dataset_batches(dataset, batch: int = 50, limit: int | None = None) -> Iterator[torch.Tensor]:
    """uint8 batches of the "image" entries (float [-1, 1]) of a semsynth data set."""
    return _batches_of((to_uint8(x) for x in _dataset_entries(dataset, "image", "images", limit)), batch)


def check_batch(images: torch.Tensor, where: str = "images") -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4 \
            or images.shape[1] != 3:
        desc = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{where}: expected uint8 batches [B, 3, H, W], got {desc}")
    return images


def as_batches(source, batch: int = 50, limit: int | None = None) -> Iterator[torch.Tensor]:
    """Batches from a folder path, a semsynth data set (mode "images"), a uint8 tensor [N, 3, H, W], or an
    iterable of uint8 batches (used as given; `limit` cuts the total count)."""
    if isinstance(source, (str, Path)):
        yield from folder_batches(source, batch, limit)
        return
    if isinstance(source, torch.Tensor):
        source = check_batch(source)
        source = source[:limit] if limit is not None else source
        yield from source.split(batch)
        return
    if isinstance(source, torch.utils.data.Dataset) and hasattr(source, "__getitem__") and hasattr(source, "__len__"):
        yield from dataset_batches(source, batch, limit)
        return
    seen = 0
    for images in source:
        images = check_batch(images)
        if limit is not None:
            images = images[: limit - seen]
        if len(images):
            yield images
        seen += len(images)
        if limit is not None and seen >= limit:
            return


def list_labels(folder: str | Path) -> list[Path]:
    """Every PNG directly in `folder` (id maps), sorted. Raises on a missing or empty folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"label folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".png")
    if not files:
        raise ValueError(f"label folder {folder} holds no PNG id maps")
    return files


def read_label(path: Path) -> torch.Tensor:
    """LongTensor [H, W] of ids from an 8-bit id PNG; raises ValueError naming the file otherwise."""
    return torch.from_numpy(read_image(path, "L").astype(np.int64))


def label_folder_batches(folder: str | Path, batch: int = 50, limit: int | None = None) -> Iterator[torch.Tensor]:
    """LongTensor [B, H, W] batches of the id PNGs of `folder` (sorted by name; at most `limit`)."""
    return _batches_of((read_label(p) for p in list_labels(folder)[:limit]), batch)


def dataset_label_batches(dataset, batch: int = 50, limit: int | None = None) -> Iterator[torch.Tensor]:
    """LongTensor [B, H, W] batches of the "label" entries of a semsynth data set."""
    return _batches_of(_dataset_entries(dataset, "label", "labels", limit), batch)


def as_label_batches(source, batch: int = 50, limit: int | None = None) -> Iterator[torch.Tensor]:
    """LongTensor [B, H, W] batches from a folder of id PNGs or a semsynth data set (mode "labels")."""
    if isinstance(source, (str, Path)):
        return label_folder_batches(source, batch, limit)
    return dataset_label_batches(source, batch, limit)


def matched_image_label_pairs(images_dir: str | Path, labels_dir: str | Path) -> list[tuple[Path, Path]]:
    """(photo, id PNG) pairs matched by file stem, sorted by stem; every photo needs its label and back."""
    images = {p.stem: p for p in list_images(images_dir)}
    labels = {p.stem: p for p in list_labels(labels_dir)}
    missing_label = sorted(set(images) - set(labels))
    missing_image = sorted(set(labels) - set(images))
    if missing_label or missing_image:
        raise ValueError(f"images ({images_dir}) and labels ({labels_dir}) must match by file stem; "
                         f"without label: {missing_label[:5]}, without image: {missing_image[:5]}")
    return [(images[s], labels[s]) for s in sorted(images)]
