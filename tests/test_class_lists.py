import numpy as np

from semsynth.class_lists.ade20k import ADE20K_NAMES
from semsynth.class_lists.cocostuff import COCO_STUFF_NAMES
from semsynth.classes import get_class_set


def test_ade20k_150_names_in_id_order():
    assert len(ADE20K_NAMES) == 150 and len(set(ADE20K_NAMES)) == 150
    assert ADE20K_NAMES[:13] == ("wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane",
                                 "grass", "cabinet", "sidewalk", "person")
    assert ADE20K_NAMES[20] == "car" and ADE20K_NAMES[-1] == "flag"
    cs = get_class_set("ade20k")
    np.testing.assert_array_equal(cs.to_train_ids(np.array([0, 1, 21, 150], np.uint8)), [255, 0, 20, 149])


def test_coco_stuff_182_slots_with_unused_placeholders():
    names = COCO_STUFF_NAMES
    assert len(names) == 182 and len(set(names)) == 182
    assert names[0] == "person" and names[12] == "stop sign" and names[89] == "toothbrush"
    assert names[91] == "banner" and names[181] == "wood" and names[156] == "sky-other"
    unused = [i for i, n in enumerate(names) if n.startswith("unused-")]
    assert unused == [11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90]
    assert all(names[i] == f"unused-{i}" for i in unused)
    assert get_class_set("coco-stuff").num_classes == 182
