import pytest
import torch

from semsynth.models import from_pretrained, save_pretrained
from semsynth.models.unet import UNet, UNetConfig, auto_depth


def count(m):
    return sum(p.numel() for p in m.parameters())


def tiny(out=5, depth=4):
    return UNetConfig(out_channels=out, base_channels=8, max_channels=16, depth=depth)


def test_published_oasis_discriminator_parameter_count():
    # O:models/discriminator.py: OASIS U-Net D / USIS segmenter, Cityscapes semantic_nc 35 -> 36 outputs
    net = UNet(UNetConfig(out_channels=36))
    assert count(net) == 22_251_364
    assert [count(b) for b in net.down] == [151_680, 295_168, 918_272, 1_180_160, 3_671_552, 4_719_616]
    assert [count(b) for b in net.up] == [4_719_616, 3_212_032, 1_901_312, 803_200, 475_520, 200_896]
    assert count(net.out) == 2_340


def test_parameter_count_follows_class_formula():
    # 22,251,364 + (n - 35) * 65 for n label channels (n + 1 outputs); semsynth's 19 train ids -> n = 19
    assert count(UNet(UNetConfig(out_channels=20))) == 22_251_364 + (19 - 35) * 65


@pytest.mark.parametrize("size", [(32, 64), (64, 128), (64, 64)])
def test_shapes(size):
    net = UNet(tiny())
    out = net(torch.randn(2, 3, *size))
    assert out.shape == (2, 5, *size)


def test_rejects_indivisible_size_and_wrong_channels():
    net = UNet(tiny(depth=4))
    with pytest.raises(ValueError, match="divisible by 16"):
        net(torch.randn(1, 3, 24, 64))
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\]"):
        net(torch.randn(1, 4, 32, 64))


def test_auto_depth():
    assert auto_depth((256, 512)) == 6
    assert auto_depth((32, 64)) == 4
    assert auto_depth((48, 96)) == 4
    with pytest.raises(ValueError, match="divisible by 4"):
        auto_depth((6, 10))


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    net = UNet(tiny()).eval()
    x = torch.randn(2, 3, 32, 64)
    save_pretrained(net, tmp_path / "m", extra={"task": "segmenter"})
    loaded = from_pretrained(tmp_path / "m")
    assert torch.equal(net(x), loaded(x))
    assert loaded.meta["task"] == "segmenter"


def test_init_gain_sets_xavier_scale_and_zero_bias():
    torch.manual_seed(0)
    net = UNet(UNetConfig(out_channels=5, base_channels=16, max_channels=32, depth=3, init_gain=0.02))
    w = net.out.weight  # [5, 8, 1, 1], not spectral-normed: xavier std = gain * sqrt(2 / (fan_in + fan_out))
    assert torch.all(net.out.bias == 0)
    raw = net.down[1].conv1.parametrizations.weight.original  # [16, 16, 3, 3]
    expected = 0.02 * (2 / (16 * 9 + 16 * 9)) ** 0.5
    assert raw.std().item() == pytest.approx(expected, rel=0.15)
    assert w.abs().max() < 0.1
