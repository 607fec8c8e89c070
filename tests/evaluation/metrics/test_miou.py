"""mIoU on hand-made confusion cases: ignore pixels, classes absent from both maps, data-set-level IoU."""
import math

import pytest
import torch

from semsynth.evaluation.metrics.miou import ConfusionMatrix, iou_from_confusion

I = 255  # ignore


def _t(rows):
    return torch.tensor(rows, dtype=torch.long)[None]  # [1, H, W]


def test_hand_made_case_with_ignore_and_absent_class():
    target = _t([[0, 0, 1, 1],
                 [0, I, 1, 2]])
    pred = _t([[0, 1, 1, 1],
               [0, 3, 2, 2]])  # the 3 sits on an ignore pixel: skipped, so class 3 stays absent
    out = ConfusionMatrix(5).update(pred, target).compute()
    # class 0: TP 2, FP 0, FN 1 -> 2/3; class 1: TP 2, FP 1, FN 1 -> 2/4; class 2: TP 1, FP 1, FN 0 -> 1/2
    # classes 3, 4: in neither prediction nor truth (after ignore) -> None, not in the mean
    assert out["per_class_iou"][:3] == pytest.approx([2 / 3, 1 / 2, 1 / 2])
    assert out["per_class_iou"][3:] == [None, None]
    assert out["miou"] == pytest.approx((2 / 3 + 1 / 2 + 1 / 2) / 3)
    assert out["pixel_accuracy"] == pytest.approx(5 / 7)


def test_class_only_predicted_counts_as_zero():
    out = ConfusionMatrix(3).update(_t([[2, 0]]), _t([[0, 0]])).compute()
    assert out["per_class_iou"] == [pytest.approx(0.5), None, 0.0]
    assert out["miou"] == pytest.approx(0.25)


def test_iou_is_accumulated_over_the_set_not_averaged_per_image():
    cm = ConfusionMatrix(2)
    cm.update(_t([[0, 0, 0, 1]]), _t([[0, 0, 0, 0]]))  # image 1: class-0 IoU 3/4, class 1 IoU 0
    cm.update(_t([[1, 1, 1, 1]]), _t([[1, 1, 1, 1]]))  # image 2: class 1 IoU 1
    out = cm.compute()
    # data-set level: class 0: 3 / 4; class 1: TP 4, FP 1 -> 4 / 5 (per-image averaging would give 0.5 for class 1)
    assert out["per_class_iou"] == [pytest.approx(0.75), pytest.approx(0.8)]
    # merging two matrices (e.g. from two processes) is the same as one pass
    a, b = ConfusionMatrix(2), ConfusionMatrix(2)
    a.update(_t([[0, 0, 0, 1]]), _t([[0, 0, 0, 0]]))
    b.update(_t([[1, 1, 1, 1]]), _t([[1, 1, 1, 1]]))
    assert torch.equal(a.merge(b).matrix, cm.matrix)


def test_perfect_and_empty_cases():
    labels = torch.randint(0, 4, (3, 8, 8), generator=torch.Generator().manual_seed(0))
    out = ConfusionMatrix(4).update(labels, labels).compute()
    assert out["miou"] == 1.0 and out["pixel_accuracy"] == 1.0
    empty = ConfusionMatrix(4).update(labels, torch.full_like(labels, I)).compute()
    assert math.isnan(empty["miou"]) and empty["per_class_iou"] == [None] * 4
    assert iou_from_confusion(torch.tensor([[0, 0], [0, 5]]))["per_class_iou"] == [None, 1.0]


def test_bad_ids_raise():
    with pytest.raises(ValueError, match="predicted ids must lie in 0..2"):
        ConfusionMatrix(3).update(_t([[3, 0]]), _t([[0, 0]]))
    with pytest.raises(ValueError, match="true ids"):
        ConfusionMatrix(3).update(_t([[0, 0]]), _t([[7, 0]]))
    with pytest.raises(ValueError, match="both be"):
        ConfusionMatrix(3).update(_t([[0, 0]]), _t([[0, 0, 0]]))
