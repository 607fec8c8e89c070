"""SPADE norm, SPADE / OASIS generator and the VAE encoder: shapes, layout-following modulation, noise,
published parameter counts, save/load."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from semsynth.models.io import from_pretrained, save_pretrained
from semsynth.models.spade import (
    SPADE, ConvEncoder, ConvEncoderConfig, SPADEGenerator, SPADEGeneratorConfig, SPADEResBlock)


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def tiny(**kw) -> SPADEGeneratorConfig:
    base = dict(label_channels=5, ngf=4, spade_hidden=8, resolution=(32, 64), norm="instance")
    return SPADEGeneratorConfig(**{**base, **kw})


def random_segmap(n: int, c: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, c, (n, h // 4, w // 4), generator=g).repeat_interleave(4, 1).repeat_interleave(4, 2)
    return torch.nn.functional.one_hot(ids, c).permute(0, 3, 1, 2).float()


# ------------------------------------------------------------------------------------------------ SPADE norm
@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_spade_norm_shape_and_segmap_resize(norm):
    torch.manual_seed(0)
    layer = SPADE(channels=6, label_channels=4, norm=norm, hidden=8)
    out = layer(torch.randn(2, 6, 8, 16), random_segmap(2, 4, 32, 64))  # segmap 4x larger: nearest-resized
    assert out.shape == (2, 6, 8, 16)


def test_spade_modulation_follows_the_layout():
    torch.manual_seed(0)
    layer = SPADE(channels=6, label_channels=3, norm="instance", hidden=8)
    for conv in (layer.gamma, layer.beta):  # make the modulation strong enough to see
        torch.nn.init.normal_(conv.weight, std=0.5)
    x = torch.randn(1, 6, 16, 32)
    a = torch.zeros(1, 3, 16, 32)
    a[:, 0] = 1
    b = a.clone()
    b[:, :, 4:10, 8:20] = 0
    b[:, 1, 4:10, 8:20] = 1  # one region changes class
    diff = (layer(x, a) - layer(x, b)).abs().sum(1)[0]  # [H, W]
    # two stacked 3x3 convs: a change reaches at most 2 pixels beyond the region
    reach = torch.zeros(16, 32, dtype=torch.bool)
    reach[2:12, 6:22] = True
    print(f"inside region mean |diff| {diff[4:10, 8:20].mean():.4f}, outside reach max {diff[~reach].max():.2e}")
    assert diff[~reach].max() == 0
    assert (diff[4:10, 8:20] > 1e-4).all()


def test_res_block_learned_shortcut_only_when_channels_change():
    assert SPADEResBlock(8, 4, 3, "instance", 8).learned_shortcut
    block = SPADEResBlock(8, 8, 3, "instance", 8)
    assert not block.learned_shortcut and not hasattr(block, "conv_s")
    assert block(torch.randn(2, 8, 4, 8), random_segmap(2, 3, 16, 32)).shape == (2, 8, 4, 8)


# -------------------------------------------------------------------------------------------------- generator
@pytest.mark.parametrize("family", ["spade", "oasis"])
@pytest.mark.parametrize("size", [(32, 64), (64, 64), (64, 128)])
def test_generator_shapes_and_range(family, size):
    torch.manual_seed(0)
    G = SPADEGenerator(tiny(family=family, resolution=size))
    out = G(random_segmap(2, 5, *size))
    assert out.shape == (2, 3, *size)
    assert out.min() >= -1 and out.max() <= 1


@pytest.mark.parametrize("mode, start", [("normal", (2, 4)), ("more", (1, 2)), ("most", (1, 2))])
def test_spade_upsampling_plans(mode, start):
    size = (64, 128) if mode != "most" else (128, 256)
    G = SPADEGenerator(tiny(num_upsampling_layers=mode, resolution=size))
    assert (G.sh, G.sw) == (start if mode != "most" else (1, 2))
    assert G(random_segmap(1, 5, *size)).shape == (1, 3, *size)


@pytest.mark.parametrize("family", ["spade", "oasis"])
def test_generator_256x512_with_tiny_width(family):
    G = SPADEGenerator(tiny(family=family, ngf=2, spade_hidden=4, resolution=(256, 512)))
    with torch.no_grad():
        assert G(random_segmap(1, 5, 256, 512)).shape == (1, 3, 256, 512)


def test_vae_generator_takes_z_and_exact_resolution():
    G = SPADEGenerator(tiny(use_vae=True, z_dim=16)).eval()
    assert isinstance(G.fc, torch.nn.Linear) and G.uses_noise
    seg = random_segmap(2, 5, 32, 64)
    assert G(seg, torch.randn(2, 16)).shape == (2, 3, 32, 64)
    with pytest.raises(ValueError, match="resolution"):
        G(random_segmap(2, 5, 64, 64), torch.randn(2, 16))


@pytest.mark.parametrize("kw", [dict(family="oasis", z_dim=8), dict(use_vae=True, z_dim=8)])
def test_same_z_same_photo_different_z_different_photo(kw):
    torch.manual_seed(0)
    G = SPADEGenerator(tiny(**kw)).eval()
    seg = random_segmap(2, 5, 32, 64)
    z1, z2 = torch.randn(2, 8), torch.randn(2, 8)
    with torch.no_grad():
        a, a2, b = G(seg, z1), G(seg, z1.clone()), G(seg, z2)
    assert torch.equal(a, a2)
    diff, scale = (a - b).abs().mean().item(), a.abs().mean().item()
    print(f"{kw}: mean |G(z1) - G(z2)| = {diff:.5f}, mean |G(z1)| = {scale:.5f}")
    assert diff > 0.1 * scale


def test_oasis_accepts_spatial_noise():
    G = SPADEGenerator(tiny(family="oasis", z_dim=8)).eval()
    seg = random_segmap(1, 5, 32, 64)
    z = torch.randn(1, 8)
    with torch.no_grad():
        flat = G(seg, z)
        spatial = G(seg, z[:, :, None, None].expand(1, 8, 32, 64))
    torch.testing.assert_close(flat, spatial)


def test_generator_rejects_bad_inputs():
    G = SPADEGenerator(tiny())
    with pytest.raises(ValueError, match=r"7 channels.*label_channels=5"):
        G(random_segmap(1, 7, 32, 64))
    with pytest.raises(ValueError, match="no noise"):
        G(random_segmap(1, 5, 32, 64), torch.randn(1, 64))
    with pytest.raises(ValueError, match="divisible"):
        G(random_segmap(1, 5, 48, 64)[:, :, :40])
    oasis = SPADEGenerator(tiny(family="oasis", z_dim=8))
    with pytest.raises(ValueError, match=r"z must be \[N=1, z_dim=8\]"):
        oasis(random_segmap(1, 5, 32, 64), torch.randn(1, 9))


@pytest.mark.parametrize("kw, match", [
    (dict(family="pix2pix"), "unknown family"),
    (dict(norm="group"), "unknown norm"),
    (dict(num_upsampling_layers="many"), "num_upsampling_layers"),
    (dict(family="oasis", use_vae=True), "use_vae"),
    (dict(family="oasis", num_upsampling_layers="more"), "oasis"),
    (dict(resolution=(48, 64)), "divisible by 2"),
])
def test_generator_config_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        SPADEGenerator(tiny(**kw))


def test_syncbatch_norm_runs_without_distributed():
    G = SPADEGenerator(tiny(norm="syncbatch"))
    assert G(random_segmap(2, 5, 32, 64)).shape == (2, 3, 32, 64)


# ------------------------------------------------------------------------------------- published param counts
# The official networks (S:models/networks, O:models). Built on the meta device (no memory, no init). Spectral
# norm keeps one weight tensor per conv (`original`), so the count does not depend on it (checked on a tiny model
# below); it is off here only because its 15 power iterations at construction are slow on the meta device.
PUBLISHED_G = [
    (dict(label_channels=36, num_upsampling_layers="more"), 93_048_003),                       # SPADE Cityscapes
    (dict(label_channels=36, num_upsampling_layers="more", use_vae=True, z_dim=256), 101_136_579),
    (dict(label_channels=151), 96_492_483),                                                   # SPADE ADE20K
    (dict(label_channels=35, family="oasis"), 71_107_523),                                    # OASIS / USIS G
    (dict(label_channels=35, family="oasis", ngf=16), 10_175_987),                            # USIS channels_G 16
    (dict(label_channels=151, family="oasis"), 74_314_691),                                   # OASIS ADE20K
]


@pytest.mark.parametrize("kw, expected", PUBLISHED_G)
def test_published_generator_parameter_counts(kw, expected):
    with torch.device("meta"):
        G = SPADEGenerator(SPADEGeneratorConfig(resolution=(256, 512), use_spectral_norm=False, **kw))
    print(kw, n_params(G), expected)
    assert n_params(G) == expected


def test_label_channel_formula_spade():
    with torch.device("meta"):
        G = SPADEGenerator(SPADEGeneratorConfig(label_channels=20, num_upsampling_layers="more",
                                                use_spectral_norm=False))
    assert n_params(G) == 93_048_003 + (20 - 36) * 29_952


@pytest.mark.parametrize("family", ["spade", "oasis"])
def test_spectral_norm_does_not_change_parameter_count(family):
    with_sn = SPADEGenerator(tiny(family=family, use_spectral_norm=True))
    without = SPADEGenerator(tiny(family=family, use_spectral_norm=False))
    assert n_params(with_sn) == n_params(without)
    assert any(hasattr(m, "parametrizations") for m in with_sn.modules())


def test_published_conv_encoder_parameter_count():
    with torch.device("meta"):
        E = ConvEncoder(ConvEncoderConfig(use_spectral_norm=False))
    assert n_params(E) == 10_463_424


def test_conv_encoder_encodes_any_photo_size():
    E = ConvEncoder(ConvEncoderConfig(ndf=4, z_dim=8, input_size=32))
    mu, logvar = E.encode(torch.rand(3, 3, 32, 64) * 2 - 1)
    assert mu.shape == logvar.shape == (3, 8)
    with pytest.raises(ValueError, match="4 \\* 2\\^k"):
        ConvEncoder(ConvEncoderConfig(input_size=48))
    with pytest.raises(ValueError, match="photos"):
        E.encode(torch.rand(1, 4, 32, 32))


# -------------------------------------------------------------------------------------------------- save/load
@pytest.mark.parametrize("kw", [dict(family="oasis", z_dim=8, norm="batch"), dict(use_vae=True, z_dim=8),
                                dict(num_upsampling_layers="more", resolution=(64, 128))])
def test_save_pretrained_roundtrip_identical_output(tmp_path, kw):
    torch.manual_seed(0)
    G = SPADEGenerator(tiny(**kw))
    size = G.cfg.resolution
    G(random_segmap(4, 5, *size), torch.randn(4, 8) if G.uses_noise else None)  # move BN stats / SN vectors
    G.eval()
    save_pretrained(G, tmp_path / "g", extra={"task": "sis"})
    loaded = from_pretrained(tmp_path / "g")
    assert loaded.cfg == G.cfg and isinstance(loaded.cfg.resolution, tuple)
    seg = random_segmap(2, 5, *size, seed=1)
    z = torch.randn(2, 8) if G.uses_noise else None
    with torch.no_grad():
        assert torch.equal(G(seg, z), loaded(seg, z))
    assert dataclasses.asdict(loaded.cfg)["family"] == kw.get("family", "spade")


def test_spade_kernel_size_and_ngf_one_as_official_options_allow():
    """SPADE's norm_G 'spade<norm>KxK' sets the kernel of SPADE's convs; ngf 1 is legal unless 'most' halves it."""
    G = SPADEGenerator(tiny(spade_kernel_size=5, ngf=1))
    assert G.head_0.norm_0.shared[0].weight.shape == (8, 5, 5, 5) and G.up_3.norm_1.gamma.weight.shape[-1] == 5
    assert G(random_segmap(1, 5, 32, 64)).shape == (1, 3, 32, 64)
    assert n_params(SPADEGenerator(tiny())) == n_params(SPADEGenerator(tiny(spade_kernel_size=3)))
    with pytest.raises(ValueError, match="spade_kernel_size must be odd"):
        SPADEGenerator(tiny(spade_kernel_size=4))
    with pytest.raises(ValueError, match="ngf must be >= 2"):
        SPADEGenerator(tiny(ngf=1, num_upsampling_layers="most", resolution=(128, 256)))


def test_spade_norm_stacked_gamma_beta_conv_equals_the_two_convs():
    """SPADE runs gamma and beta as one stacked conv (faster); it must equal norm(x) * (1 + gamma(a)) + beta(a)."""
    from semsynth.models.spade import SPADE
    torch.manual_seed(0)
    norm = SPADE(6, 4, norm="instance", hidden=5).eval()
    x, seg = torch.randn(2, 6, 8, 8), torch.rand(2, 4, 4, 4)
    actv = norm.shared(torch.nn.functional.interpolate(seg, size=(8, 8), mode="nearest"))
    expected = norm.norm(x) * (1 + norm.gamma(actv)) + norm.beta(actv)
    torch.testing.assert_close(norm(x, seg), expected, rtol=0, atol=1e-6)
