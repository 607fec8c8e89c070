"""Small fake data-set trees in the real layouts and bit depths, built in tmp_path.

Every scene k is a set of vertical stripes of uneven widths (so a flip or a crop moves every boundary). Stripe
code c (0..7) is written as raw id `raw_ids[c]` into the label and as red = 20 + 30 c into the photo; the photo's
blue channel is 20 + 40 k, so any photo tells which scene and which stripe it came from.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

HW = (48, 96)                                   # file size (H, W), 1:2 like street scenes
WIDTHS = (8, 10, 12, 14, 16, 12, 10, 14)        # stripe widths in pixels (sum = 96), uneven on purpose


@dataclass
class FakeSet:
    root: Path                                  # what the reader gets as root
    raw_ids: list[int]                          # raw id written for stripe code c
    train_ids: list[int]                        # train id the reader must return for code c
    images: dict[str, Path] = field(default_factory=dict)   # stem -> photo file
    labels: dict[str, Path] = field(default_factory=dict)   # stem -> label file

    @property
    def stems(self) -> list[str]:
        return sorted(self.images)

    def expected_label(self, k: int) -> np.ndarray:
        """Train ids [H, W] of the k-th scene in sorted order, at file size."""
        return np.asarray(self.train_ids, np.int64)[scene_codes(k)]


def scene_codes(k: int, hw=HW) -> np.ndarray:
    """int [H, W]: stripe codes of scene k (the stripe order is rotated by k)."""
    col = np.repeat(np.arange(len(WIDTHS)), WIDTHS)[: hw[1]]
    return np.broadcast_to((col + k) % len(WIDTHS), hw).copy()


def scene_photo(k: int, hw=HW) -> np.ndarray:
    codes = scene_codes(k, hw)
    rgb = np.empty((*hw, 3), np.uint8)
    rgb[..., 0] = 20 + 30 * codes
    rgb[..., 1] = 128
    rgb[..., 2] = 20 + 40 * k
    return rgb


def decode_photo(image) -> tuple[np.ndarray, int]:
    """float [3, H, W] in [-1, 1] -> (stripe codes [H, W], scene index)."""
    rgb = ((np.asarray(image, np.float32) + 1) * 127.5).round()
    codes = np.clip(np.round((rgb[0] - 20) / 30), 0, len(WIDTHS) - 1).astype(np.int64)
    return codes, int(np.round((np.median(rgb[2]) - 20) / 40))


# ------------------------------------------------------------------------------------------- file writers
def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        Image.fromarray(rgb, "RGB").save(path, quality=95, subsampling=0)  # 4:4:4 keeps the stripe colours
    else:
        Image.fromarray(rgb, "RGB").save(path)
    return path


def write_ids(path: Path, ids: np.ndarray) -> Path:
    """8-bit grey id PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(ids, np.uint8), "L").save(path)
    return path


def write_ids16(path: Path, ids: np.ndarray) -> Path:
    """16-bit grey PNG (Cityscapes instance ids)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(np.asarray(ids, np.uint16))
    assert im.mode == "I;16", im.mode
    im.save(path)
    return path


def truncate(path: Path) -> Path:
    """Cut a file to half its bytes: a corrupt download."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _write_scenes(fake: FakeSet, stems: list[str], image_path, label_path) -> FakeSet:
    """Write scenes in the given (unsorted) order; scene k of the sorted stems gets codes rotated by k."""
    order = {s: k for k, s in enumerate(sorted(stems))}
    lut = np.asarray(fake.raw_ids, np.uint8)
    for stem in stems:
        k = order[stem]
        fake.images[stem] = write_rgb(image_path(stem), scene_photo(k))
        fake.labels[stem] = write_ids(label_path(stem), lut[scene_codes(k)])
    return fake


# ------------------------------------------------------------------------------------------- the five layouts
CITYSCAPES_STEMS = ["bochum_000000_000313", "aachen_000001_000019", "aachen_000000_000019"]


def make_cityscapes(tmp_path: Path, split: str = "train") -> FakeSet:
    """labelIds (8-bit) and instanceIds (16-bit: car stripe split into two instances 26000 / 26001)."""
    root = tmp_path / "cityscapes"
    fake = FakeSet(root, raw_ids=[7, 8, 11, 0, 26, 33, 4, 23], train_ids=[0, 1, 2, 255, 13, 18, 255, 10])

    def city(stem):
        return stem.split("_")[0]

    _write_scenes(fake, CITYSCAPES_STEMS,
                  lambda s: root / "leftImg8bit" / split / city(s) / f"{s}_leftImg8bit.png",
                  lambda s: root / "gtFine" / split / city(s) / f"{s}_gtFine_labelIds.png")
    for k, stem in enumerate(fake.stems):
        write_ids16(fake.labels[stem].with_name(f"{stem}_gtFine_instanceIds.png"), cityscapes_instances(fake, k))
    return fake


def cityscapes_instances(fake: FakeSet, k: int) -> np.ndarray:
    raw = np.asarray(fake.raw_ids, np.int64)[scene_codes(k)]
    inst = raw.copy()
    car = raw == 26
    inst[car] = 26000
    inst[car & (np.arange(HW[0])[:, None] >= HW[0] // 2)] = 26001  # a second car below the first
    return inst


def make_ade20k(tmp_path: Path, split: str = "training", nested: bool = True) -> FakeSet:
    """nested: root/ADEChallengeData2016/...; else root is ADEChallengeData2016 itself."""
    root = tmp_path / "ade"
    base = root / "ADEChallengeData2016" if nested else root
    fake = FakeSet(root, raw_ids=[0, 1, 3, 7, 150, 13, 21, 2], train_ids=[255, 0, 2, 6, 149, 12, 20, 1])
    tag = "train" if split == "training" else "val"
    stems = [f"ADE_{tag}_{i:08d}" for i in (3, 1, 2)]
    return _write_scenes(fake, stems, lambda s: base / "images" / split / f"{s}.jpg",
                         lambda s: base / "annotations" / split / f"{s}.png")


def make_cocostuff(tmp_path: Path, split: str = "train2017", flat: bool = False) -> FakeSet:
    """flat: photos in root/train2017 instead of root/images/train2017."""
    root = tmp_path / "coco"
    fake = FakeSet(root, raw_ids=[0, 255, 181, 91, 10, 156, 100, 50], train_ids=[0, 255, 181, 91, 10, 156, 100, 50])
    photos = root / split if flat else root / "images" / split
    stems = ["000000000285", "000000000139", "000000000632"]
    return _write_scenes(fake, stems, lambda s: photos / f"{s}.jpg",
                         lambda s: root / "stuffthingmaps_trainval2017" / split / f"{s}.png")


def make_camvid(tmp_path: Path, split: str = "train") -> FakeSet:
    root = tmp_path / "camvid"
    fake = FakeSet(root, raw_ids=[0, 1, 2, 3, 11, 8, 9, 10], train_ids=[0, 1, 2, 3, 255, 8, 9, 10])
    stems = ["0016E5_07959", "0001TP_006690", "Seq05VD_f00000"]
    return _write_scenes(fake, stems, lambda s: root / split / f"{s}.png",
                         lambda s: root / f"{split}annot" / f"{s}.png")


FOLDER_CLASSES = {"name": "toy", "classes": [{"name": n, "color": c} for n, c in (
    ("ground", [128, 64, 128]), ("wall", [70, 70, 70]), ("tree", [107, 142, 35]), ("sky", [70, 130, 180]),
    ("car", [0, 0, 142]))], "ignore_index": 255}


def make_folder(tmp_path: Path, split: str | None = None) -> FakeSet:
    """5 classes; photos as .png, .jpg and .jpeg; split: put files under images/<split>, labels/<split>."""
    root = tmp_path / "folder"
    root.mkdir(parents=True, exist_ok=True)
    (root / "classes.json").write_text(json.dumps(FOLDER_CLASSES))
    fake = FakeSet(root, raw_ids=[0, 1, 2, 3, 4, 255, 1, 0], train_ids=[0, 1, 2, 3, 4, 255, 1, 0])
    sub = Path(split) if split else Path()
    endings = {"c": ".png", "a": ".jpg", "b": ".jpeg"}
    stems = ["c_street", "a_street", "b_street"]
    return _write_scenes(fake, stems, lambda s: root / "images" / sub / f"{s}{endings[s[0]]}",
                         lambda s: root / "labels" / sub / f"{s}.png")
