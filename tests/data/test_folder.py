import json

import numpy as np
import pytest
from PIL import Image

from tests.data import reader_checks as rc
from tests.data.fixtures import HW, make_folder, scene_codes


@pytest.fixture
def fake(tmp_path):
    return make_folder(tmp_path)


def test_ids_and_pairs_with_png_jpg_jpeg_photos(fake):
    rc.check_ids_and_pairs("folder", fake)
    ds = rc.load("folder", fake)
    assert ds.classes.names == ("ground", "wall", "tree", "sky", "car") and ds.classes.name == "toy"


def test_split_subfolders(tmp_path):
    fake = make_folder(tmp_path, split="val")
    rc.check_ids_and_pairs("folder", fake, split="val")
    with pytest.raises(FileNotFoundError, match=r"sub-folders \['val'\] but has no 'train'"):
        rc.load("folder", fake, split="train")


def test_palette_label_pngs_give_their_indices(fake):
    stem = fake.stems[0]
    ids = np.asarray(fake.raw_ids, np.uint8)[scene_codes(0)]
    im = Image.fromarray(ids, "P")
    im.putpalette([255 - (i % 256) for i in range(768)])  # a palette whose grey values are not the ids
    im.save(fake.labels[stem])
    np.testing.assert_array_equal(rc.load("folder", fake)[0]["label"].numpy(), fake.expected_label(0))


def test_odd_sized_files_are_resized_to_cover_then_cropped(fake):
    stem = fake.stems[0]
    with Image.open(fake.labels[stem]) as im:
        im.resize((59, 37), Image.NEAREST).save(fake.labels[stem])
    with Image.open(fake.images[stem]) as im:
        im.convert("RGB").resize((59, 37), Image.BICUBIC).save(fake.images[stem])
    item = rc.load("folder", fake, size=(32, 64))[0]
    assert item["label"].shape == (32, 64) and item["image"].shape == (3, 32, 64)
    assert set(item["label"].unique().tolist()) == set(fake.expected_label(0).ravel().tolist())


def test_unpaired_gives_other_photos(fake):
    rc.check_unpaired("folder", fake)


def test_labels_and_images_modes(fake):
    rc.check_labels_and_images_modes("folder", fake)


def test_resize_keeps_ids(fake):
    rc.check_resize_keeps_ids("folder", fake)


def test_augment_applies_same_crop_and_flip(fake):
    rc.check_augment_same_geometry("folder", fake)


def test_size_mismatch_names_files(fake):
    rc.check_size_mismatch("folder", fake)


def test_ids_beyond_the_class_list_name_the_file(fake):
    rc.check_bad_ids("folder", fake, bad_id=5)


def test_rgb_label_rejected_with_file_name(fake):
    stem = fake.stems[0]
    Image.fromarray(np.zeros((*HW, 3), np.uint8)).save(fake.labels[stem])
    with pytest.raises(ValueError, match="single-channel") as err:
        rc.load("folder", fake)[0]
    assert str(fake.labels[stem]) in str(err.value)


def test_missing_label_and_photo(fake, tmp_path):
    rc.check_missing_label("folder", fake)
    rc.check_missing_photo("folder", make_folder(tmp_path / "b"))


def test_missing_folders_print_layout(fake):
    rc.check_missing_folders("folder", fake, fake.root / "labels", "classes.json")


def test_missing_or_bad_class_list(fake):
    spec = fake.root / "classes.json"
    spec.write_text(json.dumps({"labels": ["a"]}))
    with pytest.raises(ValueError, match="classes"):
        rc.load("folder", fake)
    spec.unlink()
    with pytest.raises(FileNotFoundError, match="classes.json"):
        rc.load("folder", fake)


def test_two_photos_with_one_stem(fake):
    stem = fake.stems[0]
    twin = fake.images[stem].with_suffix(".jpeg" if fake.images[stem].suffix != ".jpeg" else ".png")
    twin.write_bytes(fake.images[stem].read_bytes())
    with pytest.raises(ValueError, match=f"two files share the stem '{stem}'"):
        rc.load("folder", fake)


def test_corrupt_photo(fake):
    rc.check_corrupt("folder", fake)
