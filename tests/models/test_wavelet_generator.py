"""USIS's wavelet generator (semsynth.models.wavelet_generator) and the wavelet discriminator's feature taps.
Parity with the official networks: tests/convert/test_oasis_usis.py."""
from __future__ import annotations

import pytest
import torch

from semsynth.models.io import from_pretrained, save_pretrained
from semsynth.models.wavelet_discriminator import WaveletDiscriminator, WaveletDiscriminatorConfig
from semsynth.models.wavelet_generator import WaveletSPADEGenerator, WaveletSPADEGeneratorConfig

CFG = WaveletSPADEGeneratorConfig(label_channels=5, ngf=1, z_dim=8, resolution=(64, 128), spade_hidden=4)


def segmap(n=2, size=(64, 128), channels=5):
    ids = torch.randint(0, channels, (n, *size))
    return torch.nn.functional.one_hot(ids, channels).permute(0, 3, 1, 2).float()


def test_wavelet_generator_shapes_and_noise():
    torch.manual_seed(0)
    G = WaveletSPADEGenerator(CFG).eval()
    x = segmap()
    z = torch.randn(2, 8)
    with torch.no_grad():
        out = G(x, z)
        assert out.shape == (2, 3, 64, 128) and out.abs().max() <= 1
        torch.manual_seed(5)
        drawn = G(x)  # z=None draws torch.randn(N, z_dim), as the official forward
        torch.manual_seed(5)
        assert torch.equal(drawn, G(x, torch.randn(2, 8)))
        spatial = z[:, :, None, None].expand(2, 8, 64, 128)
        assert torch.equal(G(x, spatial), out)
        assert not torch.equal(G(x, torch.randn(2, 8)), out)


def test_wavelet_generator_widths_follow_usis():
    G = WaveletSPADEGenerator(CFG)
    assert G.fc.out_channels == 64 and G.conv_img.out_channels == 12    # 4 * 16 * ngf; RGB's 4 sub-bands
    assert G.body[0].norm_0.gamma.out_channels == 16                      # SPADE in the image domain: width / 4
    assert G.body[-1].conv_1.out_channels == 4 and G.body[-1].conv_s is not None


def test_wavelet_generator_rejects_bad_inputs():
    G = WaveletSPADEGenerator(CFG)
    with pytest.raises(ValueError, match="divisible by 64"):
        G(segmap(size=(32, 64)))
    with pytest.raises(ValueError, match="z must be"):
        G(segmap(), torch.randn(2, 7))
    with pytest.raises(ValueError, match="label_channels|segmap must be"):
        G(segmap(channels=4))
    with pytest.raises(ValueError, match="spade_kernel"):
        WaveletSPADEGenerator(WaveletSPADEGeneratorConfig(spade_kernel=2))


def test_wavelet_generator_model_folder_round_trip(tmp_path):
    torch.manual_seed(0)
    G = WaveletSPADEGenerator(CFG).eval()
    save_pretrained(G, tmp_path, extra={"task": "sis"})
    loaded = from_pretrained(tmp_path)
    x, z = segmap(), torch.randn(2, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x, z), G(x, z))


def test_wavelet_discriminator_features_are_the_blocks_outputs():
    torch.manual_seed(0)
    D = WaveletDiscriminator(WaveletDiscriminatorConfig(resolution=(64, 128), max_channels=8, channel_base=512))
    feats = D.features(torch.randn(2, 3, 64, 128))
    assert [tuple(f.shape) for f in feats] == [(2, 8, 16, 32), (2, 8, 8, 16), (2, 8, 4, 8), (2, 8, 2, 4)]
