import os
from pathlib import Path

import numpy as np
import pytest

from semsynth.data import CorruptFileError, load_dataset
from tests.data import reader_checks as rc
from tests.data.fixtures import make_camvid, truncate

# shared/ sits beside the checkout; SEMSYNTH_SHARED points elsewhere (e.g. from a git worktree)
SHARED = Path(os.environ.get("SEMSYNTH_SHARED", Path(__file__).resolve().parents[3] / "shared"))
REAL = SHARED / "data" / "camvid"


@pytest.fixture
def fake(tmp_path):
    return make_camvid(tmp_path)


def test_void_is_ignore_and_pairs_follow_names(fake):
    rc.check_ids_and_pairs("camvid", fake)


def test_unpaired_gives_other_photos(fake):
    rc.check_unpaired("camvid", fake)


def test_labels_and_images_modes(fake):
    rc.check_labels_and_images_modes("camvid", fake)


def test_resize_keeps_ids(fake):
    rc.check_resize_keeps_ids("camvid", fake)


def test_augment_applies_same_crop_and_flip(fake):
    rc.check_augment_same_geometry("camvid", fake)


def test_size_mismatch_names_files(fake):
    rc.check_size_mismatch("camvid", fake)


def test_ids_above_11_name_the_file(fake):
    rc.check_bad_ids("camvid", fake, bad_id=12)


def test_missing_label_and_photo(fake, tmp_path):
    rc.check_missing_label("camvid", fake)
    rc.check_missing_photo("camvid", make_camvid(tmp_path / "b"))


def test_missing_folders_print_layout(fake):
    rc.check_missing_folders("camvid", fake, fake.root / "trainannot", "{trainannot,valannot,testannot}")


def test_corrupt_photo(fake):
    rc.check_corrupt("camvid", fake)


def test_corrupt_label_is_skipped_on_request(fake):
    stem = fake.stems[0]
    truncate(fake.labels[stem])
    with pytest.raises(CorruptFileError, match=stem):
        rc.load("camvid", fake, mode="labels")[0]
    ds = rc.load("camvid", fake, mode="labels", skip_corrupt=True)
    with pytest.warns(UserWarning, match="corrupt"):
        assert ds[0]["name"] == fake.stems[1]
    assert len(ds.skipped) == 1


def test_empty_split_folders(fake):
    (fake.root / "val").mkdir()
    (fake.root / "valannot").mkdir()
    with pytest.raises(FileNotFoundError, match="no files found") as err:
        rc.load("camvid", fake, split="val")
    assert str(fake.root / "val") in str(err.value)


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real CamVid not found at {REAL}")
@pytest.mark.parametrize("split, count", [("train", 367), ("val", 101)])
def test_real_camvid(split, count):
    ds = load_dataset("camvid", root=REAL, split=split, size=(64, 96), augment=True)
    assert len(ds) == count and ds.classes.num_classes == 11
    seen = set()
    for i in (0, len(ds) // 2, len(ds) - 1):
        item = ds[i]
        assert item["image"].shape == (3, 64, 96) and item["label"].shape == (64, 96)
        values = set(np.unique(item["label"].numpy()).tolist())
        assert values <= set(range(11)) | {255}, values
        seen |= values
    assert len(seen - {255}) >= 4  # street scenes: sky, building, road, ... not a constant map
