import warnings

import pytest
import torch

from semsynth.inference import compiled
from semsynth.inference.compiled import Accelerated, compile_seconds, prepare, should_compile
from semsynth.models import stylegan2
from semsynth.train.tasks import image
from tests.helpers.tiny_sets import TinyLabelSet


def tiny_image_generator() -> torch.nn.Module:
    torch.manual_seed(0)
    task = image.build(image.Config(**image.PRESETS["tiny"]["task"]), TinyLabelSet(mode="images"))
    return task.nets["G"].eval()


class Recorder(torch.nn.Module):
    """Stands in for the compiled graph: remembers the batch sizes it was called with."""

    def __init__(self, fail: bool = False):
        super().__init__()
        self.batches, self.fail = [], fail

    def forward(self, x, scale=None):
        if self.fail:
            raise RuntimeError("inductor: no C++ compiler found\nlong traceback")
        self.batches.append(len(x))
        return x * 2


def test_decision_off_on_and_auto_by_the_measured_break_even(monkeypatch):
    monkeypatch.setattr(compiled, "BREAK_EVEN", {"stylegan2-generator": 500})
    assert not should_compile("off", "stylegan2-generator", 10**6)
    assert should_compile("on", "unknown-arch", 1)
    assert not should_compile("auto", "stylegan2-generator", 499)
    assert should_compile("auto", "stylegan2-generator", 500)
    assert not should_compile("auto", "spade-generator", 10**6)  # not measured: never by default
    assert not should_compile("auto", None, 10**6)
    with pytest.raises(ValueError, match="--compile must be one of auto, on, off"):
        should_compile("yes", "stylegan2-generator", 1)


def test_auto_never_compiles_the_small_runs_of_the_test_suite():
    # the suite's runs make at most a few dozen samples: compiling would cost tens of seconds each
    assert all(threshold > 100 for threshold in compiled.BREAK_EVEN.values())


def test_prepare_returns_the_network_itself_when_nothing_is_asked():
    net = torch.nn.Linear(2, 2)
    assert prepare(net, "G", compile=False, precision="fp32") is net
    wrapped = prepare(net, "G", compile=False, precision="bf16")
    assert isinstance(wrapped, Accelerated) and wrapped.out_features == 2  # attributes of the wrapped network
    assert compile_seconds({"G": wrapped, "D": net}) == {}
    with pytest.raises(ValueError, match="--precision must be one of fp32, bf16"):
        prepare(net, "G", compile=False, precision="fp16")


def test_smaller_batches_are_padded_to_the_compiled_shape():
    acc = Accelerated(torch.nn.Identity(), "G", compile=False, log=lambda line: None)
    acc.compiled = Recorder()  # what torch.compile would return; compiles on its first call
    x = torch.arange(12.0).reshape(4, 3)
    assert torch.equal(acc(x), 2 * x)
    out = acc(x[:3], scale=x[:3])  # the last, smaller batch of a run
    assert acc.compiled.batches == [4, 4] and torch.equal(out, 2 * x[:3])
    assert acc.compile_seconds is not None and compile_seconds({"G": acc}).keys() == {"G"}


def test_a_compile_failure_falls_back_to_eager_with_one_warning():
    acc = Accelerated(torch.nn.Identity(), "G", compile=False)
    acc.compiled = Recorder(fail=True)
    x = torch.ones(2, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert torch.equal(acc(x), x) and torch.equal(acc(x), x)  # eager from then on
    assert len(caught) == 1
    assert str(caught[0].message) == ("torch.compile of G failed, running it eagerly: RuntimeError: inductor: no C++ "
                                      "compiler found")
    assert acc.compiled is None and compile_seconds({"G": acc}) == {}


def test_a_torch_without_compile_support_runs_eager_with_one_warning(monkeypatch):
    def unsupported(*args, **kwargs):
        raise RuntimeError("Dynamo is not supported on Python 3.14+")
    monkeypatch.setattr(compiled.torch, "compile", unsupported)
    with pytest.warns(UserWarning, match="torch.compile of G failed, running it eagerly: RuntimeError: Dynamo"):
        acc = prepare(torch.nn.Identity(), "G", compile=True)
    assert acc.compiled is None and torch.equal(acc(torch.ones(2)), torch.ones(2))


@pytest.mark.skipif(not hasattr(torch, "is_autocast_enabled"), reason="torch without CPU autocast")
def test_bf16_runs_under_autocast_and_returns_float32():
    G = tiny_image_generator()
    z = torch.randn(3, G.z_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = G(z, noise_mode="const")
        out = prepare(G, "G", compile=False, precision="bf16")(z, noise_mode="const")
    assert out.dtype == torch.float32 and out.shape == ref.shape
    err = (out - ref).abs().max().item()
    assert 0 < err < 0.1 * ref.abs().max().item()  # bf16 rounding: close, not equal

    seen = []

    class Probe(torch.nn.Linear):
        def forward(self, x):
            seen.append(torch.is_autocast_enabled("cpu"))
            return super().forward(x)
    assert prepare(Probe(2, 2), "P", compile=False, precision="bf16")(torch.ones(1, 2)).dtype == torch.float32
    assert seen == [True]


@pytest.mark.slow
def test_compiled_generator_matches_eager_and_reports_its_compile_time():
    """The one real torch.compile (inductor) of the tests: the smallest StyleGAN2 G (8x16, 8 channels), since
    inductor's C++ build takes minutes per network on a busy 2-core CPU."""
    torch.manual_seed(0)
    G = stylegan2.Generator(stylegan2.GeneratorConfig(z_dim=8, w_dim=8, mapping_layers=1, resolution=(8, 16),
                                                      channel_base=64, channel_max=8)).eval()
    lines = []
    acc = Accelerated(G, "G", compile=True, log=lines.append)
    z = torch.randn(5, G.z_dim, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = G(z, truncation_psi=0.7, noise_mode="const")
        first = acc(z[:4], truncation_psi=0.7, noise_mode="const")
        last = acc(z[4:], truncation_psi=0.7, noise_mode="const")  # padded to batch 4: no second compile
    assert acc.compiled is not None, "torch.compile fell back to eager"
    assert torch.allclose(torch.cat([first, last]), ref, atol=1e-4, rtol=0)
    assert len(lines) == 1 and lines[0].startswith("[compile] G: ") and lines[0].endswith(" s")
    assert acc.compile_seconds > 0


def test_prepare_gives_a_stylegan2_generator_channels_last_weights_and_the_same_images():
    G = tiny_image_generator()
    z = torch.randn(3, G.cfg.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = G(z, noise_mode="const")
        assert prepare(G, "G", compile=False, precision="fp32") is G
        convs = [p for p in G.parameters() if p.dim() == 4]
        assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
        torch.testing.assert_close(G(z, noise_mode="const"), expected, rtol=0, atol=1e-5)


def test_prepare_leaves_other_architectures_in_their_layout():
    net = torch.nn.Conv2d(3, 4, 3)
    prepare(net, "net", compile=False, precision="fp32")
    assert net.weight.is_contiguous() and not compiled.channels_last_pays(net)
