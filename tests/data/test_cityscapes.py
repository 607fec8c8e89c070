import numpy as np
import pytest

from semsynth.data.cityscapes import instance_edges
from tests.data import reader_checks as rc
from tests.data.fixtures import HW, cityscapes_instances, make_cityscapes, write_ids16


@pytest.fixture
def fake(tmp_path):
    return make_cityscapes(tmp_path)


def test_raw_ids_map_to_train_ids_and_pairs_follow_stems(fake):
    rc.check_ids_and_pairs("cityscapes", fake)


def test_val_split(tmp_path):
    rc.check_ids_and_pairs("cityscapes", make_cityscapes(tmp_path, split="val"), split="val")


def test_unpaired_gives_other_photos(fake):
    rc.check_unpaired("cityscapes", fake)


def test_labels_and_images_modes(fake):
    rc.check_labels_and_images_modes("cityscapes", fake)


def test_resize_keeps_ids(fake):
    rc.check_resize_keeps_ids("cityscapes", fake)


def test_augment_applies_same_crop_and_flip(fake):
    rc.check_augment_same_geometry("cityscapes", fake)


def test_instance_edges_at_file_size(fake):
    ds = rc.load("cityscapes", fake, use_instance_edges=True)
    for k in range(len(ds)):
        edges = ds[k]["edges"]
        assert edges.shape == (1, *HW) and edges.dtype.is_floating_point
        inst = cityscapes_instances(fake, k)
        np.testing.assert_array_equal(edges[0].numpy(), instance_edges(inst))
        inside = np.flatnonzero(inst[0] == 26000)[1:-1]  # car columns away from its side boundaries
        car_rows = np.flatnonzero(edges[0].numpy()[:, inside].any(1))
        assert set(car_rows) == {HW[0] // 2 - 1, HW[0] // 2}  # the boundary between the two cars, both sides


@pytest.mark.parametrize("mode", ["unpaired", "labels"])
def test_instance_edges_belong_to_the_label_scene(fake, mode):
    ds = rc.load("cityscapes", fake, mode=mode, use_instance_edges=True)
    for k in range(len(ds)):
        np.testing.assert_array_equal(ds[k]["edges"][0].numpy(), instance_edges(cityscapes_instances(fake, k)))
    assert "edges" not in rc.load("cityscapes", fake, mode="images", use_instance_edges=True)[0]


def test_instance_edges_written_out():
    inst = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 3]])
    np.testing.assert_array_equal(instance_edges(inst), [[0, 1, 1], [1, 1, 1], [1, 1, 1]])
    assert instance_edges(np.full((4, 4), 7)).sum() == 0


def test_instance_edges_follow_label_crop_and_flip(fake):
    ds = rc.load("cityscapes", fake, size=(32, 40), augment=True, use_instance_edges=True)
    for epoch in range(3):
        ds.set_epoch(epoch)
        for k in range(len(ds)):
            item = ds[k]
            label, edges = item["label"].numpy(), item["edges"][0].numpy()
            # every boundary between two train ids is an instance boundary too (crop edges excepted)
            boundary = instance_edges(label) > 0
            assert edges[boundary].all()
            # and the extra edges lie only between the two cars (train id 13)
            extra = (edges > 0) & ~boundary
            assert (label[extra] == 13).all() and extra.any()


def test_instance_map_missing_or_wrong_size(fake):
    stem = fake.stems[0]
    inst = fake.labels[stem].with_name(f"{stem}_gtFine_instanceIds.png")
    write_ids16(inst, np.zeros((HW[0], HW[1] - 8)))
    ds = rc.load("cityscapes", fake, use_instance_edges=True)
    with pytest.raises(ValueError, match="must be the same size") as err:
        ds[0]
    assert str(inst) in str(err.value) and str(fake.labels[stem]) in str(err.value)
    inst.unlink()
    with pytest.raises(FileNotFoundError, match="no instance map") as err:
        rc.load("cityscapes", fake, use_instance_edges=True)
    assert str(inst) in str(err.value)


def test_size_mismatch_names_files(fake):
    rc.check_size_mismatch("cityscapes", fake)


def test_ids_outside_raw_range_name_the_file(fake):
    rc.check_bad_ids("cityscapes", fake, bad_id=34)  # e.g. a trainIds/colour file given as labelIds


def test_missing_label_and_photo(fake, tmp_path):
    rc.check_missing_label("cityscapes", fake)
    rc.check_missing_photo("cityscapes", make_cityscapes(tmp_path / "b"))


def test_missing_folders_print_layout(fake):
    rc.check_missing_folders("cityscapes", fake, fake.root / "gtFine" / "train", "leftImg8bit/")


def test_unknown_split_and_no_root(fake):
    with pytest.raises(ValueError, match="choose from"):
        rc.load("cityscapes", fake, split="training")
    with pytest.raises(ValueError, match="root"):
        rc.load_dataset("cityscapes", root=None)


def test_corrupt_photo(fake):
    rc.check_corrupt("cityscapes", fake)
