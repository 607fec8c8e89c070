"""What `--eval-every` costs against training: the tiny layout preset on CPU.

Trains the tiny layout preset for a few steps (img/s of the second half, after warm-up), then times one
evaluation (`semsynth.train.evaluation_hook.Evaluator`) at each --eval-n: with the FID Inception (label-map KID
+ JS + boundary ratio) when its weights are installed, and without it (JS + boundary ratio only). Prints the
seconds per evaluation (and KID ± std, the subset spread at that n) and the --eval-every (kimg) at which
evaluating takes 10 % of the training time. Asserts nothing.

    python bench/eval_cost.py [--size 32x64] [--steps 40] [--n 64,256] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from semsynth.data import parse_size
from semsynth.train import evaluation_hook
from semsynth.train.config import build_run_config
from semsynth.train.engine import build_task, run_training


def training_rate(size, steps: int, out: Path) -> float:
    """img/s of the tiny layout preset over the second half of `steps` steps (the first half warms up)."""
    run = build_run_config("layout", size=size, preset="tiny", out=out, train_overrides={
        "total_steps": steps, "log_every": steps // 2, "num_workers": 0, "sample_every": 0,
        "checkpoint_every": steps})
    run_training(run)
    last = json.loads((out / "stats.jsonl").read_text().splitlines()[-1])
    return float(last["img_per_s"])


def evaluation_seconds(size, n: int, inception: bool, out: Path) -> tuple[float, dict]:
    run = build_run_config("layout", size=size, preset="tiny", out=out, train_overrides={
        "eval_every": 1.0, "eval_n": n})
    _, _, _, task = build_task(run)
    evaluator = evaluation_hook.Evaluator(run, torch.device("cpu"), run.train.batch)  # reads the real reference
    if not inception:
        evaluator.settings.extractor = None
    elif evaluator.settings.extractor is None:
        return float("nan"), {}
    start = time.perf_counter()
    metrics = evaluator(task)
    return time.perf_counter() - start, metrics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="32x64")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--n", default="64,256", help="comma-separated --eval-n values")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    size = parse_size(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("SEMSYNTH_CACHE", str(Path(tmp) / "cache"))  # real features: computed, not timed
        rate = training_rate(size, args.steps, Path(tmp) / "train")
        print(f"tiny layout preset, {args.size}, batch 8, CPU, {args.threads} threads: training {rate:.1f} img/s")
        for n in (int(v) for v in args.n.split(",")):
            for inception in (True, False):
                seconds, metrics = evaluation_seconds(size, n, inception, Path(tmp) / f"eval-{n}-{inception}")
                what = "KID + JS + boundary" if inception else "JS + boundary (no Inception)"
                # evaluating E seconds every K kimg costs E / (K * 1000 / rate) of the training time
                kimg_for_10_percent = 10 * seconds * rate / 1000
                print(f"--eval-n {n:4d}, {what:<28}: {seconds:7.2f} s per evaluation; <= 10 % of training from "
                      f"--eval-every {kimg_for_10_percent:.2f} kimg")
                if "kid" in metrics:  # of the untrained generator: the ± std shows the noise of n samples
                    print(f"    label-map KID {metrics['kid']:.4f} ± {metrics['kid_std']:.4f}")


if __name__ == "__main__":
    main()
