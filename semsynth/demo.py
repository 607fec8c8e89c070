"""The demo: train every model on synthetic-streets for a time budget, then run the comparison.

It lives at the package top, above both rooms it joins (train/ for the suite, evaluation/ for compare), so neither
room imports the other; cli/demo.py only parses the options."""
from __future__ import annotations

from pathlib import Path

import torch

from semsynth.evaluation.compare import run_compare
from semsynth.evaluation.protocol import check_inception
from semsynth.train import suite


def run_demo(out="demo-out", minutes: float = 5.0, size=None, n: int = 50, seed: int = 0,
             device: str | None = None, preset: str = "tiny", fid: bool = True) -> dict:
    """Train the suite (semsynth/train/suite.py) within `minutes`, then write the compare report to out/report.
    size None = 32x64 on CPU (enough steps in minutes to learn something), 128x256 on CUDA. fid: check the
    Inception weights before training (a missing or wrong file stops the demo in seconds) and report FID/KID;
    False = neither."""
    if fid:
        check_inception()
    out = Path(out)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    size = size or ((128, 256) if device.startswith("cuda") else (32, 64))
    runs = suite.train_suite("synthetic-streets", out / "runs", size=size, preset=preset, minutes=minutes,
                             seed=seed, device=device)
    print("[demo] comparing")
    return run_compare("synthetic-streets", runs["layout"], [runs["sis-paired"], runs["sis-unpaired"]],
                       runs["image"], n, out / "report", split="val", seed=seed, device=device,
                       segmenter=runs["segmenter"], fid=fid)
