"""How speckled are a layout GAN's argmax maps after a demo-sized CPU budget? Trains the suite's "layout" run
(semsynth/train/suite.py: StyleGAN2, class-logit output, the given preset) on synthetic-streets for T seconds,
samples N maps from the exported G_ema the way Pipeline.generate does (argmax, noise_mode "const", truncation 1),
and prints class-share JS, boundary-pixel and isolated-pixel fractions and their generated / real ratios against
N real val-split maps. `--set key=value` overrides a task field and `--train key=value` a training field (values
are Python literals), so each experiment changes one factor. Prints numbers, asserts nothing.

    python bench/layout_speckle.py --seconds 75 --seed 0 [--set gumbel_temperature=0.5] [--out runs/speckle]
"""
from __future__ import annotations

import argparse
import ast
import json
import tempfile
import time
from pathlib import Path

import torch

from semsynth.data import load_dataset
from semsynth.evaluation.metrics.layout import class_shares, js_divergence, neighbour_fractions
from semsynth.inference.sampling import load_generator, sample_layouts
from semsynth.train.config import build_run_config
from semsynth.train.engine import run_training
from semsynth.train.suite import SUITE


def parse_assignments(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value  # a bare word: a string choice such as d_input=softmax
    return out


def speckle_figures(real: torch.Tensor, fake: torch.Tensor, num_classes: int, ignore: int) -> dict[str, float]:
    real_f, fake_f = neighbour_fractions(real, ignore), neighbour_fractions(fake, ignore)
    return {"js": js_divergence(class_shares(real, num_classes, ignore), class_shares(fake, num_classes, ignore)),
            "boundary_real": real_f["boundary_fraction"], "boundary_fake": fake_f["boundary_fraction"],
            "boundary_ratio": fake_f["boundary_fraction"] / real_f["boundary_fraction"],
            "isolated_real": real_f["isolated_fraction"], "isolated_fake": fake_f["isolated_fraction"],
            "isolated_ratio": fake_f["isolated_fraction"] / max(real_f["isolated_fraction"], 1e-12)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=75.0, help="training budget (the demo's layout share: 75)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--size", default="32x64")
    parser.add_argument("--n", type=int, default=200, help="generated and real maps compared")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="task overrides")
    parser.add_argument("--train", nargs="*", default=[], metavar="KEY=VALUE", help="training overrides")
    parser.add_argument("--out", default=None, help="run folder (default: a temporary one)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    _, task, overrides, _ = next(entry for entry in SUITE if entry[0] == "layout")
    task_overrides = {**overrides, **parse_assignments(args.set)}
    train_overrides = {"seed": args.seed, "time_limit_minutes": args.seconds / 60, "device": "cpu",
                       **parse_assignments(args.train)}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or Path(tmp) / "layout")
        cfg = build_run_config(task, "synthetic-streets", size=size, preset=args.preset, task_overrides=task_overrides,
                               train_overrides=train_overrides, out=str(out))
        start = time.perf_counter()
        run_training(cfg, overwrite=True)
        seconds = time.perf_counter() - start
        step = max(int(p.name) for p in (out / "checkpoints").iterdir() if p.name.isdigit())
        G, meta = load_generator(out)
        fake, _ = sample_layouts(G, meta, n=args.n, seed=10_000)
    real_ds = load_dataset("synthetic-streets", split="val", size=size, mode="labels", seed=args.seed)
    real = torch.stack([real_ds[i]["label"] for i in range(min(args.n, len(real_ds)))])
    classes = real_ds.classes
    figures = speckle_figures(real, fake, classes.num_classes, classes.ignore_index)
    print(json.dumps({"seed": args.seed, "seconds": round(seconds, 1), "set": args.set, "train": args.train,
                      "step": step, "kimg": step * cfg.train.batch / 1000,
                      **{k: round(v, 4) for k, v in figures.items()}}), flush=True)


if __name__ == "__main__":
    main()
