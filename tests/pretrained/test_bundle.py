"""Bundled pretrained models: export (fp16 + manifest), lookup by name with SHA-256 checks, Pipeline/generate by
name. The bundle here is exported from the one-step tiny runs into a temporary folder with a temporary registry:
the real package data is tested at the end, and only when it is installed."""
import json

import pytest
import torch

from semsynth.cli.main import main
from semsynth.inference.pipeline import Pipeline
from semsynth.models.io import from_pretrained
from semsynth.pretrained import bundle, export, registry
from tests.pretrained.conftest import NAME

pytestmark = pytest.mark.xdist_group("tiny_runs")
def test_export_writes_fp16_inference_weights_and_a_manifest(tmp_bundle, tiny_runs):
    folder = bundle.ROOT / NAME
    assert sorted(tmp_bundle["files"]) == sorted(f"{m}/{f}" for m in bundle.MEMBERS
                                                 for f in ("config.json", "model.safetensors"))
    for rel, entry in tmp_bundle["files"].items():
        path = folder / rel
        assert entry["bytes"] == path.stat().st_size and len(entry["sha256"]) == 64
    assert tmp_bundle["total_bytes"] == sum(e["bytes"] for e in tmp_bundle["files"].values())
    assert json.loads((folder / export.MANIFEST).read_text()) == tmp_bundle
    from safetensors.torch import load_file
    tensors = load_file(str(folder / "layout" / "model.safetensors"))
    assert {t.dtype for t in tensors.values() if t.is_floating_point()} == {torch.float16}
    assert json.loads((folder / "layout" / "config.json").read_text())["weights_dtype"] == "float16"


def test_bundled_model_loads_in_fp32_and_matches_the_run(tmp_bundle, tiny_runs):
    original = from_pretrained(tiny_runs["layout"] / "model")
    bundled = from_pretrained(bundle.resolve_model(f"{NAME}:layout", "layout"))
    assert {p.dtype for p in bundled.parameters()} == {torch.float32}
    for (name, a), b in zip(original.state_dict().items(), bundled.state_dict().values()):
        if a.is_floating_point():
            torch.testing.assert_close(b, a.half().float(), msg=name)  # exactly fp16 rounding, nothing else


def test_pipeline_from_pretrained_takes_a_bundled_name(tmp_bundle):
    paired = Pipeline.from_pretrained(NAME)
    unpaired = Pipeline.from_pretrained(NAME, sis="unpaired")
    assert paired.sis_generator.meta["mode"] == "paired" and unpaired.sis_generator.meta["mode"] == "unpaired"
    out = paired.generate(2, seed=0)
    assert out.photos.shape == (2, 1, 3, *paired.size) and out.photos.dtype == torch.uint8
    mixed = Pipeline.from_pretrained(f"{NAME}:layout", f"{NAME}:unpaired")
    assert mixed.sis_generator.meta["mode"] == "unpaired"


def test_generate_cli_takes_bundled_names(tmp_bundle, tmp_path):
    assert main(["generate", "--layout", NAME, "--n", "2", "--batch", "2", "--out", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "00001_photo0.png").is_file()
    assert main(["generate", "--layout", NAME, "--sis", f"{NAME}:unpaired", "--n", "1",
                 "--out", str(tmp_path / "b")]) == 0


def test_a_name_that_is_not_bundled_lists_the_bundled_ones(tmp_bundle, tmp_path, capsys):
    assert main(["generate", "--layout", "no-such-bundle", "--sis", NAME, "--n", "1",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-bundle" in err and f"bundled: {NAME}" in err
    with pytest.raises(ValueError, match="has no 'sis-vae'"):
        bundle.resolve_model(f"{NAME}:sis-vae", "layout")


def test_a_changed_file_is_refused_naming_it(tmp_bundle, tmp_path, capsys):
    weights = bundle.ROOT / NAME / "sis-paired" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256 .* differs"):
        Pipeline.from_pretrained(NAME)
    assert main(["generate", "--layout", NAME, "--n", "1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(weights) in err
    Pipeline.from_pretrained(NAME, sis="unpaired")  # the other members are still fine


def test_an_unrecorded_file_in_a_bundle_is_refused(tmp_bundle):
    (bundle.ROOT / NAME / "layout" / "extra.safetensors").write_bytes(b"x")
    with pytest.raises(ValueError, match="extra.safetensors: not recorded"):
        bundle.resolve_model(NAME, "layout")


def test_missing_package_data_says_so(tmp_bundle, monkeypatch, tmp_path):
    monkeypatch.setattr(bundle, "ROOT", tmp_path / "elsewhere")
    with pytest.raises(FileNotFoundError, match="not installed"):
        bundle.resolve_model(NAME, "layout")


def test_the_registry_entry_is_the_manifest_as_python(tmp_bundle):
    namespace = {}
    exec("BUNDLED = {\n" + export.registry_entry(tmp_bundle) + "\n}", namespace)
    assert namespace["BUNDLED"] == registry.BUNDLED


def test_fp16_overflow_is_refused_at_export(tmp_path):
    with pytest.raises(ValueError, match="'w' holds values beyond fp16"):
        export.half_tensors({"w": torch.tensor([1e6]), "n": torch.tensor([3])}, tmp_path)
    assert export.half_tensors({"n": torch.tensor([3])}, tmp_path)["n"].dtype == torch.int64


def test_the_installed_bundle_passes_its_checks_and_fits_the_budget():
    if bundle.DEFAULT_BUNDLE not in registry.BUNDLED or not (bundle.ROOT / bundle.DEFAULT_BUNDLE).is_dir():
        pytest.skip(f"bundled package data absent: semsynth/pretrained/{bundle.DEFAULT_BUNDLE} is added after its "
                    "training run (semsynth demo --train --preset bundle --export-pretrained DIR)")
    members = bundle.bundle_members(bundle.DEFAULT_BUNDLE)
    assert sorted(members) == sorted(bundle.MEMBERS)
    files = [p for p in (bundle.ROOT / bundle.DEFAULT_BUNDLE).rglob("*") if p.is_file() and p.suffix != ".pyc"]
    assert sum(p.stat().st_size for p in files) <= export.LIMIT_BYTES
    pipe = Pipeline.from_pretrained(bundle.DEFAULT_BUNDLE)
    assert pipe.size == (64, 128)


def test_pyproject_package_data_ships_every_file_of_an_export(tmp_bundle):
    """Each exported file matches a package-data glob of pyproject.toml part by part (so a wheel carries it)."""
    import fnmatch
    import tomllib
    from pathlib import Path
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["semsynth.pretrained"]
    folder = bundle.ROOT / NAME
    files = [p.relative_to(bundle.ROOT).parts for p in folder.rglob("*") if p.is_file()]
    assert len(files) == 2 * len(bundle.MEMBERS) + 1  # config + weights per model, and the manifest
    for parts in files:
        assert any(len(g.split("/")) == len(parts) and all(map(fnmatch.fnmatch, parts, g.split("/")))
                   for g in globs), parts


def test_generate_needs_sis_unless_layout_is_a_bundled_name(tiny_runs, tmp_path, capsys):
    assert main(["generate", "--layout", str(tiny_runs["layout"]), "--n", "1", "--out", str(tmp_path / "o")]) == 2
    assert "give --sis" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_app_opens_a_bundles_layout_gan_and_both_sis_models(tmp_bundle):
    from semsynth.app.models import bundled_models, load_app_models
    layout, sis = bundled_models(NAME)
    assert layout == f"{NAME}:layout" and sis == [f"{NAME}:sis-paired", f"{NAME}:sis-unpaired"]
    models = load_app_models(layout, sis)
    assert models.layout is not None and [m.pipe.sis_generator.meta.get("mode") for m in models.sis] == \
        ["paired", "unpaired"]
    assert bundled_models("not-a-bundle") is None
