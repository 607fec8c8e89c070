import pytest

from tests.data import reader_checks as rc
from tests.data.fixtures import make_cocostuff


@pytest.fixture
def fake(tmp_path):
    return make_cocostuff(tmp_path)


def test_ids_kept_with_255_unlabeled_and_pairs_follow_stems(fake):
    rc.check_ids_and_pairs("coco-stuff", fake)


def test_photos_beside_the_stuff_maps(tmp_path):
    rc.check_ids_and_pairs("coco-stuff", make_cocostuff(tmp_path, flat=True))


def test_val_split(tmp_path):
    rc.check_ids_and_pairs("coco-stuff", make_cocostuff(tmp_path, split="val2017"), split="val")


def test_unpaired_gives_other_photos(fake):
    rc.check_unpaired("coco-stuff", fake)


def test_labels_and_images_modes(fake):
    rc.check_labels_and_images_modes("coco-stuff", fake)


def test_resize_keeps_ids(fake):
    rc.check_resize_keeps_ids("coco-stuff", fake)


def test_augment_applies_same_crop_and_flip(fake):
    rc.check_augment_same_geometry("coco-stuff", fake)


def test_size_mismatch_names_files(fake):
    rc.check_size_mismatch("coco-stuff", fake)


def test_ids_above_181_name_the_file(fake):
    rc.check_bad_ids("coco-stuff", fake, bad_id=182)


def test_missing_label_and_photo(fake, tmp_path):
    rc.check_missing_label("coco-stuff", fake)
    rc.check_missing_photo("coco-stuff", make_cocostuff(tmp_path / "b"))


def test_missing_folders_print_layout(fake):
    rc.check_missing_folders("coco-stuff", fake, fake.root / "stuffthingmaps_trainval2017" / "train2017",
                             "stuffthingmaps_trainval2017/{train2017,val2017}")


def test_missing_photo_folder_names_both_accepted_layouts(fake):
    (fake.root / "images").rename(fake.root / "pictures")
    with pytest.raises(FileNotFoundError, match="expected layout") as err:
        rc.load("coco-stuff", fake)
    assert str(fake.root / "images" / "train2017") in str(err.value)
    assert str(fake.root / "train2017") in str(err.value)


def test_corrupt_photo(fake):
    rc.check_corrupt("coco-stuff", fake)
