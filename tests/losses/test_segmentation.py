import math

import pytest
import torch
import torch.nn.functional as F

from semsynth.losses.segmentation import (balanced_cross_entropy, class_balance_weights, real_class_targets,
                                          segmentation_loss)


def test_class_balance_weights_by_hand():
    # 6 labelled pixels: class 0 x4, class 2 x2; class 1 and 3 absent; two ignore pixels
    label = torch.tensor([[[0, 0, 0, 255], [0, 2, 2, 255]]])
    w = class_balance_weights(label, 4)
    # w_c = P / (K * count_c) with P = 6 labelled pixels, K = 2 present classes
    assert torch.allclose(w, torch.tensor([6 / (2 * 4), 0.0, 6 / (2 * 2), 0.0]))


def test_balanced_ce_by_hand_with_ignore_and_absent_classes():
    label = torch.tensor([[[0, 0, 0, 255], [0, 2, 2, 255]]])       # [1, 2, 4]
    logits = torch.tensor([[1.0, 0.0, -1.0, 0.5], [0.2, 0.1, 0.0, 0.3], [0.0, 2.0, 1.0, 0.0]])  # [C=3, 4 px]
    logits = torch.stack([logits, logits.flip(-1)], dim=-2)[None]   # [1, 3, 2, 4]
    loss = balanced_cross_entropy(logits, label)

    def ce(pixel_logits, c):
        return -(pixel_logits[c] - math.log(sum(math.exp(v) for v in pixel_logits)))

    terms = {0: [], 2: []}
    for y in range(2):
        for x in range(4):
            c = int(label[0, y, x])
            if c != 255:
                terms[c].append(ce(logits[0, :, y, x].tolist(), c))
    # = mean over present classes of each class's mean CE
    expected = sum(sum(t) / len(t) for t in terms.values()) / len(terms)
    print(f"balanced CE {loss.item():.6f} vs hand {expected:.6f}")
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    plain = balanced_cross_entropy(logits, label, use_class_balance=False)
    assert plain.item() == pytest.approx(sum(terms[0] + terms[2]) / 6, rel=1e-6)
    assert plain.item() == pytest.approx(F.cross_entropy(logits, label, ignore_index=255).item(), rel=1e-6)


def test_balanced_ce_equals_oasis_without_ignore():
    torch.manual_seed(0)
    logits, label = torch.randn(2, 5, 4, 6), torch.randint(0, 3, (2, 4, 6))
    # OASIS: coefficients = numel / (K * count_c), weighted per-pixel CE averaged over all pixels
    counts = torch.bincount(label.flatten(), minlength=5).float()
    k = (counts > 0).sum()
    coef = torch.where(counts > 0, label.numel() / (k * counts), torch.zeros_like(counts))
    oasis = (F.cross_entropy(logits, label, reduction="none") * coef[label]).mean()
    assert balanced_cross_entropy(logits, label).item() == pytest.approx(oasis.item(), rel=1e-6)


def test_all_ignore_gives_zero_with_graph():
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    loss = balanced_cross_entropy(logits, torch.full((1, 2, 2), 255))
    loss.backward()
    assert loss.item() == 0 and logits.grad is not None


def test_real_class_targets_shift_and_keep_ignore():
    assert real_class_targets(torch.tensor([[[0, 3, 255]]])).tolist() == [[[1, 4, 255]]]


def test_segmentation_loss_never_targets_fake_channel():
    label = torch.tensor([[[0, 1], [1, 255]]])
    logits = torch.zeros(1, 3, 2, 2)
    logits[:, 0] = 10.0  # confident "fake" everywhere: must be punished
    bad = segmentation_loss(logits, label)
    good_logits = torch.zeros(1, 3, 2, 2)
    good_logits[0, 1, 0, 0] = good_logits[0, 2, 0, 1] = good_logits[0, 2, 1, 0] = 10.0
    assert bad.item() > 5 and segmentation_loss(good_logits, label).item() < 1e-3


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="disagree"):
        balanced_cross_entropy(torch.randn(1, 3, 4, 4), torch.zeros(1, 4, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="exceed num_classes"):
        class_balance_weights(torch.tensor([[[0, 7]]]), 3)
