"""`semsynth demo`: bundled mode (no training, compare on the bundled model folders), the fallback to training
when nothing is bundled, and `--train --preset bundle --export-pretrained` (the command that makes the bundle)."""
import json

import pytest

from semsynth.cli.main import main
from semsynth.pretrained import bundle, export, recipe, registry
from semsynth.train import suite
from tests.helpers.reports import hand_made_report
from tests.pretrained.conftest import NAME

pytestmark = pytest.mark.xdist_group("tiny_runs")


def no_training(monkeypatch):
    monkeypatch.setattr(suite, "train_suite", lambda *a, **k: pytest.fail("the bundled demo trained"))


def test_demo_compares_the_bundled_models_without_training(tmp_bundle, tmp_path, monkeypatch, capsys):
    no_training(monkeypatch)
    assert main(["demo", "--bundle", NAME, "--n", "8", "--no-fid", "--out", str(tmp_path / "demo")]) == 0
    report = json.loads((tmp_path / "demo" / "report" / "report.json").read_text())
    assert [r["name"] for r in report["rows"]] == [
        "generated layouts", "two-stage photos (paired SIS)", "two-stage photos (unpaired SIS)",
        "single-stage photos (StyleGAN2)"]
    assert report["n"] == 8 and report["resolution"] == [32, 64]
    assert report["segmenter"]["path"] == str(bundle.ROOT / NAME / "segmenter")
    assert (tmp_path / "demo" / "report" / "generated_layouts.png").is_file()
    assert "[demo] bundled models" in capsys.readouterr().out


def test_demo_without_a_bundle_trains_instead_and_says_so(tmp_path, monkeypatch, capsys):
    import semsynth.cli.demo as cli_demo
    monkeypatch.setattr(registry, "BUNDLED", {})
    calls = []
    monkeypatch.setattr(cli_demo, "run_demo", lambda *a, **k: calls.append(k) or hand_made_report())
    assert main(["demo", "--no-fid", "--out", str(tmp_path / "demo")]) == 0
    assert "training every model from scratch instead" in capsys.readouterr().err
    assert calls[0]["n"] == 50 and calls[0]["preset"] == "tiny" and calls[0]["minutes"] == 5.0


def test_a_training_option_implies_train(tmp_bundle, tmp_path, monkeypatch, capsys):
    """`semsynth demo --minutes M` (the public interface before models were bundled) still trains."""
    import semsynth.cli.demo as cli_demo
    calls = []
    monkeypatch.setattr(cli_demo, "run_demo", lambda *a, **k: calls.append(k) or hand_made_report())
    monkeypatch.setattr(cli_demo, "run_bundled_demo", lambda *a, **k: pytest.fail("bundled mode"))
    assert main(["demo", "--bundle", NAME, "--minutes", "1", "--no-fid", "--out", str(tmp_path / "demo")]) == 0
    assert calls[0]["minutes"] == 1.0 and "from scratch instead" not in capsys.readouterr().err


def test_demo_train_exports_a_bundle_with_the_recipe_widths(tiny_runs, tmp_path, monkeypatch, capsys):
    import semsynth.demo as demo
    trained = []
    monkeypatch.setattr(suite, "train_suite", lambda *a, **k: trained.append(k) or
                        {m: tiny_runs[m] for m in bundle.MEMBERS})
    monkeypatch.setattr(demo, "run_compare", lambda *a, **k: hand_made_report())
    folder = tmp_path / "export"
    assert main(["demo", "--train", "--preset", "bundle", "--no-fid", "--bundle", "x-bundle",
                 "--export-pretrained", str(folder), "--out", str(tmp_path / "demo")]) == 0
    assert trained[0]["preset"] == recipe.BASE_PRESET and trained[0]["run_overrides"] == recipe.BUNDLE_OVERRIDES
    assert trained[0]["shares"] == recipe.BUNDLE_SHARES
    manifest = json.loads((folder / export.MANIFEST).read_text())
    assert manifest["name"] == "x-bundle" and len(manifest["files"]) == 2 * len(bundle.MEMBERS)
    assert export.registry_entry(manifest) in capsys.readouterr().out


def test_the_recipe_fits_the_package_data_budget_in_fp16():
    """The five exported nets of `--preset bundle` at 64x128, built on the meta device: weights + buffers in fp16
    stay under export.LIMIT_BYTES (a preset change that breaks the budget fails here, not at shipping time)."""
    from semsynth.models.io import unwrap
    from semsynth.train.config import build_run_config
    from semsynth.train.dry_run import dry_run_dataset
    from semsynth.train.engine import build_task
    values = {}
    for name, task, overrides, _ in suite.SUITE:
        overrides = {**overrides, **recipe.BUNDLE_OVERRIDES.get(name, {}), **({"use_vgg": False} if task == "sis" else {})}
        run = build_run_config(task, size=(64, 128), preset=recipe.BASE_PRESET, task_overrides=overrides)
        *_, task_obj = build_task(run, dry_run_dataset(run), files=False, on_meta=True)
        net = task_obj.nets[task_obj.ema_source or "S"]
        values[name] = sum(t.numel() for t in unwrap(net).state_dict().values())
    assert 2 * sum(values.values()) <= export.LIMIT_BYTES - 100_000, values  # 100 kB left for the JSON files
