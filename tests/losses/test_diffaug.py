"""DiffAugment: shapes, one draw on label and photo alike, gradients reach the input, seeded draws repeat,
the empty policy is the identity, and each transform does what it says."""
import pytest
import torch

from semsynth.losses.diffaug import (LABEL_TRANSFORMS, apply, diff_augment, draw, parse_policy, translate)

POLICY = ("color", "translation", "cutout")


def batch(n=4, c=3, h=16, w=24, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_shapes_are_kept():
    photo, label = diff_augment(batch(), batch(c=5), POLICY, torch.Generator().manual_seed(0))
    assert photo.shape == (4, 3, 16, 24) and label.shape == (4, 5, 16, 24)
    assert diff_augment(batch(), None, POLICY)[1] is None


def test_label_and_photo_get_the_same_spatial_transform_and_only_the_photo_colour():
    photo = batch()
    label = photo[:, :1].clone()  # a label channel equal to the photo's first channel
    out_photo, out_label = diff_augment(photo, label, ("translation", "cutout"), torch.Generator().manual_seed(1))
    assert torch.equal(out_photo[:, :1], out_label)
    assert not torch.equal(out_photo, photo)  # something moved
    out_photo, out_label = diff_augment(photo, label, ("color",), torch.Generator().manual_seed(1))
    assert torch.equal(out_label, label) and not torch.allclose(out_photo, photo)


def test_gradient_reaches_the_fake():
    fake = batch().requires_grad_(True)
    photo, _ = diff_augment(fake, None, POLICY, torch.Generator().manual_seed(2))
    photo.square().sum().backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    fake.grad = None
    diff_augment(fake, None, ("translation", "cutout"), torch.Generator().manual_seed(2))[0].sum().backward()
    assert (fake.grad == 0).any() and (fake.grad == 1).any()  # cut-out pixels get none, the rest pass through


def test_seeded_generator_repeats_and_empty_policy_is_identity():
    x = batch()
    a = diff_augment(x, None, POLICY, torch.Generator().manual_seed(3))[0]
    b = diff_augment(x, None, POLICY, torch.Generator().manual_seed(3))[0]
    c = diff_augment(x, None, POLICY, torch.Generator().manual_seed(4))[0]
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert diff_augment(x, x, ())[0] is x
    assert parse_policy("") == ()


def test_translation_shifts_with_zeros_moving_in():
    x = torch.arange(1, 13, dtype=torch.float32).reshape(1, 1, 3, 4)
    out = translate(x, (torch.tensor([1]), torch.tensor([0])))  # content moves up by one row
    assert torch.equal(out[0, 0, :2], x[0, 0, 1:]) and torch.equal(out[0, 0, 2], torch.zeros(4))


def test_cutout_zeroes_a_quarter_at_most():
    x = torch.ones(8, 2, 16, 16)
    params = draw(8, (16, 16), ("cutout",), torch.Generator().manual_seed(5))
    out, _ = apply(params, x)
    zeros = (out == 0).float().mean((1, 2, 3))
    assert ((zeros > 0) & (zeros <= 0.25)).all()
    assert torch.equal(out[:, 0], out[:, 1])  # every channel loses the same rectangle


def test_policy_is_checked():
    assert parse_policy("color, translation") == ("color", "translation")
    with pytest.raises(ValueError, match="color"):
        parse_policy("color,translation", LABEL_TRANSFORMS, "layout task")
    with pytest.raises(ValueError, match="flip"):
        parse_policy("flip")
