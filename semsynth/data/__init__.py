"""Data sets. `load_dataset(name, ...)` is the public entry point; `DATASETS` maps names to reader classes."""
from __future__ import annotations

from typing import Callable

from semsynth.data.ade20k import ADE20K
from semsynth.data.base import MODES, CompactItems, CorruptFileError, SegmentationDataset, expand_items
from semsynth.data.camvid import CamVid
from semsynth.data.cityscapes import Cityscapes
from semsynth.data.cocostuff import COCOStuff
from semsynth.data.folder import FolderDataset
from semsynth.data.labels import from_uint8, one_hot, to_uint8
from semsynth.data.synthetic import SyntheticStreets


# name -> reader class, called as Reader(root=, split=, size=, mode=, seed=, **options)
DATASETS: dict[str, Callable[..., SegmentationDataset]] = {
    "synthetic-streets": SyntheticStreets,
    "cityscapes": Cityscapes,
    "ade20k": ADE20K,
    "coco-stuff": COCOStuff,
    "camvid": CamVid,
    "folder": FolderDataset,
}


def load_dataset(name: str, root=None, split: str = "train", size=(256, 512), mode: str = "paired",
                 seed: int = 0, **options) -> SegmentationDataset:
    """Build a data set. Items are dicts with "label" (LongTensor[H, W], 255 = ignore) and/or "image"
    (float[3, H, W] in [-1, 1]) and "name"; `dataset.classes` is its `ClassSet`.

    name: one of DATASETS; root: folder in the set's official layout (unused for synthetic-streets);
    mode: paired | unpaired | labels | images. Extra options go to the reader (e.g. augment=True).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(DATASETS)}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {list(MODES)}")
    try:
        return DATASETS[name](root=root, split=split, size=tuple(size), mode=mode, seed=seed, **options)
    except TypeError as err:
        if "unexpected keyword argument" not in str(err):
            raise
        raise ValueError(f"data set {name!r} does not take that option ({err}); given: {sorted(options)}") from None


def parse_size(text: str) -> tuple[int, int]:
    """"128x256" -> (128, 256)."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must look like HxW (e.g. 128x256), got {text!r}") from None
    return h, w


__all__ = ["DATASETS", "MODES", "CompactItems", "CorruptFileError", "SegmentationDataset", "load_dataset", "one_hot",
           "to_uint8", "from_uint8", "expand_items", "parse_size"]
