"""A plain folder of photos and id PNGs with its own class list (classes.json)."""
from __future__ import annotations

from pathlib import Path

from semsynth.classes import class_set_from_json
from semsynth.data.files import FileDataset, FileSide, needed_sides, pair_scenes, require_dir

IMAGE_ENDINGS = (".png", ".jpg", ".jpeg")
LAYOUT = """root/
  classes.json      {"name": ..., "classes": [{"name": str, "color": [r, g, b]}, ...], "ignore_index": 255}
  images/<stem>.png|.jpg|.jpeg    8-bit RGB photos   (or images/<split>/...)
  labels/<stem>.png               8-bit ids: position in "classes", or ignore_index   (or labels/<split>/...)"""


def split_dir(folder: Path, split: str, what: str) -> Path:
    """folder/<split> when the folder is split into sub-folders, else folder itself (a flat folder is every split)."""
    folder = require_dir(folder, what, "folder", LAYOUT)
    subs = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subs:
        return folder
    if split not in subs:
        raise FileNotFoundError(f"folder: {folder} is split into sub-folders {subs} but has no {split!r}\n"
                                f"expected layout:\n{LAYOUT}")
    return folder / split


class FolderDataset(FileDataset):
    """Photos and labels paired by stem; ids are positions in root/classes.json's "classes" list. With sub-folders
    images/<split> and labels/<split> the split picks one; without them `split` is not used."""

    def __init__(self, root=None, split: str = "train", size=(256, 256), mode: str = "paired", seed: int = 0,
                 **options):
        if root is None:
            raise ValueError(f"folder needs root=<folder>; expected layout:\n{LAYOUT}")
        root = require_dir(Path(root), "data set root", "folder", LAYOUT)
        spec = root / "classes.json"
        if not spec.is_file():
            raise FileNotFoundError(f"folder: missing class list {spec}\nexpected layout:\n{LAYOUT}")
        classes = class_set_from_json(spec)
        need_images, need_labels = needed_sides(mode)
        images = labels = None
        if need_images:
            images = FileSide(split_dir(root / "images", split, "photo"), IMAGE_ENDINGS)
        if need_labels:
            labels = FileSide(split_dir(root / "labels", split, "label"), (".png",))
        scenes = pair_scenes(images, labels, "folder")
        raw_ids = [i for i in (*range(classes.num_classes), classes.ignore_index) if i < 256]  # 8-bit PNG values
        super().__init__(scenes, classes, raw_ids, size=size, mode=mode, seed=seed, **options)
