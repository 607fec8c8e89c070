import pytest
import torch

from semsynth.models import from_pretrained, save_pretrained
from semsynth.models.dcgan import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig


@pytest.mark.parametrize("resolution", [(64, 64), (64, 128), (32, 64)])
def test_shapes(resolution):
    G = Generator(GeneratorConfig(resolution=resolution, out_channels=5, ngf=4, use_tanh=False))
    D = Discriminator(DiscriminatorConfig(resolution=resolution, in_channels=5, ndf=4))
    x = G(torch.randn(3, 100))
    assert x.shape == (3, 5, *resolution)
    assert D(x).shape == (3, 1)


def test_first_map_is_4x8_for_1_to_2():
    G = Generator(GeneratorConfig(resolution=(64, 128), ngf=4))
    assert G.main[0].kernel_size == (4, 8)
    with pytest.raises(ValueError, match="short side"):
        Generator(GeneratorConfig(resolution=(48, 96)))


def test_published_parameter_counts():  # pytorch/examples dcgan/main.py: nz 100, ngf = ndf = 64
    for nc, g_params, d_params in [(3, 3_576_704, 2_765_568), (20, 3_594_112, 2_782_976)]:
        G = Generator(GeneratorConfig(out_channels=nc))
        D = Discriminator(DiscriminatorConfig(in_channels=nc))
        assert sum(p.numel() for p in G.parameters()) == g_params
        assert sum(p.numel() for p in D.parameters()) == d_params


def test_tanh_range_and_truncation_scales_z():
    G = Generator(GeneratorConfig(resolution=(32, 64), ngf=4)).eval()
    with torch.no_grad():
        x = G(torch.randn(4, 100) * 10)
        assert x.abs().max() <= 1
        z = torch.randn(2, 100)
        torch.testing.assert_close(G(z, truncation_psi=0.5), G(z * 0.5))
        a, b = G(torch.randn(1, 100), truncation_psi=0.0), G(torch.randn(1, 100), truncation_psi=0.0)
        torch.testing.assert_close(a, b)


def test_save_and_load_give_identical_outputs(tmp_path):
    G = Generator(GeneratorConfig(resolution=(32, 64), ngf=4))
    G(torch.randn(8, 100))  # move the BN running statistics away from their init
    G.eval()
    save_pretrained(G, tmp_path)
    z = torch.randn(3, 100)
    with torch.no_grad():
        torch.testing.assert_close(from_pretrained(tmp_path)(z), G(z), rtol=0, atol=0)
