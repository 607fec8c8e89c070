"""Pipeline.accelerate and `generate --compile/--precision` on the tiny runs (torch.compile with its "eager"
backend: the tracing of a real compile without inductor's minutes-long C++ build)."""
import functools

import pytest
import torch

from semsynth import Pipeline
from semsynth.cli.main import main
from semsynth.inference import compiled
from semsynth.inference.compiled import Accelerated

pytestmark = pytest.mark.xdist_group("tiny_runs")


def test_accelerate_wraps_only_what_is_asked(tiny_runs):
    pipe = Pipeline.from_pretrained(tiny_runs["layout"], tiny_runs["sis-paired"])
    ref = pipe.generate(3, seed=1, batch_size=2)
    nets = pipe.accelerate("auto", "fp32", n=3)  # 3 samples never repay a compile
    assert not any(isinstance(net, Accelerated) for net in nets.values())
    nets = pipe.accelerate("off", "bf16", n=3)
    assert set(nets) == {"layout G", "SIS G"} and all(isinstance(net, Accelerated) for net in nets.values())
    out = pipe.generate(3, seed=1, batch_size=2)
    assert out.photos.shape == ref.photos.shape and out.photos.dtype == torch.uint8
    assert (out.photos.float() - ref.photos.float()).abs().mean() < 8  # bf16 rounding (and the odd flipped label)


def test_generate_reports_compile_time_apart(tiny_runs, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(compiled.torch, "compile", functools.partial(torch.compile, backend="eager"))
    assert main(["generate", "--layout", str(tiny_runs["layout"]), "--sis", str(tiny_runs["sis-paired"]),
                 "--n", "3", "--batch", "2", "--out", str(tmp_path), "--device", "cpu", "--compile", "on"]) == 0
    out = capsys.readouterr().out
    assert "[compile] layout G: " in out and "[compile] SIS G: " in out
    assert "s compiling apart)" in out
