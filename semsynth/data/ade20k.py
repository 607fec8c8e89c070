"""ADE20K SceneParsing (ADEChallengeData2016) in its official layout: raw ids 0 = other -> ignore, 1..150 -> 0..149."""
from __future__ import annotations

from pathlib import Path

from semsynth.classes import get_class_set
from semsynth.data.files import FileDataset, FileSide, needed_sides, pair_scenes, require_dir

SPLITS = {"train": "training", "val": "validation", "training": "training", "validation": "validation"}
LAYOUT = """root/                                   (or root = ADEChallengeData2016 itself)
  ADEChallengeData2016/
    images/{training,validation}/ADE_*.jpg         8-bit RGB photos
    annotations/{training,validation}/ADE_*.png    8-bit ids: 0 = other (ignore), 1..150 = classes"""
RAW_IDS = range(151)


def dataset_dir(root: Path) -> Path:
    """Accept both the folder holding ADEChallengeData2016 and that folder itself."""
    root = require_dir(root, "data set root", "ade20k", LAYOUT)
    inner = root / "ADEChallengeData2016"
    return inner if inner.is_dir() or not (root / "images").is_dir() else root


class ADE20K(FileDataset):
    """ADE20K's 150 SceneParsing classes; split "train" reads training/, "val" reads validation/."""

    def __init__(self, root=None, split: str = "train", size=(256, 256), mode: str = "paired", seed: int = 0,
                 **options):
        if root is None:
            raise ValueError(f"ade20k needs root=<folder>; expected layout:\n{LAYOUT}")
        if split not in SPLITS:
            raise ValueError(f"ade20k: unknown split {split!r}; choose from {sorted(SPLITS)}")
        base, folder = dataset_dir(Path(root)), SPLITS[split]
        need_images, need_labels = needed_sides(mode)
        images = labels = None
        if need_images:
            images = FileSide(require_dir(base / "images" / folder, f"{split} photo", "ade20k", LAYOUT), (".jpg",))
        if need_labels:
            labels = FileSide(require_dir(base / "annotations" / folder, f"{split} label", "ade20k", LAYOUT),
                              (".png",))
        scenes = pair_scenes(images, labels, "ade20k")
        super().__init__(scenes, get_class_set("ade20k"), RAW_IDS, size=size, mode=mode, seed=seed, **options)
