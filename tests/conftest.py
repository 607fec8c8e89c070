"""Session fixtures shared by the end-to-end tests (pipeline, generate, compare)."""
from __future__ import annotations

import pytest

from semsynth.train.config import build_run_config
from semsynth.train.engine import run_training

TINY_SIZE = (32, 64)
TINY_RUNS = {  # name -> (task, task overrides)
    "layout": ("layout", {"arch": "stylegan2", "output": "labels"}),
    "sis-paired": ("sis", {"mode": "paired", "use_vgg": False}),
    "sis-vae": ("sis", {"mode": "paired", "use_vgg": False, "use_vae": True}),
    "sis-unpaired": ("sis", {"mode": "unpaired"}),
    "image": ("image", {}),
    "segmenter": ("segmenter", {}),
}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Real statistics go to each test's own cache, never to ~/.cache (and no test reads another's entries)."""
    monkeypatch.setenv("SEMSYNTH_CACHE", str(tmp_path / "semsynth-cache"))
    return tmp_path / "semsynth-cache" / "real-stats"


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> dict:
    """One-step runs of every task on synthetic-streets at 32x64: real run folders with exported models.
    (Untrained: these check plumbing; learning is tested in tests/train/*_learning.py.)"""
    root = tmp_path_factory.mktemp("tiny_runs")
    runs = {}
    for name, (task, overrides) in TINY_RUNS.items():
        cfg = build_run_config(task, "synthetic-streets", size=TINY_SIZE, preset="tiny", task_overrides=overrides,
                               train_overrides={"total_steps": 1, "batch": 2, "num_workers": 0},
                               out=str(root / name))
        runs[name] = run_training(cfg)
    return runs
