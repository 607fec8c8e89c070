"""Compact (uint8) items for DataLoader workers, and what makes them cheap to produce."""
import platform

import numpy as np
import pytest
import torch

from semsynth.classes import get_class_set
from semsynth.data import CompactItems, expand_items, load_dataset
from semsynth.data.transforms import paired_transform
from semsynth.data.workers import init_worker, keep_freed_memory
from semsynth.train.engine import batch_to_device

SMALL = (32, 64)


@pytest.mark.parametrize("mode", ["paired", "unpaired", "labels", "images"])
def test_compact_items_expand_to_the_plain_items(mode):
    ds = load_dataset("synthetic-streets", size=SMALL, mode=mode, num_scenes=6, augment=True)
    ds.set_epoch(3)
    compact = CompactItems(ds)
    assert len(compact) == len(ds)
    for i in range(len(ds)):
        small, plain = compact[i], ds[i]
        assert small["name"] == plain["name"] and small.keys() == plain.keys()
        if "label" in small:
            assert small["label"].dtype == torch.uint8 and small["label"].shape == SMALL
        if "image" in small:
            assert small["image"].dtype == torch.uint8 and small["image"].shape == (3, *SMALL)
        wide = expand_items(small)
        for key in plain:
            if key != "name":
                assert wide[key].dtype == plain[key].dtype and torch.equal(wide[key], plain[key]), key


def test_compact_items_follow_the_epoch():
    ds = load_dataset("synthetic-streets", size=SMALL, num_scenes=16, augment=True)
    compact = CompactItems(ds)
    first = [compact[i]["label"] for i in range(16)]
    compact.set_epoch(1)
    assert ds.epoch == 1
    second = [compact[i]["label"] for i in range(16)]
    assert any(not torch.equal(a, b) for a, b in zip(first, second))  # other flips in the new epoch


def test_loader_batches_of_compact_items_match_plain_batches():
    ds = load_dataset("synthetic-streets", size=SMALL, num_scenes=4)
    plain = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    loader = torch.utils.data.DataLoader(CompactItems(ds), batch_size=4, num_workers=2, worker_init_fn=init_worker)
    batch = batch_to_device(next(iter(loader)), torch.device("cpu"), channels_last=True)
    assert batch["label"].dtype == torch.long and torch.equal(batch["label"], plain["label"])
    assert batch["image"].dtype == torch.float32 and torch.equal(batch["image"], plain["image"])
    assert batch["image"].is_contiguous(memory_format=torch.channels_last)


def test_ignore_ids_survive_the_compact_form():
    label = np.full((8, 8), 255, np.uint8)
    label[:4] = 3
    batch = expand_items({"label": torch.from_numpy(label)[None]})
    assert batch["label"].dtype == torch.long and set(batch["label"].unique().tolist()) == {3, 255}


def test_paired_transform_copies_only_what_it_changes():
    label = np.arange(8 * 16, dtype=np.uint8).reshape(8, 16)
    planar = np.arange(3 * 8 * 16, dtype=np.uint8).reshape(3, 8, 16)
    image = planar.transpose(1, 2, 0)  # a non-contiguous [H, W, 3] view, as synthetic-streets renders it
    same_label, same_image = paired_transform(label, image, (8, 16))
    assert same_label is label and same_image is image
    cropped_label, cropped_image = paired_transform(label, image, (8, 8))
    assert cropped_label.flags.c_contiguous and cropped_image.flags.c_contiguous
    assert np.array_equal(cropped_label, label[:, 4:12]) and np.array_equal(cropped_image, image[:, 4:12])
    flipped_label, _ = paired_transform(label, None, (8, 16), np.random.default_rng(0), flip=True)
    assert flipped_label.flags.c_contiguous


def test_check_ids_fast_path_and_errors():
    cs = get_class_set("cityscapes")
    cs.check_ids(np.zeros((4, 4), np.uint8))
    with_ignore = np.full((4, 4), cs.ignore_index, np.uint8)
    with_ignore[0, 0] = 18
    cs.check_ids(with_ignore)
    for dtype in (np.uint8, np.int64):
        bad = with_ignore.astype(dtype)
        bad[1, 1], bad[2, 2] = 19, 40
        with pytest.raises(ValueError, match=r"ids \[19, 40\]"):
            cs.check_ids(bad)
    with pytest.raises(ValueError, match=r"ids \[-1\]"):
        cs.check_ids(np.array([[-1, 0]]))


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_workers_keep_freed_memory_on_glibc():
    assert keep_freed_memory() is True
