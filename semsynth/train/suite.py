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
    # 20 % (60 s of the 5-minute demo): twice that did not lower its KID (bench/photo_budget.py, seed 0: 0.312 at
    # 60 s, 0.320 at 120 s), so a larger share would only take time from the other runs
    ("sis-paired", "sis", {"mode": "paired"}, 0.20),
    # the settings of tests/train/test_usis_learning.py: with the published learning rates (1e-4 / 4e-4) a tiny
    # USIS needs far more than the minutes of a CPU demo before its photos follow the layout
    ("sis-unpaired", "sis", {"mode": "unpaired", "lr_g": 4e-3, "lr_s": 4e-3, "lr_d": 4e-3, "beta1": 0.5,
                             "beta2": 0.99, "z_dim": 8, "wavelet_channels": 16}, 0.25),
    ("image", "image", {}, 0.20),
    # the judge of the proxy mIoU: its real-photo mIoU is in the compare report (protocol.segmenter.miou_real)
    ("segmenter", "segmenter", {}, 0.10),
]
# Every run trains until its share of the time left is spent (`run_minutes`); before that, the runs stopped at
# their tiny/small preset's length: at 64x128 in 25 minutes the SIS runs after 115 s and 240 s of 300 s and 375 s,
# the segmenter after 25 s of 150 s (17.6 of 25 minutes trained).
# `semsynth demo` with these shares and the tiny presets, seeds 0 / 1 / 2 (32x64, n = 50, shared 2-core CPU, 5.0 min
# trained): KID paired 0.365 / 0.552 / 0.438, unpaired 0.374 / 0.488 / 0.407, single-stage 0.515 / 0.568 / 0.601;
# proxy mIoU unpaired / paired 0.82 / 1.19 / 0.59, from a judge whose real-photo mIoU is only 0.19 / 0.14 / 0.15.


def run_minutes(minutes_left: float, shares_left: list[float]) -> float:
    """Minutes for the next run (`shares_left[0]`): its share of the time still left among the runs still to
    train. A run that ends early (a resumed run already done, an explicit length) or late (start-up, export) thus
    passes its leftover or debt on to the runs after it, and the suite ends near its budget. At least 0.01 min,
    so that a late suite still trains and exports every run."""
    return max(0.01, minutes_left * shares_left[0] / sum(shares_left))


def train_suite(data: str, out, *, root=None, size=(32, 64), preset: str = "tiny", minutes: float = 5.0,
                seed: int = 0, device: str = "auto", use_vgg: bool = False,
                run_overrides: dict[str, dict] | None = None,
                shares: dict[str, float] | None = None) -> dict[str, Path]:
    """Train (or resume) every run of SUITE into `out/<name>`; returns name -> run directory. Each run trains until
    its time is spent (`run_minutes`; the preset's length is no ceiling, see config.until_time_limit).
    `run_overrides`: run name -> task overrides on top of the preset's and SUITE's (the bundled models' widths:
    pretrained/recipe.py). `shares`: run name -> share of the budget instead of SUITE's (the bundle's recipe)."""
    out = Path(out)
    share_of = {name: (shares or {}).get(name, share) for name, _, _, share in SUITE}
    runs = {}
    started = time.perf_counter()
    for i, (name, task, overrides, _) in enumerate(SUITE):
        if task == "sis":
            overrides = {**overrides, "use_vgg": use_vgg}
        overrides = {**overrides, **(run_overrides or {}).get(name, {})}
        run_dir = out / name
        budget = run_minutes(minutes - (time.perf_counter() - started) / 60, [share_of[s[0]] for s in SUITE[i:]])
        cfg = build_run_config(task, data, root=root, size=size, preset=preset, task_overrides=overrides,
                               train_overrides={"seed": seed, "time_limit_minutes": budget, "device": device},
                               out=str(run_dir))
        print(f"[train] {name} ({task}, {budget:.2f} min budget) -> {run_dir}")
        runs[name] = run_training(cfg, resume=(run_dir / "config.json").is_file())  # an earlier, cut-short demo
    print(f"[train] all runs done in {(time.perf_counter() - started) / 60:.1f} min")
    return runs
