"""Metric provenance: the protocol block of `evaluate --json` and compare's report.json, and `evaluate verify`
recomputing their numbers (stand-in extractors as the other evaluation tests; the real Inception is not needed)."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from semsynth import __version__
from semsynth.cli.main import main
from semsynth.evaluation.metrics import inception as inception_module
from tests.evaluation.test_compare import compare_args
from tests.helpers.colour_stats import ColourStats

pytestmark = pytest.mark.xdist_group("tiny_runs")


@pytest.fixture(autouse=True)
def stand_in(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMSYNTH_CACHE", str(tmp_path / "semsynth-cache"))
    monkeypatch.setattr(inception_module, "load_inception", lambda path=None, device="cpu", sha256=None:
                        ColourStats())


def photos(folder, n, seed, bright=0):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(np.clip(rng.integers(0, 200, (16, 24, 3)) + bright, 0, 255).astype(np.uint8)).save(
            folder / f"{i:03d}.png")


def edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("metric", ["fid", "kid", "prdc"])
def test_verify_passes_on_a_fresh_evaluate_json_and_names_a_changed_number(tmp_path, metric, capsys):
    photos(tmp_path / "real", 12, 0)
    photos(tmp_path / "fake", 10, 1, bright=40)
    out = tmp_path / f"{metric}.json"
    assert main(["evaluate", metric, "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
                 "--json", str(out)]) == 0
    block = json.loads(out.read_text())["protocol"]
    assert block["inception"]["weights_sha256"] == "stand-in" and block["inception"]["feature_resolution"] == [299, 299]
    assert block["semsynth_version"] == __version__ and (block["n_real"], block["n_fake"]) == (12, 10)
    assert block["real"] == {"folder": str((tmp_path / "real").resolve())}
    assert len(next(iter(block["real_stats_keys_sha256"].values()))) == 64
    capsys.readouterr()
    assert main(["evaluate", "verify", str(out)]) == 0
    assert "DIFFERS" not in capsys.readouterr().out
    key = {"fid": "fid", "kid": "kid_mean", "prdc": "density"}[metric]
    edit(out, lambda d: d.update({key: d[key] * (1 + 1e-5) + 1e-5}))
    assert main(["evaluate", "verify", str(out)]) == 1
    captured = capsys.readouterr()
    assert "DIFFERS" in captured.out and key in captured.err


def test_verify_reruns_layout_json(tmp_path, capsys):
    for folder, seed in (("real", 0), ("fake", 1)):
        (tmp_path / folder).mkdir()
        g = torch.Generator().manual_seed(seed)
        for i in range(6):
            Image.fromarray(torch.randint(0, 19, (16, 24), generator=g).numpy().astype(np.uint8)).save(
                tmp_path / folder / f"{i}.png")
    out = tmp_path / "layout.json"
    assert main(["evaluate", "layout", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
                 "--classes", "cityscapes", "--json", str(out)]) == 0
    assert main(["evaluate", "verify", str(out)]) == 0
    edit(out, lambda d: d["fake_class_share"].__setitem__(3, d["fake_class_share"][3] + 0.01))
    assert main(["evaluate", "verify", str(out)]) == 1
    assert "fake_class_share[3]" in capsys.readouterr().err


def test_verify_recomputes_a_compare_report_from_its_sample_folders(tiny_runs, tmp_path, capsys):
    assert main(compare_args(tiny_runs, tmp_path / "out", n=4)) == 0
    report_path = tmp_path / "out" / "report.json"
    report = json.loads(report_path.read_text())
    block = report["protocol"]
    assert block["real"]["data"] == "synthetic-streets" and block["real"]["size"] == [32, 64]
    assert block["segmenter"]["sha256"] and 0 <= block["segmenter"]["miou_real"] <= 1
    assert set(block["real_stats_keys_sha256"]) == {"features", "layout-features"}
    assert len(block["inputs"]["samples"]) == len(report["rows"])
    assert all((tmp_path / "out" / e.get("images", e.get("labels"))).is_dir() for e in block["inputs"]["samples"])
    capsys.readouterr()
    assert main(["evaluate", "verify", str(report_path)]) == 0
    printed = capsys.readouterr().out
    for key in ("rows[0].js_divergence", "rows[1].miou", "rows[3].kid_std", "protocol.segmenter.miou_real"):
        assert key in printed
    edit(report_path, lambda d: d["rows"][2].update(fid=d["rows"][2]["fid"] + 1e-3))
    assert main(["evaluate", "verify", str(report_path)]) == 1
    err = capsys.readouterr().err
    assert "rows[2].fid" in err and "rows[1].fid" not in err


def test_verify_refuses_a_json_without_protocol_block(tmp_path, capsys):
    (tmp_path / "old.json").write_text(json.dumps({"fid": 1.0}))
    assert main(["evaluate", "verify", str(tmp_path / "old.json")]) == 2
    assert "old.json" in capsys.readouterr().err
