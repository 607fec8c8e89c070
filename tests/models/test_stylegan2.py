import dataclasses

import pytest
import torch
import torch.nn.functional as F

from semsynth.models import from_pretrained, save_pretrained
from semsynth.models.layers import (downsample2d, modulated_conv2d, conv2d_resample, setup_filter, upfirdn2d,
                                    upsample2d)
from semsynth.models.shapes import assert_shape
from semsynth.models.layers import MinibatchStd
from semsynth.models.stylegan2 import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig, base_size

# Size presets shared by G and D (fields a config does not have are ignored), used only by these tests. The
# published ones reproduce the parameter counts of stylegan2-ada-pytorch train.py --cfg (its `cfg_specs`; "stylegan2"
# is config F of Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN").
PRESETS: dict[str, dict] = {
    "tiny": dict(z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=32),   # CPU tests
    "small": dict(z_dim=256, w_dim=256, mapping_layers=4, channel_base=8192, channel_max=256),
    "auto256": dict(z_dim=512, w_dim=512, mapping_layers=2, channel_base=16384, channel_max=512),  # --cfg=auto, 1 GPU
    "paper256": dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=16384, channel_max=512),
    "paper512": dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=32768, channel_max=512),
    "stylegan2": dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=32768, channel_max=512),  # config F
}


def _from_preset(cfg_cls, preset: str, **fields):
    names = {f.name for f in dataclasses.fields(cfg_cls)}
    return cfg_cls(**{k: v for k, v in PRESETS[preset].items() if k in names}, **fields)


def generator_config(preset: str, resolution, out_channels: int, **overrides) -> GeneratorConfig:
    return dataclasses.replace(_from_preset(GeneratorConfig, preset, resolution=tuple(resolution),
                                            out_channels=out_channels), **overrides)


def discriminator_config(preset: str, resolution, in_channels: int, **overrides) -> DiscriminatorConfig:
    return dataclasses.replace(_from_preset(DiscriminatorConfig, preset, resolution=tuple(resolution),
                                            in_channels=in_channels), **overrides)


def tiny_g(resolution=(32, 64), out_channels=5, **kw) -> Generator:
    torch.manual_seed(0)
    return Generator(generator_config("tiny", resolution, out_channels, **kw))


# --------------------------------------------------------------------------------------------- layers
def test_modulated_conv_equals_plain_conv_with_per_sample_weights():
    torch.manual_seed(0)
    x, weight, styles = torch.randn(3, 4, 8, 16), torch.randn(6, 4, 3, 3), torch.randn(3, 4)
    for demod in (True, False):
        out = modulated_conv2d(x, weight, styles, demodulate=demod, padding=1)
        for n in range(3):
            w = weight * styles[n].reshape(1, 4, 1, 1)
            if demod:
                w = w / w.square().sum(dim=[1, 2, 3], keepdim=True).add(1e-8).sqrt()
            torch.testing.assert_close(out[n: n + 1], F.conv2d(x[n: n + 1], w, padding=1), rtol=1e-4, atol=1e-5)


def test_modulated_upsampling_conv_equals_per_sample_resampling_conv():
    torch.manual_seed(0)
    f = setup_filter()
    x, weight, styles = torch.randn(2, 4, 4, 8), torch.randn(6, 4, 3, 3), torch.randn(2, 4)
    out = modulated_conv2d(x, weight, styles, up=2, padding=1, resample_filter=f)
    assert out.shape == (2, 6, 8, 16)
    for n in range(2):
        w = weight * styles[n].reshape(1, 4, 1, 1)
        w = w / w.square().sum(dim=[1, 2, 3], keepdim=True).add(1e-8).sqrt()
        # reference: the ungrouped resampling conv of one sample (checks the grouped transposed-weight layout)
        ref = conv2d_resample(x[n: n + 1], w, f, up=2, padding=1)
        torch.testing.assert_close(out[n: n + 1], ref, rtol=1e-4, atol=1e-5)
    # and the transposed-conv path equals zero insertion + flipped-kernel conv + FIR (upfirdn2d's definition)
    w = torch.randn(6, 4, 3, 3)
    zero_inserted = upfirdn2d(x, torch.ones(1, 1), up=2, padding=(1, 1, 1, 1))      # [N, C, 2H + 2, 2W + 2]
    direct = upfirdn2d(F.conv2d(zero_inserted, w.flip([2, 3]), padding=1), f, padding=(1, 0, 1, 0), gain=4)
    torch.testing.assert_close(conv2d_resample(x, w, f, up=2, padding=1), direct, rtol=1e-4, atol=1e-5)


def test_demodulation_gives_unit_output_variance():
    torch.manual_seed(0)
    x = torch.randn(8, 128, 16, 16)
    out = modulated_conv2d(x, torch.randn(128, 128, 3, 3), torch.randn(8, 128).abs() + 0.5, padding=1)
    std = float(out[:, :, 1:-1, 1:-1].std())
    print(f"output std with demodulation: {std:.3f}")
    assert 0.9 < std < 1.1


def test_fir_shapes_and_up_then_down_keeps_a_constant():
    f = setup_filter()
    assert torch.isclose(f.sum(), torch.tensor(1.0))
    x = torch.full((2, 3, 8, 16), 0.7)
    up = upsample2d(x, f)
    assert up.shape == (2, 3, 16, 32)
    inner = up[..., 2:-2, 2:-2]  # borders see the zero padding
    torch.testing.assert_close(inner, torch.full_like(inner, 0.7))
    down = downsample2d(up, f)
    assert down.shape == (2, 3, 8, 16)
    torch.testing.assert_close(down[..., 2:-2, 2:-2], x[..., 2:-2, 2:-2])
    assert downsample2d(torch.randn(1, 2, 8, 8), f).shape == (1, 2, 4, 4)


def test_resampling_convs_shapes():
    f = setup_filter()
    x = torch.randn(2, 4, 8, 16)
    assert conv2d_resample(x, torch.randn(5, 4, 3, 3), f, down=2, padding=1).shape == (2, 5, 4, 8)
    assert conv2d_resample(x, torch.randn(5, 4, 1, 1), f, down=2).shape == (2, 5, 4, 8)
    assert conv2d_resample(x, torch.randn(5, 4, 3, 3), f, up=2, padding=1).shape == (2, 5, 16, 32)


def test_assert_shape_names_the_mismatch():
    assert_shape(torch.zeros(2, 3, 4), [None, 3, 4])
    with pytest.raises(ValueError, match="dim 1 is 3, expected 5"):
        assert_shape(torch.zeros(2, 3, 4), [None, 5, 4])


# --------------------------------------------------------------------------------------------- generator
@pytest.mark.parametrize("resolution", [(32, 64), (64, 128), (64, 64), (256, 512)])
def test_generator_and_discriminator_shapes(resolution):
    cmax = 4 if resolution[0] == 256 else 16  # 256x512: one tiny-channel forward
    G = tiny_g(resolution, out_channels=3, channel_max=cmax)
    D = Discriminator(discriminator_config("tiny", resolution, 3, channel_max=cmax))
    with torch.no_grad():
        img = G(torch.randn(2, 32))
        assert img.shape == (2, 3, *resolution)
        assert D(img).shape == (2, 1)


def test_non_square_uses_a_non_square_constant():
    assert base_size((32, 64)) == ((4, 8), 3)
    assert base_size((256, 512)) == ((4, 8), 6)
    assert base_size((64, 32)) == ((8, 4), 3)
    assert tiny_g((32, 64)).synthesis.blocks[0].const.shape[1:] == (4, 8)
    for bad in [(30, 60), (32, 52), (2, 4)]:
        with pytest.raises(ValueError, match="short side"):
            base_size(bad)


def test_truncation_psi_zero_gives_the_mean_image():
    G = tiny_g()
    with torch.no_grad():
        G.mapping.w_avg.normal_()
        G.eval()
        a = G(torch.randn(1, 32), truncation_psi=0.0, noise_mode="const")
        b = G(torch.randn(1, 32), truncation_psi=0.0, noise_mode="const")
        c = G(torch.randn(1, 32), truncation_psi=1.0, noise_mode="const")
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_w_avg_tracks_only_in_training_mode():
    G = tiny_g()
    G.eval()
    G(torch.randn(4, 32))
    assert G.mapping.w_avg.abs().sum() == 0
    G.train()
    G(torch.randn(4, 32))
    assert G.mapping.w_avg.abs().sum() > 0


def test_style_mixing_switches_w_at_the_cutoff():
    G = tiny_g()
    G.eval()
    z1, z2 = torch.randn(2, 32), torch.randn(2, 32)
    w1, w2 = G.mapping(z1)[:, 0], G.mapping(z2)[:, 0]
    seen = {}
    hooks = []
    for name, module in G.synthesis.named_modules():
        if hasattr(module, "w_index") and hasattr(module, "affine"):
            def record(m, inp, out, idx=module.w_index, name=name):
                seen[name] = (idx, inp[0])
            hooks.append(module.affine.register_forward_hook(record))
    cutoff = 3
    with torch.no_grad():
        G(z1, noise_mode="const", mix_z=z2, mix_cutoff=cutoff)
    for h in hooks:
        h.remove()
    assert len(seen) == 1 + 2 * 3 + 4  # 7 conv layers + 4 toRGB layers at 32x64
    assert sorted({idx for idx, _ in seen.values()}) == list(range(G.num_ws))
    for name, (idx, w) in seen.items():
        torch.testing.assert_close(w, w1 if idx < cutoff else w2, msg=f"{name} (w_index {idx})")
    with torch.no_grad():  # cutoff 0 = all from z2; cutoff num_ws = no mixing
        torch.testing.assert_close(G(z1, noise_mode="const", mix_z=z2, mix_cutoff=0), G(z2, noise_mode="const"))
        torch.testing.assert_close(G(z1, noise_mode="const", mix_z=z2, mix_cutoff=G.num_ws), G(z1, noise_mode="const"))


def test_save_and_load_give_identical_outputs(tmp_path):
    G = tiny_g()
    G.mapping.w_avg.normal_()
    G.eval()
    z = torch.randn(3, 32)
    save_pretrained(G, tmp_path / "g", extra={"task": "layout"})
    G2 = from_pretrained(tmp_path / "g")
    assert G2.cfg == G.cfg and G2.meta["task"] == "layout"
    with torch.no_grad():
        torch.testing.assert_close(G2(z, truncation_psi=0.7, noise_mode="const"),
                                   G(z, truncation_psi=0.7, noise_mode="const"), rtol=0, atol=0)
    D = Discriminator(discriminator_config("tiny", (32, 64), 5))
    save_pretrained(D, tmp_path / "d")
    x = torch.randn(4, 5, 32, 64)
    with torch.no_grad():
        torch.testing.assert_close(from_pretrained(tmp_path / "d")(x), D(x), rtol=0, atol=0)


def test_discriminator_on_class_and_rgb_inputs():
    for channels in (19, 3):
        D = Discriminator(discriminator_config("tiny", (32, 64), channels))
        assert D(torch.rand(8, channels, 32, 64)).shape == (8, 1)
        with pytest.raises(ValueError, match="discriminator input"):
            D(torch.rand(8, channels + 1, 32, 64))


def test_minibatch_std_needs_divisible_batch():
    mb = MinibatchStd(4)
    assert mb(torch.randn(8, 6, 4, 8)).shape == (8, 7, 4, 8)
    assert mb(torch.randn(2, 6, 4, 8)).shape == (2, 7, 4, 8)  # group = min(4, N)
    with pytest.raises(ValueError, match="not divisible"):
        mb(torch.randn(6, 6, 4, 8))


def test_minibatch_std_any_batch_uses_the_largest_dividing_group():
    """The wavelet discriminator's rule (rosinality's SWAGAN): a batch of 6 with group 4 uses groups of 3."""
    x = torch.randn(6, 5, 2, 3)
    y = MinibatchStd(4, any_batch=True)(x)[:, -1]                             # [6, 2, 3]
    groups = x.reshape(3, 2, 5, 2, 3)                                          # group of 3 samples, 2 groups
    expected = (groups.var(0, unbiased=False) + 1e-8).sqrt().mean(dim=[1, 2, 3])  # [2]: one value per group
    assert torch.allclose(y, expected.repeat(3)[:, None, None].expand(6, 2, 3), atol=1e-6)


# Exact counts of stylegan2-ada-pytorch training/networks.py at its train.py --cfg presets; built on the meta
# device (no memory).
@pytest.mark.parametrize("preset,resolution,channels,g_params,d_params", [
    ("auto256", (256, 256), 3, 23_191_522, 24_001_089),
    ("paper256", (256, 256), 3, 24_767_458, 24_001_089),
    ("stylegan2", (512, 512), 3, 30_276_583, 28_982_849),
    ("stylegan2", (1024, 1024), 3, 30_370_060, 29_012_513),
    ("auto256", (256, 256), 20, 23_234_073, 24_002_177),
    ("stylegan2", (256, 256), 20, 30_084_505, 28_866_305),
    ("auto256", (256, 512), 20, 23_242_265, 28_196_481),  # the 1:2 variant: a 4x8 constant and 4x8 epilogue
])
def test_published_parameter_counts(preset, resolution, channels, g_params, d_params):
    with torch.device("meta"):
        G = Generator(generator_config(preset, resolution, channels))
        D = Discriminator(discriminator_config(preset, resolution, channels))
    assert sum(p.numel() for p in G.parameters()) == g_params
    assert sum(p.numel() for p in D.parameters()) == d_params


def test_config_fields_are_json_primitives():
    cfg = generator_config("tiny", (32, 64), 5)
    for value in dataclasses.asdict(cfg).values():
        assert isinstance(value, (int, float, str, bool, tuple))


def test_truncation_cutoff_pulls_only_the_first_ws_toward_w_avg():
    G = tiny_g()
    with torch.no_grad():
        G.mapping.w_avg.normal_()
    z = torch.randn(2, G.z_dim)
    free, cut = G.mapping(z), G.mapping(z, truncation_psi=0.5, truncation_cutoff=3)
    torch.testing.assert_close(cut[:, 3:], free[:, 3:])
    torch.testing.assert_close(cut[:, :3], G.mapping.w_avg.lerp(free[:, :3], 0.5))
    torch.testing.assert_close(G.mapping(z, truncation_psi=0.5), G.mapping.w_avg.lerp(free, 0.5))


def test_conv_clamp_bounds_the_activated_output_as_stylegan2_ada():
    """The official bias_act clamps after the lrelu gain: conv_clamp 1 -> |output| <= 1 (not sqrt(2))."""
    from semsynth.models.layers import Conv2dLayer, SynthesisLayer
    torch.manual_seed(0)
    x = torch.randn(2, 4, 8, 8) * 100
    conv = Conv2dLayer(4, 4, 3, activation="lrelu", conv_clamp=1.0)
    synth = SynthesisLayer(4, 4, 8, (8, 8), conv_clamp=1.0)
    for out in (conv(x), synth(x, torch.randn(2, 8), noise_mode="none")):
        assert float(out.detach().abs().max()) == pytest.approx(1.0)
