"""COCO-Stuff 164k (stuffthingmaps_trainval2017) in its official layout: ids 0..181 as stored, 255 = unlabeled."""
from __future__ import annotations

from pathlib import Path

from semsynth.classes import IGNORE_INDEX, get_class_set
from semsynth.data.files import FileDataset, FileSide, needed_sides, pair_scenes, require_dir

SPLITS = {"train": "train2017", "val": "val2017", "train2017": "train2017", "val2017": "val2017"}
LAYOUT = """root/
  images/{train2017,val2017}/<id>.jpg                   8-bit RGB photos
     (or root/{train2017,val2017}/<id>.jpg, the folders as unzipped from COCO)
  stuffthingmaps_trainval2017/{train2017,val2017}/<id>.png   8-bit ids 0..181, 255 = unlabeled"""
RAW_IDS = [*range(182), IGNORE_INDEX]


def image_dir(root: Path, folder: str) -> Path:
    """root/images/<folder> (the usual layout) or root/<folder> (COCO's zip unpacked beside the stuff maps)."""
    for candidate in (root / "images" / folder, root / folder):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"coco-stuff: missing photo folder {root / 'images' / folder} "
                            f"(also looked for {root / folder})\nexpected layout:\n{LAYOUT}")


class COCOStuff(FileDataset):
    """COCO-Stuff's 182 label slots (171 used; the 11 unused thing ids are listed as "unused-<id>")."""

    def __init__(self, root=None, split: str = "train", size=(256, 256), mode: str = "paired", seed: int = 0,
                 **options):
        if root is None:
            raise ValueError(f"coco-stuff needs root=<folder>; expected layout:\n{LAYOUT}")
        if split not in SPLITS:
            raise ValueError(f"coco-stuff: unknown split {split!r}; choose from {sorted(SPLITS)}")
        root, folder = require_dir(root, "data set root", "coco-stuff", LAYOUT), SPLITS[split]
        need_images, need_labels = needed_sides(mode)
        images = labels = None
        if need_images:
            images = FileSide(image_dir(root, folder), (".jpg",))
        if need_labels:
            labels = FileSide(require_dir(root / "stuffthingmaps_trainval2017" / folder, f"{split} label",
                                          "coco-stuff", LAYOUT), (".png",))
        scenes = pair_scenes(images, labels, "coco-stuff")
        super().__init__(scenes, get_class_set("coco-stuff"), RAW_IDS, size=size, mode=mode, seed=seed, **options)
