import pytest

from tests.data import reader_checks as rc
from tests.data.fixtures import make_ade20k


@pytest.fixture
def fake(tmp_path):
    return make_ade20k(tmp_path)


def test_raw_ids_shift_to_train_ids_and_pairs_follow_stems(fake):
    rc.check_ids_and_pairs("ade20k", fake)  # 0 (other) -> 255, k -> k - 1


def test_root_may_be_the_challenge_folder_itself(tmp_path):
    rc.check_ids_and_pairs("ade20k", make_ade20k(tmp_path, nested=False))


def test_val_split_reads_validation(tmp_path):
    rc.check_ids_and_pairs("ade20k", make_ade20k(tmp_path, split="validation"), split="val")


def test_unpaired_gives_other_photos(fake):
    rc.check_unpaired("ade20k", fake)


def test_labels_and_images_modes(fake):
    rc.check_labels_and_images_modes("ade20k", fake)


def test_resize_keeps_ids(fake):
    rc.check_resize_keeps_ids("ade20k", fake)


def test_augment_applies_same_crop_and_flip(fake):
    rc.check_augment_same_geometry("ade20k", fake)


def test_size_mismatch_names_files(fake):
    rc.check_size_mismatch("ade20k", fake)


def test_ids_above_150_name_the_file(fake):
    rc.check_bad_ids("ade20k", fake, bad_id=151)


def test_missing_label_and_photo(fake, tmp_path):
    rc.check_missing_label("ade20k", fake)
    rc.check_missing_photo("ade20k", make_ade20k(tmp_path / "b"))


def test_missing_folders_print_layout(fake):
    rc.check_missing_folders("ade20k", fake, fake.root / "ADEChallengeData2016" / "annotations" / "training",
                             "annotations/{training,validation}")


def test_unknown_split(fake):
    with pytest.raises(ValueError, match="choose from"):
        rc.load("ade20k", fake, split="test")


def test_corrupt_photo(fake):
    rc.check_corrupt("ade20k", fake)
