import numpy as np
import pytest
import torch

from semsynth.classes import IGNORE_INDEX, class_set_from_json, get_class_set


def test_cityscapes_raw_ids_map_to_19_train_ids():
    cs = get_class_set("cityscapes")
    assert cs.num_classes == 19 and cs.names[0] == "road" and cs.names[-1] == "bicycle"
    raw = np.array([[7, 8, 26, 33], [0, 1, 4, 255]], np.uint8)  # road, sidewalk, car, bicycle / unlabeled...
    np.testing.assert_array_equal(cs.to_train_ids(raw), [[0, 1, 13, 18], [255, 255, 255, 255]])


def test_colorize_then_quantize_round_trips_ids_including_ignore():
    cs = get_class_set("camvid")
    ids = torch.tensor([[0, 1, 2], [10, IGNORE_INDEX, 3]])
    rgb = cs.colorize(ids)
    assert rgb.dtype == torch.uint8 and rgb.shape == (2, 3, 3)
    back, far = cs.quantize(rgb)
    assert torch.equal(back, ids) and far == 0.0


def test_quantize_reports_off_palette_share_and_snaps_noise():
    cs = get_class_set("cityscapes")
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 19, size=(32, 64))
    rgb = cs.colorize(ids).astype(np.int16)
    noisy = np.clip(rgb + rng.integers(-6, 7, size=rgb.shape), 0, 255).astype(np.uint8)
    back, far = cs.quantize(noisy)
    assert (back == ids).mean() > 0.99 and far == 0.0
    garbage = np.full((8, 8, 3), (255, 128, 255), np.uint8)  # far from every Cityscapes colour
    _, far = cs.quantize(garbage)
    assert far == 1.0


def test_check_ids_lists_out_of_range_ids():
    cs = get_class_set("camvid")
    with pytest.raises(ValueError, match=r"\[11, 40\]"):
        cs.check_ids(np.array([[0, 11, 40, 255]]))


def test_unknown_class_set_lists_choices():
    with pytest.raises(ValueError, match="choose from"):
        get_class_set("cityscape")


def test_class_set_from_json(tmp_path):
    spec = tmp_path / "classes.json"
    spec.write_text('{"name": "toy", "classes": [{"name": "a", "color": [1, 2, 3]}, {"name": "b"}]}')
    cs = class_set_from_json(spec)
    assert cs.names == ("a", "b") and tuple(cs.colors[0]) == (1, 2, 3)
    spec.write_text("{}")
    with pytest.raises(ValueError, match="classes"):
        class_set_from_json(spec)
