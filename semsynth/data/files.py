"""What every on-disk reader shares: find files by name ending, pair photos with labels by stem, and load them
with errors that name the files. Readers (cityscapes.py, ade20k.py, ...) only say where their files are."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semsynth.classes import ClassSet
from semsynth.data.base import SegmentationDataset, read_image


@dataclass(frozen=True)
class FileSide:
    """One half of a split: where its files are and how their names end."""
    folder: Path                    # e.g. root/leftImg8bit/train
    endings: tuple[str, ...]        # name endings cut off to get the stem, e.g. ("_leftImg8bit.png",)
    depth: int = 0                  # sub-folder levels between `folder` and the files (1 = Cityscapes cities)

    def pattern(self) -> str:
        sub = "*/" * self.depth
        return f"{self.folder}/{sub}<stem>{'|'.join(self.endings)}"

    def expected(self, stem: str, like: Path, like_side: "FileSide") -> str:
        """Where this side's file for `stem` should be, given the other side's file `like`."""
        rel = like.parent.relative_to(like_side.folder)
        return " or ".join(str(self.folder / rel / (stem + e)) for e in self.endings)


@dataclass(frozen=True)
class Scene:
    stem: str                       # shared name of the photo and its label
    image: Path | None              # None in "labels" mode
    label: Path | None              # None in "images" mode


def require_dir(folder: Path, what: str, reader: str, layout: str) -> Path:
    """Return `folder` or raise FileNotFoundError printing the expected layout."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{reader}: missing {what} folder {folder}\nexpected layout:\n{layout}")
    return folder


def list_side(side: FileSide) -> dict[str, Path]:
    """stem -> file for every file of `side` (sorted walk; a stem found twice raises)."""
    out: dict[str, Path] = {}
    glob = "*/" * side.depth + "*"
    for path in sorted(side.folder.glob(glob)):
        ending = next((e for e in side.endings if path.name.lower().endswith(e.lower())), None)
        if ending is None or not path.is_file():
            continue
        stem = path.name[: -len(ending)]
        if stem in out:
            raise ValueError(f"two files share the stem {stem!r}: {out[stem]} and {path}")
        out[stem] = path
    return out


def pair_scenes(images: FileSide | None, labels: FileSide | None, reader: str) -> list[Scene]:
    """Scenes sorted by stem. With both sides given every photo needs its label and every label its photo."""
    found_images = list_side(images) if images is not None else {}
    found_labels = list_side(labels) if labels is not None else {}
    if images is not None and labels is not None:
        for stem, path in found_images.items():
            if stem not in found_labels:
                raise FileNotFoundError(f"{reader}: photo {path} has no label; expected "
                                        f"{labels.expected(stem, path, images)}")
        for stem, path in found_labels.items():
            if stem not in found_images:
                raise FileNotFoundError(f"{reader}: label {path} has no photo; expected "
                                        f"{images.expected(stem, path, labels)}")
    stems = sorted(found_images if images is not None else found_labels)
    if not stems:
        where = " and ".join(s.pattern() for s in (images, labels) if s is not None)
        raise FileNotFoundError(f"{reader}: no files found matching {where}")
    return [Scene(s, found_images.get(s), found_labels.get(s)) for s in stems]


def needed_sides(mode: str) -> tuple[bool, bool]:
    """(needs photos, needs labels) for a data-set mode."""
    return mode != "labels", mode != "images"


class FileDataset(SegmentationDataset):
    """A data set of photo/label files paired by stem. Labels hold raw ids; `raw_ids` lists the ones a valid file
    may contain (anything else raises, naming the file) and `classes.to_train_ids` maps them to train ids."""

    def __init__(self, scenes: list[Scene], classes: ClassSet, raw_ids, size=(256, 512), mode: str = "paired",
                 seed: int = 0, augment: bool = False, skip_corrupt: bool = False):
        super().__init__(classes, size=size, mode=mode, seed=seed, augment=augment, skip_corrupt=skip_corrupt)
        self.scenes = list(scenes)
        self.raw_valid = np.zeros(256, bool)  # 8-bit id PNGs: a lookup over every possible value
        self.raw_valid[list(raw_ids)] = True

    @property
    def num_scenes(self) -> int:
        return len(self.scenes)

    def scene_name(self, index: int) -> str:
        return self.scenes[index].stem

    def scene_source(self, index: int) -> str:
        scene = self.scenes[index]
        return str(scene.label if scene.label is not None and self.mode != "images" else scene.image)

    def load_label(self, index: int) -> np.ndarray:
        path = self.scenes[index].label
        raw = read_image(path, "L")
        present = np.flatnonzero(np.bincount(raw.ravel(), minlength=256))
        bad = [int(v) for v in present if not self.raw_valid[v]]
        if bad:
            valid = np.flatnonzero(self.raw_valid)
            raise ValueError(f"{path}: label ids {bad} are outside class set {self.classes.name!r} "
                             f"(valid raw ids: {_ranges(valid)})")
        return self.classes.to_train_ids(raw)

    def load_image(self, index: int) -> np.ndarray:
        return read_image(self.scenes[index].image, "RGB")

    def load_pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        label, image = self.load_label(index), self.load_image(index)
        if label.shape != image.shape[:2]:
            scene = self.scenes[index]
            raise ValueError(f"label {scene.label} is {label.shape[0]}x{label.shape[1]} but its photo {scene.image} "
                             f"is {image.shape[0]}x{image.shape[1]} (HxW); they must be the same size")
        return label, image


def _ranges(values) -> str:
    """[0, 1, 2, 5, 255] -> "0..2, 5, 255"."""
    parts, values = [], [int(v) for v in values]
    start = prev = values[0]
    for v in values[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(f"{start}..{prev}" if prev > start else f"{start}")
        if v is not None:
            start = prev = v
    return ", ".join(parts)


__all__ = ["FileDataset", "FileSide", "Scene", "list_side", "needed_sides", "pair_scenes",
           "require_dir"]
