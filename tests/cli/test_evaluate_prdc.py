"""`semsynth evaluate prdc` in-process with a tiny stand-in for Inception: the numbers equal the Python API on the
same features, and the real features come from the same cache entry `evaluate kid` writes."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from semsynth.cli.main import main
from semsynth.evaluation.metrics import inception as inc
from semsynth.evaluation.metrics.prdc import prdc
from tests.helpers.colour_stats import ColourStats


class CountingColourStats(ColourStats):
    """The colour-statistics stand-in, counting the images it sees (a real-set cache hit reads only the fake
    folder)."""
    seen = 0

    def forward(self, images):
        CountingColourStats.seen += len(images)
        return super().forward(images)


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(inc, "load_inception", lambda path=None, device="cpu", sha256=None: CountingColourStats())
    CountingColourStats.seen = 0
    return CountingColourStats


def _photos(folder, n, seed, bright=0):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        a = np.clip(rng.integers(0, 200, (16, 24, 3)) + bright, 0, 255).astype(np.uint8)
        Image.fromarray(a).save(folder / f"{i:03d}.png")
        out.append(torch.from_numpy(a).permute(2, 0, 1))
    return torch.stack(out)


def test_prdc_command_matches_the_python_api_and_shares_the_kid_cache(tmp_path, stand_in, private_cache, capsys):
    real = _photos(tmp_path / "real", 12, 0)
    fake = _photos(tmp_path / "fake", 10, 1, bright=2)
    folders = ["--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake")]
    assert main(["evaluate", "kid", *folders, "--kid-subsets", "2"]) == 0
    assert stand_in.seen == 22
    stand_in.seen = 0
    assert main(["evaluate", "prdc", *folders, "--k", "2", "--json", str(tmp_path / "p.json")]) == 0
    assert stand_in.seen == 10  # the real folder's features came from the entry `evaluate kid` wrote
    assert len(list(private_cache.glob("*.npz"))) == 1
    out = json.loads((tmp_path / "p.json").read_text())
    expected = prdc(stand_in()(real), stand_in()(fake), k=2)
    print(capsys.readouterr().out, out, expected)
    assert {k: out[k] for k in expected} == pytest.approx(expected, abs=1e-12)
    assert (out["k"], out["n_real"], out["n_fake"], out["inception_sha256"]) == (2, 12, 10, "stand-in")
    assert 0 < out["precision"] < 1 and 0 < out["coverage"] < 1  # a non-trivial case
    assert main(["evaluate", "prdc", *folders, "--json", str(tmp_path / "p3.json")]) == 0
    assert json.loads((tmp_path / "p3.json").read_text())["k"] == 3  # the default


def test_prdc_command_errors_are_one_line(tmp_path, stand_in, capsys):
    _photos(tmp_path / "real", 3, 0)
    _photos(tmp_path / "fake", 6, 1)
    args = ["evaluate", "prdc", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at least 4 real and 4 generated samples" in err
    assert main(args + ["--k", "0"]) == 2
    assert "k must be >= 1" in capsys.readouterr().err
