import numpy as np
import pytest
import pywt
import torch

from semsynth.models.wavelet import dwt, haar_filters, idwt, split_bands
from semsynth.models.wavelet_discriminator import WaveletDiscriminator, WaveletDiscriminatorConfig


def count(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("shape", [(2, 3, 2, 2), (1, 3, 32, 64), (2, 1, 64, 64), (1, 5, 18, 4), (3, 2, 6, 10)])
def test_dwt_idwt_invertible(shape):
    torch.manual_seed(0)
    x = torch.randn(shape)
    y = dwt(x)
    assert y.shape == (shape[0], 4 * shape[1], shape[2] // 2, shape[3] // 2)
    err = (idwt(y) - x).abs().max().item()
    print(f"max reconstruction error {shape}: {err:.2e}")
    assert err < 1e-5


def test_constant_image_has_only_ll():
    x = torch.full((2, 3, 8, 16), 0.7)
    bands = split_bands(dwt(x))
    assert torch.allclose(bands["LL"], torch.full((2, 3, 4, 8), 0.7 * 2))  # 4 taps of 1/2 each
    for name in ("LH", "HL", "HH"):
        assert bands[name].abs().max() == 0


def test_matches_pywavelets_dwt2():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(8, 12))
    cA, details = pywt.dwt2(a, "haar")
    bands = split_bands(dwt(torch.from_numpy(a)[None, None]))
    assert np.allclose(bands["LL"][0, 0].numpy(), cA)
    ours = [bands[k][0, 0].numpy() for k in ("LH", "HL", "HH")]
    for mine, theirs in zip(ours, details):  # pywt's (horizontal, vertical, diagonal) detail, up to sign
        assert np.allclose(np.abs(mine), np.abs(theirs))


def test_filters_orthonormal():
    f = haar_filters(torch.float64).flatten(1)
    assert torch.allclose(f @ f.t(), torch.eye(4, dtype=torch.float64))


def test_dwt_rejects_odd_size():
    with pytest.raises(ValueError, match="even H and W"):
        dwt(torch.randn(1, 3, 7, 8))


def test_published_wavelet_discriminator_parameter_count():
    # the official USIS WaveletDiscriminator (U:models/discriminator.py): 25,333,377 at 256x512, 26,211,073 at 256x256
    assert count(WaveletDiscriminator(WaveletDiscriminatorConfig(resolution=(256, 512)))) == 25_333_377
    assert count(WaveletDiscriminator(WaveletDiscriminatorConfig(resolution=(256, 256)))) == 26_211_073


def tiny(size, **kw):
    return WaveletDiscriminatorConfig(resolution=size, max_channels=8, channel_base=8 * 64, **kw)


@pytest.mark.parametrize("size", [(32, 64), (64, 128), (64, 64)])
@pytest.mark.parametrize("batch", [1, 3, 4])
def test_wavelet_discriminator_one_logit_per_image(size, batch):
    torch.manual_seed(0)
    out = WaveletDiscriminator(tiny(size))(torch.randn(batch, 3, *size))
    assert out.shape == (batch,) and torch.isfinite(out).all()


def test_whole_image_ablation_has_same_shapes():
    d_wave, d_whole = WaveletDiscriminator(tiny((32, 64))), WaveletDiscriminator(tiny((32, 64), use_wavelet=False))
    assert count(d_wave) == count(d_whole)
    assert d_whole(torch.randn(2, 3, 32, 64)).shape == (2,)


def test_wavelet_discriminator_rejects_bad_input():
    d = WaveletDiscriminator(tiny((32, 64)))
    with pytest.raises(ValueError, match="32, 64"):
        d(torch.randn(2, 3, 64, 64))
    with pytest.raises(ValueError, match="divisible by"):
        WaveletDiscriminator(tiny((40, 64)))


def test_checkpoints_with_the_old_conv_layer_names_still_load():
    """Runs saved before the discriminator was built from models/layers.py name a conv layer's tensors
    `<layer>.conv.weight` / `<layer>.act.bias`; they load into the same places, so such runs resume."""
    torch.manual_seed(0)
    d = WaveletDiscriminator(tiny((32, 64)))
    new = d.state_dict()
    old = {}
    for key, value in new.items():
        if key.endswith(".weight") and not key.startswith("final_linear"):
            key = key[:-len("weight")] + "conv.weight"
        elif key.endswith(".bias") and not key.startswith("final_linear"):
            key = key[:-len("bias")] + "act.bias"
        old[key] = value.clone() + 1
    assert "from_wavelets.0.conv.conv.weight" in old and "convs.0.conv1.act.bias" in old
    fresh = WaveletDiscriminator(tiny((32, 64)))
    fresh.load_state_dict(old, strict=True)
    assert all(torch.equal(fresh.state_dict()[k], new[k] + 1) for k in new)
