"""A bundle exported from the one-step tiny runs (tests/conftest.py) and recorded in a temporary registry."""
import pytest

from semsynth.pretrained import bundle, export, registry

NAME = "tiny-test-bundle"


@pytest.fixture
def tmp_bundle(tiny_runs, tmp_path, monkeypatch):
    """Bundle NAME exported from the tiny runs and recorded in a temporary registry -> its manifest."""
    root = tmp_path / "bundles"
    manifest = export.export_bundle({m: tiny_runs[m] for m in bundle.MEMBERS}, root / NAME, NAME)
    monkeypatch.setattr(bundle, "ROOT", root)
    monkeypatch.setattr(registry, "BUNDLED", {NAME: {rel: e["sha256"] for rel, e in manifest["files"].items()}})
    return manifest
