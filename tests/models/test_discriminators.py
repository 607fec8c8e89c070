"""Multi-scale PatchGAN: shapes at several sizes, feature lists, published parameter counts, input checks."""
from __future__ import annotations

import pytest
import torch

from semsynth.models.discriminators import MultiscalePatchDiscriminator, MultiscalePatchDiscriminatorConfig


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def tiny(**kw) -> MultiscalePatchDiscriminatorConfig:
    return MultiscalePatchDiscriminatorConfig(**{**dict(label_channels=5, ndf=4), **kw})


@pytest.mark.parametrize("size", [(32, 64), (64, 64), (64, 128), (256, 512)])
@pytest.mark.parametrize("num_d, n_layers", [(2, 4), (3, 3), (1, 2)])
def test_outputs_per_scale_and_layer(size, num_d, n_layers):
    torch.manual_seed(0)
    D = MultiscalePatchDiscriminator(tiny(num_d=num_d, n_layers_d=n_layers))
    with torch.no_grad():
        out = D(torch.randn(2, 5 + 3, *size))
    assert len(out) == num_d
    for s, feats in enumerate(out):
        assert len(feats) == n_layers + 1
        assert feats[-1].shape[:2] == (2, 1)  # patch logits
        assert [f.shape[1] for f in feats[:-1]] == [min(4 * 2 ** i, 512) for i in range(n_layers)]
        # avg-pool k3 s2 p1 gives ceil(x / 2); a k4 p2 conv gives x // 2 + 1 (stride 2) or x + 1 (stride 1)
        expected = []
        for x in size:
            for _ in range(s):
                x = -(-x // 2)
            for _ in range(n_layers - 1):  # stride-2 layers
                x = x // 2 + 1
            x += 1 if n_layers > 1 else 0  # the stride-1 normalised layer
            expected.append(x + 1)         # the logits conv
        assert tuple(feats[-1].shape[2:]) == tuple(expected), (s, feats[-1].shape)


def test_scales_see_downsampled_input():
    torch.manual_seed(0)
    D = MultiscalePatchDiscriminator(tiny(num_d=2))
    out = D(torch.randn(1, 8, 64, 128))
    assert out[1][0].shape[-2:] == (17, 33)  # avg-pooled to 32x64, then k4 s2 p2
    assert out[0][0].shape[-2:] == (33, 65)


# S:models/networks/discriminator.py: SPADE MultiscaleDiscriminator, n = label input channels (Cityscapes 36)
@pytest.mark.parametrize("n, expected", [(36, 5_601_410), (151, 5_836_930), (184, 5_904_514),
                                         (20, 5_601_410 + (20 - 36) * 2_048)])
def test_published_parameter_counts(n, expected):
    with torch.device("meta"):
        D = MultiscalePatchDiscriminator(MultiscalePatchDiscriminatorConfig(label_channels=n))
    print(n, n_params(D), expected)
    assert n_params(D) == expected


def test_per_layer_counts_of_one_scale():
    with torch.device("meta"):
        D = MultiscalePatchDiscriminator(MultiscalePatchDiscriminatorConfig(label_channels=36))
    per_layer = [n_params(layer) for layer in D.scales[0].layers]
    assert per_layer == [40_000, 131_072, 524_288, 2_097_152, 8_193]


def test_middle_layers_have_spectral_norm_first_and_last_do_not():
    D = MultiscalePatchDiscriminator(tiny())
    layers = D.scales[0].layers
    assert not hasattr(layers[0][0], "parametrizations") and not hasattr(layers[-1], "parametrizations")
    assert all(hasattr(layer[0], "parametrizations") for layer in layers[1:-1])
    plain = MultiscalePatchDiscriminator(tiny(use_spectral_norm=False))
    assert not any(hasattr(m, "parametrizations") for m in plain.modules())


def test_wrong_input_channels_name_both():
    D = MultiscalePatchDiscriminator(tiny())
    with pytest.raises(ValueError, match=r"\[N, 8, H, W\].*label_channels=5.*\(2, 7, 32, 64\)"):
        D(torch.randn(2, 7, 32, 64))
    with pytest.raises(ValueError, match="positive"):
        MultiscalePatchDiscriminator(tiny(num_d=0))
