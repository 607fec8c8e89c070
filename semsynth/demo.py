"""The demo: train every model on synthetic-streets for a time budget, then run the comparison."""
from __future__ import annotations

import time
from pathlib import Path

import torch

# (run name, task, task overrides, share of the training budget)
DEMO_RUNS = [
    ("layout", "layout", {"arch": "stylegan2", "output": "labels"}, 0.25),
    ("sis-paired", "sis", {"mode": "paired", "use_vgg": False}, 0.20),
    ("sis-unpaired", "sis", {"mode": "unpaired"}, 0.25),
    ("image", "image", {}, 0.20),
    ("segmenter", "segmenter", {}, 0.10),  # the tiny preset's 2 kimg take about 40 s on 2 CPU cores
]


def run_demo(out="demo-out", minutes: float = 5.0, size=None, n: int = 50, seed: int = 0,
             device: str | None = None, preset: str = "tiny") -> dict:
    """Train the five demo runs (each stops at its share of `minutes`), then write the compare report.
    size None = 32x64 on CPU (enough steps in minutes to learn something), 128x256 on CUDA."""
    from semsynth.compare import run_compare
    from semsynth.train.config import build_run_config
    from semsynth.train.engine import run_training

    out = Path(out)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    size = size or ((128, 256) if device.startswith("cuda") else (32, 64))
    runs = {}
    started = time.perf_counter()
    for name, task, overrides, share in DEMO_RUNS:
        run_dir = out / "runs" / name
        cfg = build_run_config(task, "synthetic-streets", size=size, preset=preset, task_overrides=overrides,
                               train_overrides={"seed": seed, "time_limit_minutes": minutes * share,
                                                "device": device}, out=str(run_dir))
        print(f"[demo] training {name} ({task}, {minutes * share:.1f} min budget) -> {run_dir}")
        runs[name] = run_training(cfg, resume=(run_dir / "checkpoints").is_dir())
    print(f"[demo] training done in {(time.perf_counter() - started) / 60:.1f} min; comparing")
    report = run_compare("synthetic-streets", runs["layout"], [runs["sis-paired"], runs["sis-unpaired"]],
                         runs["image"], n, out / "report", split="val", seed=seed, device=device,
                         segmenter=runs["segmenter"])
    return report
