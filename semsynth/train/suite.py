"""Train everything a comparison needs (layout GAN, paired and unpaired stage 2, the single-stage baseline and
the proxy segmenter) on one data set, each for its share of a time budget. Used by `demo` and `compare --train`."""
from __future__ import annotations

import time
from pathlib import Path

from semsynth.train.config import build_run_config
from semsynth.train.engine import run_training

# (run name, task, task overrides, share of the time budget)
SUITE = [
    ("layout", "layout", {"arch": "stylegan2", "output": "labels"}, 0.25),
    ("sis-paired", "sis", {"mode": "paired"}, 0.20),
    # the settings of tests/train/test_usis_learning.py: with the published learning rates (1e-4 / 4e-4) a tiny
    # USIS needs far more than the minutes of a CPU demo before its photos follow the layout
    ("sis-unpaired", "sis", {"mode": "unpaired", "lr_g": 4e-3, "lr_s": 4e-3, "lr_d": 4e-3, "beta1": 0.5,
                             "beta2": 0.99, "z_dim": 8, "wavelet_channels": 16}, 0.25),
    ("image", "image", {}, 0.20),
    ("segmenter", "segmenter", {}, 0.10),  # the tiny preset's 2 kimg take about 40 s on 2 CPU cores
]


def train_suite(data: str, out, *, root=None, size=(32, 64), preset: str = "tiny", minutes: float = 5.0,
                seed: int = 0, device: str = "auto", use_vgg: bool = False,
                run_overrides: dict[str, dict] | None = None) -> dict[str, Path]:
    """Train (or resume) every run of SUITE into `out/<name>`; returns name -> run directory. `run_overrides`: run
    name -> task overrides on top of the preset's and SUITE's (the bundled models' widths: pretrained/recipe.py)."""
    out = Path(out)
    runs = {}
    started = time.perf_counter()
    for name, task, overrides, share in SUITE:
        if task == "sis":
            overrides = {**overrides, "use_vgg": use_vgg}
        overrides = {**overrides, **(run_overrides or {}).get(name, {})}
        run_dir = out / name
        cfg = build_run_config(task, data, root=root, size=size, preset=preset, task_overrides=overrides,
                               train_overrides={"seed": seed, "time_limit_minutes": minutes * share,
                                                "device": device}, out=str(run_dir))
        print(f"[train] {name} ({task}, {minutes * share:.1f} min budget) -> {run_dir}")
        runs[name] = run_training(cfg, resume=(run_dir / "config.json").is_file())  # an earlier, cut-short demo
    print(f"[train] all runs done in {(time.perf_counter() - started) / 60:.1f} min")
    return runs
