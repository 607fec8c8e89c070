"""The two forms of modulated conv (fused grouped conv / non-fused scale-conv-demodulate) compute the same function,
and the chooser picks the fused form only for one sample without autograd."""
import pytest
import torch

from semsynth.models.layers import SynthesisLayer, demodulation, modulated_conv2d, setup_filter, use_fused_modconv


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("up", [1, 2])
@pytest.mark.parametrize("demodulate", [True, False])
def test_fused_and_non_fused_agree_in_fp32(n, up, demodulate):
    g = torch.Generator().manual_seed(n * 10 + up)
    x = torch.randn(n, 6, 8, 8, generator=g)
    weight = torch.randn(5, 6, 3, 3, generator=g)
    styles = torch.randn(n, 6, generator=g)
    kw = dict(demodulate=demodulate, up=up, padding=1, resample_filter=setup_filter())
    fused = modulated_conv2d(x, weight, styles, fused=True, **kw)
    plain = modulated_conv2d(x, weight, styles, fused=False, **kw)
    assert fused.shape == plain.shape == (n, 5, 8 * up, 8 * up)
    torch.testing.assert_close(plain, fused, rtol=0, atol=1e-5)


def test_gradients_of_the_two_forms_agree():
    g = torch.Generator().manual_seed(0)
    grads = []
    for fused in (True, False):
        g.manual_seed(0)
        x, weight, styles = (torch.randn(s, generator=g, requires_grad=True)
                             for s in ([2, 4, 8, 8], [3, 4, 3, 3], [2, 4]))
        modulated_conv2d(x, weight, styles, padding=1, fused=fused).square().sum().backward()
        grads.append([x.grad, weight.grad, styles.grad])
    for a, b in zip(*grads):  # styles.grad sums terms that nearly cancel (demodulation undoes a style's scale), so
        # its small entries carry the rounding of the large ones: 1e-5 of the gradient's scale, not of each entry
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5 * b.abs().max().item())


def test_fused_only_for_one_sample_without_autograd():
    with torch.no_grad():
        assert use_fused_modconv(1) and not use_fused_modconv(4)
    with torch.enable_grad():
        assert not use_fused_modconv(1) and not use_fused_modconv(4)


def test_the_layer_uses_the_chosen_form(monkeypatch):
    """SynthesisLayer passes no `fused`, so the chooser decides: training (grad on) runs the non-fused form."""
    layer = SynthesisLayer(4, 4, w_dim=8, size=(8, 8))
    seen = []  # True: the conv got the shared weight itself (non-fused); False: per-sample weights (fused)
    real = modulated_conv2d.__globals__["conv2d_resample"]
    monkeypatch.setitem(modulated_conv2d.__globals__, "conv2d_resample",
                        lambda x, w, *a, **k: seen.append(w is layer.weight) or real(x, w, *a, **k))
    x, w = torch.randn(2, 4, 8, 8), torch.randn(2, 8)
    layer(x, w).sum().backward()
    with torch.no_grad():
        layer(x[:1], w[:1])
        layer(x, w)
    assert seen == [True, False, True]


@pytest.mark.parametrize("fused", [True, False])
def test_both_forms_run_under_bf16_autocast(fused):
    """The convs run in bf16, the per-sample weights and demodulation coefficients stay float32 (as official)."""
    g = torch.Generator().manual_seed(1)
    x, weight, styles = torch.randn(2, 8, 8, 8, generator=g), torch.randn(8, 8, 3, 3, generator=g), torch.randn(2, 8)
    reference = modulated_conv2d(x, weight, styles, padding=1, fused=fused)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = modulated_conv2d(x, weight, styles, padding=1, fused=fused)
    assert y.dtype == torch.bfloat16
    torch.testing.assert_close(y.float(), reference, rtol=0.05, atol=0.05)


def test_demodulation_matches_the_per_sample_weight_formula():
    """The tap-first sum gives the paper's d = rsqrt(sum (w s)^2 + 1e-8) to float32 rounding, in float32 under
    bf16 autocast too."""
    g = torch.Generator().manual_seed(2)
    weight, styles = torch.randn(7, 6, 3, 3, generator=g), torch.randn(3, 6, generator=g)
    per_sample = weight.unsqueeze(0) * styles.reshape(3, 1, 6, 1, 1)
    expected = (per_sample.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()
    torch.testing.assert_close(demodulation(weight, styles), expected, rtol=1e-6, atol=0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        d = demodulation(weight, styles)
    assert d.dtype == torch.float32
    torch.testing.assert_close(d, expected, rtol=1e-6, atol=0)
