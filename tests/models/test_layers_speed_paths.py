"""The faster paths of semsynth/models/layers.py compute what the plain ones do: in-place bias + activation without
autograd, and the FIR filter's symmetric padding done by the conv instead of a padded copy."""
import pytest
import torch
import torch.nn.functional as F

from semsynth.models.layers import SynthesisLayer, bias_act, setup_filter, upfirdn2d


@pytest.mark.parametrize("activation,clamp", [("lrelu", 0.5), ("linear", 0.0), ("lrelu", 0.0)])
def test_in_place_bias_act_matches_the_plain_one(activation, clamp):
    g = torch.Generator().manual_seed(0)
    x, b = torch.randn(2, 5, 4, 4, generator=g), torch.randn(5, generator=g)
    expected = bias_act(x, b, activation, clamp)
    with torch.no_grad():
        y = bias_act(x.clone(), b, activation, clamp, inplace=True)
    torch.testing.assert_close(y, expected, rtol=0, atol=0)


def test_in_place_bias_act_reuses_x_only_without_autograd():
    x, b = torch.randn(2, 3, 4, 4), torch.randn(3, requires_grad=True)
    with torch.no_grad():
        assert bias_act(x, b.detach(), "lrelu", inplace=True).data_ptr() == x.data_ptr()
    keep = x.clone()
    y = bias_act(x, b, "lrelu", inplace=True)  # b needs a gradient: x is left alone
    assert y.data_ptr() != x.data_ptr() and torch.equal(x, keep)
    y.sum().backward()
    assert b.grad is not None


def reference_upfirdn2d(x, f, padding):
    """Pad (negative crops), then the flipped filter as a depthwise conv: the explicit form."""
    px0, px1, py0, py1 = padding
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    w = f.flip([0, 1])[None, None].expand(x.shape[1], 1, *f.shape)
    return F.conv2d(x, w, groups=x.shape[1])


@pytest.mark.parametrize("padding", [(1, 1, 1, 1), (2, 2, 0, 0), (2, 1, 2, 1), (-1, 2, 1, 1)])
def test_upfirdn2d_padding_by_the_conv_matches_a_padded_copy(padding):
    x = torch.randn(2, 3, 9, 7, generator=torch.Generator().manual_seed(1))
    f = setup_filter()
    torch.testing.assert_close(upfirdn2d(x, f, padding=padding), reference_upfirdn2d(x, f, padding),
                               rtol=0, atol=1e-6)


def test_synthesis_layer_eval_output_is_unchanged_by_the_in_place_path():
    torch.manual_seed(0)
    layer = SynthesisLayer(4, 6, w_dim=8, size=(16, 16), up=2, conv_clamp=0.3)
    torch.nn.init.normal_(layer.noise.strength)
    torch.nn.init.normal_(layer.bias)
    x, w = torch.randn(3, 4, 8, 8), torch.randn(3, 8)
    with torch.enable_grad():
        expected = layer(x, w, noise_mode="const")
    with torch.no_grad():
        y = layer(x, w, noise_mode="const")
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-6)


def test_1x1_conv_with_downsampling_filters_only_the_kept_pixels_and_matches_the_strided_conv():
    from semsynth.models.layers import conv2d_resample
    g = torch.Generator().manual_seed(5)
    x, w, f = torch.randn(2, 4, 10, 10, generator=g), torch.randn(3, 4, 1, 1, generator=g), setup_filter()
    p0, p1 = (4 - 2 + 1) // 2, (4 - 2) // 2
    expected = F.conv2d(upfirdn2d(x, f, padding=(p0, p1, p0, p1)), w, stride=2)  # the full-resolution FIR form
    y = conv2d_resample(x, w, f, down=2)
    assert y.shape == (2, 3, 5, 5)
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-5)


def test_bias_act_with_autograd_matches_the_textbook_formula_and_its_gradients():
    """Training path: gain first, lrelu in place (one saved activation); values and gradients as lrelu(x + b) * g."""
    g = torch.Generator().manual_seed(7)
    x, b = torch.randn(2, 5, 4, 4, generator=g, requires_grad=True), torch.randn(5, generator=g, requires_grad=True)
    y = bias_act(x, b, "lrelu", clamp=0.9)
    y.square().sum().backward()
    grads = x.grad.clone(), b.grad.clone()
    x.grad = b.grad = None
    ref = (F.leaky_relu(x + b.reshape(1, -1, 1, 1), 0.2) * 2 ** 0.5).clamp(-0.9, 0.9)
    ref.square().sum().backward()
    torch.testing.assert_close(y, ref, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(grads, (x.grad, b.grad), rtol=1e-5, atol=1e-6)
