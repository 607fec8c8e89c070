"""Base class of every data set: readers only load raw arrays; this class shapes, checks and pairs them."""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from semsynth.classes import ClassSet
from semsynth.data.labels import from_uint8
from semsynth.data.transforms import paired_transform

MODES = ("paired", "unpaired", "labels", "images")
ASPECT_WARN_FACTOR = 2.0  # a file whose aspect ratio is this much off the target size's loses most of it to the crop


class CorruptFileError(ValueError):
    """An image or label file that exists but cannot be decoded."""


GREY16 = ("I;16", "I;16B", "I;16L")  # Pillow's modes of 16-bit grey PNG/TIFF pixels


@contextmanager
def open_image(path: Path):
    """Image.open with the errors a user can act on: a missing file, a file that is no image, and a header claiming
    more pixels than Image.MAX_IMAGE_PIXELS (a decompression bomb: refused before anything is allocated)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"missing file: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # PIL only warns up to 2x its limit
            im = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise CorruptFileError(f"{path}: refused to decode, its header claims too many pixels ({err})") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise CorruptFileError(f"{path}: cannot decode image ({err})") from err
    with im:
        yield im


def read_image(path: Path, mode: str) -> np.ndarray:
    """Read a PNG/JPEG as uint8: mode "RGB" -> [H, W, 3], mode "L" -> [H, W] ids. Raises with the file name.

    16-bit grey photos are scaled to 8 bits (Pillow's own conversion clips them at 255); 16-bit label PNGs hold
    ids, not intensities, so they are kept as they are and must fit 8 bits."""
    path = Path(path)
    with open_image(path) as im:
        try:
            im.load()
            arr = _pixels(im, mode, path)
        except (OSError, SyntaxError) as err:
            raise CorruptFileError(f"{path}: cannot decode image ({err})") from err
    if mode == "L" and arr.dtype != np.uint8:
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise CorruptFileError(f"{path}: label ids {arr.min()}..{arr.max()} do not fit the 8-bit id format")
        arr = arr.astype(np.uint8)
    return arr


def _pixels(im: Image.Image, mode: str, path: Path) -> np.ndarray:
    """The decoded image as a writable array (torch.from_numpy needs one) in `mode`."""
    if mode == "L":
        if im.mode not in ("L", "P", "I", *GREY16):
            raise CorruptFileError(f"{path}: label maps must be single-channel id PNGs, found mode {im.mode}")
        return np.array(im)  # P: the palette indices are the ids; I and 16-bit: ids, range-checked by the caller
    if mode == "RGB" and (im.mode in GREY16 or (im.mode == "I" and im.format == "PNG")):  # PNG "I" = 16-bit grey
        wide = np.asarray(im, np.int64)
        if wide.size and (wide.min() < 0 or wide.max() > 65535):
            raise CorruptFileError(f"{path}: 16-bit photo holds values {wide.min()}..{wide.max()} outside 0..65535")
        grey = ((wide * 255 + 32767) // 65535).astype(np.uint8)  # 0..65535 -> 0..255, rounded
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "RGB" and im.mode in ("I", "F"):
        raise CorruptFileError(f"{path}: photos must hold 8- or 16-bit pixels, found {im.mode} "
                               "(32-bit integer or float) pixels; convert it to an 8-bit PNG or JPEG")
    if mode == "I" and im.mode in ("I", *GREY16):
        return np.array(im)
    return np.array(im.convert(mode))


def check_size(size) -> tuple[int, int]:
    h, w = (int(s) for s in size)
    if h < 8 or w < 8:
        raise ValueError(f"size must be (H, W) with both >= 8, got {size}")
    return h, w


class SegmentationDataset(torch.utils.data.Dataset):
    """Items are dicts: "label" LongTensor[H, W] (ignore = classes.ignore_index), "image" float[3, H, W] in [-1, 1],
    "name" str. Which keys are present depends on `mode` (paired | unpaired | labels | images).

    Subclasses implement `num_scenes`, `scene_name(i)`, `load_label(i)` (uint8 train ids) and `load_image(i)`
    (uint8 RGB); they may override `load_pair(i)` when both come cheaper together.
    """

    classes: ClassSet

    def __init__(self, classes: ClassSet, size=(256, 512), mode: str = "paired", seed: int = 0,
                 augment: bool = False, skip_corrupt: bool = False):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {list(MODES)}")
        self.classes = classes
        self.size = check_size(size)
        self.mode = mode
        self.seed = int(seed)
        self.augment = augment          # random crop + horizontal flip (same on label and photo)
        self.skip_corrupt = skip_corrupt  # corrupt files: False = raise, True = warn, count and use the next scene
        self.skipped: list[str] = []
        self.aspect_warned = False      # the off-aspect warning is given once per data set
        self.epoch = 0                  # mixed into augmentation randomness; the engine calls set_epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    # -- to implement -------------------------------------------------------------------------------
    @property
    def num_scenes(self) -> int:
        raise NotImplementedError

    def scene_name(self, index: int) -> str:
        raise NotImplementedError

    def load_label(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def load_image(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def load_pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.load_label(index), self.load_image(index)

    def scene_source(self, index: int) -> str:
        """How messages name scene `index`: readers of files name the file."""
        return f"scene {self.scene_name(index)!r}"

    def load_extras(self, index: int) -> dict[str, np.ndarray]:
        """Optional integer maps [H, W] of scene `index` (same size as its label) that follow the label's geometry:
        nearest resize, same crop and flip. Each becomes item[key] through `finish_extra`. Default: none."""
        return {}

    def finish_extra(self, key: str, arr: np.ndarray) -> torch.Tensor:
        """Tensor stored as item[key] for a transformed extra map (default: LongTensor[H, W])."""
        return torch.from_numpy(arr.astype(np.int64))

    # -- shared -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.num_scenes

    def unpaired_partner(self, index: int) -> int:
        """Scene whose photo goes with scene `index`'s layout in unpaired mode: a fixed seeded derangement."""
        n = self.num_scenes
        if n < 2:
            raise ValueError("unpaired mode needs at least two scenes")
        if not hasattr(self, "_partner"):
            perm = np.random.default_rng(self.seed + 7919).permutation(n)
            self._partner = np.roll(perm, 1)[np.argsort(perm)]  # i -> the scene after i in a random cycle
        return int(self._partner[index])

    def _rng(self, index: int) -> np.random.Generator | None:
        # a function of (seed, epoch, index) only, so workers and resumed runs see the same crops
        return np.random.default_rng([self.seed, self.epoch, index]) if self.augment else None

    def _raw(self, index: int) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, np.ndarray], str]:
        name = self.scene_name(index)
        if self.mode == "paired":
            label, image = self.load_pair(index)
        elif self.mode == "unpaired":
            partner = self.unpaired_partner(index)
            label, image = self.load_label(index), self.load_image(partner)
            name = f"{name}|{self.scene_name(partner)}"
        elif self.mode == "labels":
            label, image = self.load_label(index), None
        else:
            label, image = None, self.load_image(index)
        extras = self.load_extras(index) if label is not None else {}
        return label, image, extras, name

    def __getitem__(self, index: int) -> dict:
        return self.item(index)

    def item(self, index: int, compact: bool = False) -> dict:
        """Item `index`; `compact` keeps "label" and "image" uint8 (see `CompactItems`)."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        for attempt in range(len(self)):
            i = (index + attempt) % len(self)
            try:
                label, image, extras, name = self._raw(i)
                break
            except CorruptFileError as err:
                if not self.skip_corrupt:
                    raise
                self.skipped.append(str(err))
                warnings.warn(f"skipping corrupt scene: {err}", stacklevel=2)
        else:
            raise RuntimeError("every scene of the data set is corrupt")
        if self.mode == "paired" and label.shape[:2] != image.shape[:2]:
            raise ValueError(f"scene {name!r}: label {label.shape[:2]} and photo {image.shape[:2]} sizes differ")
        label_shape = label.shape[:2] if label is not None else None
        self._warn_off_aspect(i, label_shape or image.shape[:2])
        rng = self._rng(index)
        if self.mode == "unpaired":  # independent geometry: the two come from different scenes
            label, _ = paired_transform(label, None, self.size, rng, flip=self.augment)
            _, image = paired_transform(None, image, self.size, rng, flip=self.augment)
        else:
            label, image = paired_transform(label, image, self.size, rng, flip=self.augment)
        item = {"name": name}
        for key, arr in extras.items():
            if arr.shape != label_shape:
                raise ValueError(f"scene {name!r}: extra map {key!r} {arr.shape} and label {label_shape} sizes differ")
            # a fresh generator with the label's seed repeats the label's crop and flip draws exactly
            arr, _ = paired_transform(arr, None, self.size, self._rng(index), flip=self.augment)
            item[key] = self.finish_extra(key, arr)
        if label is not None:
            self.classes.check_ids(label, where=f"scene {name!r}")
            item["label"] = torch.from_numpy(np.ascontiguousarray(label) if compact else label.astype(np.int64))
        if image is not None:
            # a contiguous copy first: converting a permuted uint8 view to float is ~9x slower
            image = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
            item["image"] = image if compact else from_uint8(image)
        return item


    def _warn_off_aspect(self, index: int, hw: tuple[int, int]) -> None:
        if self.aspect_warned:
            return
        (h, w), (th, tw) = hw, self.size
        factor = max((w / h) / (tw / th), (tw / th) / (w / h))
        if factor > ASPECT_WARN_FACTOR:
            self.aspect_warned = True
            warnings.warn(f"{self.scene_source(index)} is {h}x{w} (HxW), its aspect ratio {factor:.1f} times off the "
                          f"size {th}x{tw}: it is resized to cover that size and cropped, so most of it is cut away "
                          "(warned once per data set)", stacklevel=3)


class CompactItems(torch.utils.data.Dataset):
    """The items of a SegmentationDataset as DataLoader workers should send them: "label" uint8 [H, W] and "image"
    uint8 [3, H, W], a quarter of the bytes of LongTensor labels and float photos. Between processes that is most of
    the cost of an item (measured: 2.6 ms vs 0.9 ms per 256x512 item on 2 cores). `expand_items` turns a batch of
    them back into the usual types, best after it reached the GPU."""

    def __init__(self, dataset: SegmentationDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        self.dataset.set_epoch(epoch)

    def __getitem__(self, index: int) -> dict:
        return self.dataset.item(index, compact=True)


def expand_items(batch: dict) -> dict:
    """A batch of `CompactItems` (or of plain items, which pass unchanged) with LongTensor labels and float photos
    in [-1, 1]."""
    out = dict(batch)
    if "label" in out and out["label"].dtype == torch.uint8:
        out["label"] = out["label"].long()
    if "image" in out and out["image"].dtype == torch.uint8:
        out["image"] = from_uint8(out["image"])
    return out
