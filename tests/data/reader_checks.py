"""Checks every reader must pass on its fake tree (tests/data/fixtures.py); each test file calls them."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from semsynth.data import CorruptFileError, load_dataset
from tests.data.fixtures import HW, FakeSet, decode_photo, truncate, write_ids


def load(name: str, fake: FakeSet, **kw):
    kw.setdefault("size", HW)
    return load_dataset(name, root=fake.root, **kw)


def check_ids_and_pairs(name: str, fake: FakeSet, **kw) -> None:
    """At file size, no augmentation: sorted stems, exact train ids (ignore included), photo of the same stem."""
    ds = load(name, fake, **kw)
    assert len(ds) == len(fake.stems)
    for k, stem in enumerate(fake.stems):
        item = ds[k]
        assert item["name"] == stem
        label = item["label"].numpy()
        assert item["label"].dtype == torch.int64 and label.shape == HW
        np.testing.assert_array_equal(label, fake.expected_label(k))
        assert (label == 255).any(), "the fake scenes contain ignore pixels"
        assert item["image"].shape == (3, *HW) and -1 <= item["image"].min() and item["image"].max() <= 1
        codes, scene = decode_photo(item["image"])
        assert scene == k, f"{stem}: photo of scene {scene}, expected {k}"
        np.testing.assert_array_equal(np.asarray(fake.train_ids)[codes], label)


def check_unpaired(name: str, fake: FakeSet, **kw) -> None:
    """Every layout keeps its own label but gets the photo of another scene, named in "name"."""
    ds = load(name, fake, mode="unpaired", **kw)
    partners = []
    for k, stem in enumerate(fake.stems):
        item = ds[k]
        np.testing.assert_array_equal(item["label"].numpy(), fake.expected_label(k))
        _, scene = decode_photo(item["image"])
        assert scene != k
        assert item["name"] == f"{stem}|{fake.stems[scene]}"
        partners.append(scene)
    assert sorted(partners) == list(range(len(fake.stems)))  # a permutation: every photo used once


def check_labels_and_images_modes(name: str, fake: FakeSet, **kw) -> None:
    labels = load(name, fake, mode="labels", **kw)[0]
    images = load(name, fake, mode="images", **kw)[0]
    assert set(labels) == {"name", "label"} and set(images) == {"name", "image"}


def nearest_reference(src: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resampling written out: output pixel centre -> source pixel containing it."""
    ys = np.minimum(((np.arange(hw[0]) + 0.5) * src.shape[0] / hw[0]).astype(int), src.shape[0] - 1)
    xs = np.minimum(((np.arange(hw[1]) + 0.5) * src.shape[1] / hw[1]).astype(int), src.shape[1] - 1)
    return src[ys[:, None], xs[None, :]]


def check_resize_keeps_ids(name: str, fake: FakeSet, **kw) -> None:
    """At a size other than the files' the label is resampled by nearest neighbour: no blended ids."""
    size = (32, 64)
    ds = load(name, fake, size=size, **kw)
    for k in range(len(ds)):
        item = ds[k]
        label = item["label"].numpy()
        assert label.shape == size and item["image"].shape == (3, *size)
        expected = fake.expected_label(k)
        assert set(np.unique(label)) == set(np.unique(expected))
        np.testing.assert_array_equal(label, nearest_reference(expected, size))


def check_augment_same_geometry(name: str, fake: FakeSet, **kw) -> None:
    """augment=True: random crop + flip; label and photo must get the same one, and it must vary."""
    size = (32, 40)  # cover-resize to 32x64, then crop 40 of the 64 columns
    ds = load(name, fake, size=size, augment=True, **kw)
    geometries = set()
    for epoch in range(4):
        ds.set_epoch(epoch)
        for k in range(len(ds)):
            item = ds[k]
            label = item["label"].numpy()
            codes, scene = decode_photo(item["image"])
            assert scene == k
            agree = (np.asarray(fake.train_ids)[codes] == label).mean()
            assert agree > 0.85, f"epoch {epoch} scene {k}: photo and label agree on only {agree:.0%} of pixels"
            geometries.add(crop_of(label, nearest_reference(fake.expected_label(k), (32, 64))))
    flips = {flip for _, flip in geometries}
    assert flips == {False, True} and len(geometries) >= 4, f"too little variety: {sorted(geometries)}"


def crop_of(label: np.ndarray, full: np.ndarray) -> tuple[int, bool]:
    """(left, flipped) such that label is full's columns left..left+w, mirrored when flipped; raises if none."""
    w = label.shape[1]
    for left in range(full.shape[1] - w + 1):
        window = full[:, left:left + w]
        for flipped, view in ((False, window), (True, window[:, ::-1])):
            if np.array_equal(label, view):
                return left, flipped
    raise AssertionError("the label is not a crop (or mirrored crop) of the resized scene")


def check_size_mismatch(name: str, fake: FakeSet, **kw) -> None:
    stem = fake.stems[0]
    label = fake.labels[stem]
    with Image.open(label) as im:
        im.crop((0, 0, HW[1], HW[0] - 8)).save(label)
    with pytest.raises(ValueError, match="must be the same size") as err:
        load(name, fake, **kw)[0]
    assert str(label) in str(err.value) and str(fake.images[stem]) in str(err.value)


def check_bad_ids(name: str, fake: FakeSet, bad_id: int, **kw) -> None:
    stem = fake.stems[1]
    ids = np.full(HW, fake.raw_ids[0], np.uint8)
    ids[:4, :4] = bad_id
    write_ids(fake.labels[stem], ids)
    ds = load(name, fake, **kw)
    ds[0]
    with pytest.raises(ValueError, match=rf"\[{bad_id}\] are outside") as err:
        ds[1]
    assert str(fake.labels[stem]) in str(err.value)


def check_missing_label(name: str, fake: FakeSet, **kw) -> None:
    stem = fake.stems[2]
    fake.labels[stem].unlink()
    with pytest.raises(FileNotFoundError, match="has no label") as err:
        load(name, fake, **kw)
    assert str(fake.images[stem]) in str(err.value) and str(fake.labels[stem]) in str(err.value)
    assert len(load(name, fake, mode="images", **kw)) == len(fake.stems)  # photos alone need no labels


def check_missing_photo(name: str, fake: FakeSet, **kw) -> None:
    stem = fake.stems[0]
    fake.images[stem].unlink()
    with pytest.raises(FileNotFoundError, match="has no photo") as err:
        load(name, fake, **kw)
    assert str(fake.labels[stem]) in str(err.value) and str(fake.images[stem]) in str(err.value)


def check_missing_folders(name: str, fake: FakeSet, split_folder, layout_marker: str, **kw) -> None:
    """A missing root and a missing split folder both print the expected layout."""
    with pytest.raises(FileNotFoundError, match="expected layout") as err:
        load_dataset(name, root=fake.root / "nope", size=HW, **kw)
    assert str(fake.root / "nope") in str(err.value) and layout_marker in str(err.value)
    split_folder.rename(split_folder.with_name(split_folder.name + "_moved"))
    with pytest.raises(FileNotFoundError, match="expected layout") as err:
        load(name, fake, **kw)
    assert str(split_folder) in str(err.value) and layout_marker in str(err.value)


def check_corrupt(name: str, fake: FakeSet, **kw) -> None:
    """A truncated photo raises naming the file; with skip_corrupt it is skipped, counted and warned about."""
    stem = fake.stems[1]
    truncate(fake.images[stem])
    ds = load(name, fake, **kw)
    with pytest.raises(CorruptFileError, match=str(fake.images[stem]).replace("\\", "\\\\")):
        ds[1]
    ds = load(name, fake, skip_corrupt=True, **kw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        item = ds[1]
    assert item["name"] == fake.stems[2]  # the next scene stands in
    assert len(ds.skipped) == 1 and str(fake.images[stem]) in ds.skipped[0]
    assert any("corrupt" in str(w.message) for w in caught)
