import numpy as np
import pytest
import torch
from scipy import ndimage

from semsynth.classes import get_class_set
from semsynth.data import load_dataset
from semsynth.data.street_photo import noise_tiles
from semsynth.data.synthetic import SyntheticStreets, render_scene

SKY, ROAD, CAR = 10, 0, 13
SMALL = (64, 128)


def test_same_arguments_same_arrays_in_any_order():
    label, photo = render_scene(3, "train", 5, SMALL)
    for i in (7, 0):  # other scenes in between must not matter
        render_scene(3, "train", i, SMALL)
    label2, photo2 = render_scene(3, "train", 5, SMALL)
    assert label.dtype == np.uint8 and photo.dtype == np.uint8
    assert label.shape == SMALL and photo.shape == (*SMALL, 3)
    assert np.array_equal(label, label2) and np.array_equal(photo, photo2)
    a = SyntheticStreets(size=SMALL, seed=3)[5]
    b = SyntheticStreets(size=SMALL, seed=3)[5]
    assert torch.equal(a["label"], b["label"]) and torch.equal(a["image"], b["image"]) and a["name"] == b["name"]


def test_seed_and_split_change_the_scenes():
    base = SyntheticStreets(size=SMALL, seed=0, mode="labels")[0]["label"]
    other_seed = SyntheticStreets(size=SMALL, seed=1, mode="labels")[0]["label"]
    other_split = SyntheticStreets(size=SMALL, seed=0, split="val", mode="labels")[0]["label"]
    for other in (other_seed, other_split):
        share = (base != other).float().mean().item()
        print(f"differing pixels: {share:.3f}")
        assert share > 0.1


def test_layouts_differ_not_only_colours():
    labels = [render_scene(0, "train", i, SMALL, photo=False)[0] for i in range(10)]
    shares = [float((labels[i] != labels[i + 1]).mean()) for i in range(9)]
    print("label difference between consecutive scenes:", np.round(shares, 3))
    assert min(shares) > 0.1
    horizons = [np.flatnonzero((lab == ROAD).any(1))[0] for lab in labels]  # first road row
    assert len(set(horizons)) >= 5, horizons


def test_covers_many_classes_with_valid_ids():
    names = get_class_set("cityscapes").names
    counts = np.zeros(19, np.int64)
    for i in range(100):
        label = render_scene(0, "train", i, SMALL, photo=False)[0]
        assert label.max() < 19
        counts += np.bincount(label.ravel(), minlength=19)
    seen = [names[c] for c in np.flatnonzero(counts)]
    print("classes seen over 100 scenes:", seen)
    assert len(seen) >= 10
    for must in ("road", "sidewalk", "building", "sky", "car", "person", "vegetation", "pole"):
        assert must in seen


def test_sky_above_road_and_objects_shrink_with_depth():
    rows = np.arange(SMALL[0])[:, None]
    for i in range(20):
        label = render_scene(0, "train", i, SMALL, photo=False)[0]
        sky, road = label == SKY, label == ROAD
        assert sky.any() and road.any(), f"scene {i} lacks sky or road"
        assert np.broadcast_to(rows, SMALL)[sky].mean() < np.broadcast_to(rows, SMALL)[road].mean()
        assert sky[-1].sum() == 0  # the bottom row is ground or objects, never sky
    # perspective: a car's height grows with how far below the horizon it stands (its nearness)
    below, tall = [], []
    for i in range(20):
        label = render_scene(0, "train", i, SMALL, photo=False)[0]
        horizon = np.flatnonzero((label == ROAD).any(1))[0]
        blobs, _ = ndimage.label(label == CAR)
        for box in ndimage.find_objects(blobs):
            below.append(box[0].stop - horizon)
            tall.append(box[0].stop - box[0].start)
    corr = float(np.corrcoef(below, tall)[0, 1])
    print(f"{len(tall)} car blobs: correlation of height with depth below the horizon {corr:.2f}")
    assert len(tall) > 30 and corr > 0.6


def test_same_scene_at_every_size():
    small = render_scene(0, "train", 4, (64, 128), photo=False)[0]
    large = render_scene(0, "train", 4, (256, 512), photo=False)[0]
    agree = float((large[1::4, 1::4] == small).mean())  # pixel centres of the small map
    print(f"label agreement 64x128 vs 256x512: {agree:.3f}")
    assert agree > 0.9


def _explained(label: np.ndarray, photo: np.ndarray) -> float:
    """Share of the photo's colour variance explained by per-class mean colours of `label` (R^2)."""
    x = photo.reshape(-1, 3).astype(np.float64)
    y = label.ravel()
    counts = np.bincount(y, minlength=19)[:, None]
    means = np.stack([np.bincount(y, x[:, c], minlength=19) for c in range(3)], 1) / np.maximum(counts, 1)
    return 1 - float(((x - means[y]) ** 2).sum() / ((x - x.mean(0)) ** 2).sum())


def test_photo_follows_labels_but_not_trivially():
    """Per scene, the label map explains most of the photo's colour variance (the photo is rendered from it) but
    not all (textures, shading, windows, lane marks, haze); another scene's labels explain far less."""
    scenes = [render_scene(0, "train", i, SMALL) for i in range(12)]
    own = np.array([_explained(lab, ph) for lab, ph in scenes])
    other = np.array([_explained(scenes[(i + 1) % 12][0], ph) for i, (_, ph) in enumerate(scenes)])
    print(f"R^2 of photo colour from its labels {own.mean():.3f} (min {own.min():.3f}), "
          f"from another scene's labels {other.mean():.3f}")
    assert own.min() > 0.25 and own.mean() > 0.45 and own.max() < 0.97
    assert own.mean() > other.mean() + 0.25
    labels = np.concatenate([lab.ravel() for lab, _ in scenes])
    photos = np.concatenate([ph.reshape(-1, 3) for _, ph in scenes])
    means = np.stack([photos[labels == c].mean(0) for c in (ROAD, 2, 8, SKY)])  # road, building, vegetation, sky
    print("mean colours of road, building, vegetation, sky:", means.round())
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert gaps[np.triu_indices(4, 1)].min() > 15


@pytest.mark.parametrize("mode,keys", [("paired", {"label", "image"}), ("unpaired", {"label", "image"}),
                                       ("labels", {"label"}), ("images", {"image"})])
def test_items_of_every_mode(mode, keys):
    ds = load_dataset("synthetic-streets", size=(32, 64), mode=mode, num_scenes=6)
    assert len(ds) == 6 and ds.classes.name == "cityscapes"
    item = ds[2]
    assert set(item) == keys | {"name"}
    if "label" in keys:
        assert item["label"].dtype == torch.long and item["label"].shape == (32, 64)
        assert int(item["label"].max()) < 19
    if "image" in keys:
        img = item["image"]
        assert img.dtype == torch.float32 and img.shape == (3, 32, 64)
        assert -1 <= float(img.min()) and float(img.max()) <= 1 and float(img.std()) > 0.05


def test_unpaired_photos_come_from_other_scenes():
    paired = load_dataset("synthetic-streets", size=(32, 64), mode="paired", num_scenes=6)
    unpaired = load_dataset("synthetic-streets", size=(32, 64), mode="unpaired", num_scenes=6)
    photos = [paired[i]["image"] for i in range(6)]
    for i in range(6):
        item = unpaired[i]
        assert torch.equal(item["label"], paired[i]["label"])
        label_scene, photo_scene = item["name"].split("|")
        assert label_scene != photo_scene
        assert all(not torch.equal(item["image"], p) for p in photos)


@pytest.mark.parametrize("size", [(32, 64), (64, 128), (100, 200), (512, 1024), (48, 48)])
def test_any_size(size):
    item = load_dataset("synthetic-streets", size=size)[0]
    assert item["label"].shape == size and item["image"].shape == (3, *size)


def test_split_sizes_and_bad_options():
    assert len(SyntheticStreets(split="train")) == 10000
    assert len(SyntheticStreets(split="val")) == 500
    assert len(SyntheticStreets(split="test", num_scenes=7)) == 7
    SyntheticStreets(root="/nowhere", skip_corrupt=True, class_set=None)  # root is unused; None options ignored
    with pytest.raises(ValueError, match="split 'dev'"):
        SyntheticStreets(split="dev")
    with pytest.raises(ValueError, match="class_set"):
        load_dataset("synthetic-streets", class_set="ade20k")
    with pytest.raises(ValueError, match="seed must be >= 0"):
        SyntheticStreets(seed=-1)
    with pytest.raises(ValueError, match="num_scenes"):
        SyntheticStreets(num_scenes=0)


def test_augment_flips_label_and_photo_together():
    plain = SyntheticStreets(size=SMALL, num_scenes=8)
    aug = SyntheticStreets(size=SMALL, num_scenes=8, augment=True)
    flipped = 0
    for i in range(8):
        a, b = plain[i], aug[i]
        if torch.equal(a["label"], b["label"]):
            assert torch.equal(a["image"], b["image"])
        else:
            assert torch.equal(a["label"].flip(-1), b["label"]) and torch.equal(a["image"].flip(-1), b["image"])
            flipped += 1
    assert 0 < flipped < 8


def test_workers_give_the_same_items():
    noise_tiles.cache_clear()  # each worker process builds its own texture tiles
    ds = SyntheticStreets(size=(32, 64), num_scenes=4)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2)
    batches = list(loader)
    for i in range(4):
        item = ds[i]
        assert torch.equal(batches[i // 2]["label"][i % 2], item["label"])
        assert torch.equal(batches[i // 2]["image"][i % 2], item["image"])


def per_class_mean_l1(photos: np.ndarray, labels: np.ndarray) -> float:
    """L1 (0..255 units) of predicting each pixel by its class's mean colour over all the scenes."""
    pred = np.zeros_like(photos, dtype=np.float64)
    for c in np.unique(labels):
        pred[labels == c] = photos[labels == c].mean(0)
    return float(np.abs(pred - photos).mean())


def test_fixed_appearance_keeps_layouts_and_makes_photos_follow_classes():
    varied = [render_scene(0, "train", i, SMALL) for i in range(24)]
    fixed = [render_scene(0, "train", i, SMALL, appearance="fixed") for i in range(24)]
    for (label_v, photo_v), (label_f, photo_f) in zip(varied, fixed):
        assert np.array_equal(label_v, label_f)
        assert not np.array_equal(photo_v, photo_f)
    labels = np.stack([lab for lab, _ in fixed])
    l1_varied = per_class_mean_l1(np.stack([p for _, p in varied]).astype(np.float64), labels)
    l1_fixed = per_class_mean_l1(np.stack([p for _, p in fixed]).astype(np.float64), labels)
    print(f"\nper-class mean colour L1: varied {l1_varied:.1f}, fixed {l1_fixed:.1f}")
    assert l1_fixed < 0.8 * l1_varied  # the per-scene light and colours are gone; grain, haze and shading stay
    ds = SyntheticStreets(size=SMALL, num_scenes=2, appearance="fixed")
    assert torch.equal(ds[1]["image"], SyntheticStreets(size=SMALL, num_scenes=2, appearance="fixed")[1]["image"])
    with pytest.raises(ValueError, match="appearance"):
        SyntheticStreets(appearance="random")
