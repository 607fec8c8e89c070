import json
import time

import numpy as np
import pytest
import torch

from semsynth import classes as classes_module
from semsynth.classes import IGNORE_INDEX, MAX_CLASSES, class_set_from_dict, class_set_from_json, get_class_set


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


def _spec(tmp_path, spec):
    path = tmp_path / "classes.json"
    path.write_text(json.dumps(spec))
    return path


@pytest.mark.parametrize("spec,message", [
    ({"classes": [{"name": "a", "color": [1, 2, 300]}]}, r"color must be \[r, g, b\] with integers 0..255"),
    ({"classes": [{"name": "a", "color": [-1, 2, 3]}]}, r"integers 0..255"),
    ({"classes": [{"name": "a", "color": [1, 2]}]}, r"color must be \[r, g, b\]"),
    ({"classes": [{"name": "a"}, {"name": "b"}], "ignore_index": 1}, "ignore_index 1 is the id of class 'b'"),
    ({"classes": [{"name": "a"}], "ignore_index": 256}, r"ignore_index must be an integer in 1..255"),
    ({"classes": [{"name": "a", "id": 0}, {"name": "b", "id": 2}]}, "class 'b' says \"id\": 2 but is entry 1"),
    ({"classes": [{"name": "a", "id": 1}, {"name": "b", "id": 0}]}, "class 'a' says \"id\": 1 but is entry 0"),
    ({"classes": []}, "non-empty \"classes\" list"),
    ({"classes": ["a", "b"]}, "class 0 must be"),
])
def test_bad_class_lists_name_the_file(tmp_path, spec, message):
    path = _spec(tmp_path, spec)
    with pytest.raises(ValueError, match=message) as err:
        class_set_from_json(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_id_keys_that_match_the_list_order_are_accepted(tmp_path):
    cs = class_set_from_json(_spec(tmp_path, {"classes": [{"name": "a", "id": 0}, {"name": "b", "id": 1}],
                                               "ignore_index": 2}))
    assert cs.names == ("a", "b") and cs.ignore_index == 2


def test_too_many_classes_fail_fast_naming_the_limit(tmp_path):
    path = _spec(tmp_path, {"classes": [{"name": f"c{i}"} for i in range(100_000)]})
    start = time.perf_counter()
    with pytest.raises(ValueError, match=f"100,000 classes; at most {MAX_CLASSES}") as err:
        class_set_from_json(path)
    assert time.perf_counter() - start < 1.0 and str(path) in str(err.value)
    names = [{"name": f"c{i}"} for i in range(MAX_CLASSES)]
    assert class_set_from_json(_spec(tmp_path, {"classes": names})).num_classes == MAX_CLASSES


def test_colourless_classes_share_one_generated_palette(tmp_path, monkeypatch):
    """The palette for classes without a colour is built once (O(C)), not once per class (O(C^2))."""
    calls = []
    real = classes_module.generated_palette
    monkeypatch.setattr(classes_module, "generated_palette", lambda n, seed=0: calls.append(n) or real(n, seed))
    cs = class_set_from_json(_spec(tmp_path, {"classes": [{"name": f"c{i}"} for i in range(200)]}))
    assert calls == [200]
    np.testing.assert_array_equal(cs.colors, real(200))
    start = time.perf_counter()
    assert real(100_000).shape == (100_000, 3) and time.perf_counter() - start < 1.0


def test_class_sets_from_model_configs_are_checked_too():
    with pytest.raises(ValueError, match="ignore_index must be an integer in 2..255"):
        class_set_from_dict({"name": "m", "names": ["a", "b"], "colors": [[1, 2, 3], [4, 5, 6]], "ignore_index": 1})
    with pytest.raises(ValueError, match="colour values must be integers 0..255"):
        class_set_from_dict({"name": "m", "names": ["a"], "colors": [[1, 2, 999]]})
