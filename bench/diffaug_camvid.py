"""Does DiffAugment help on a small real data set? KID on CamVid val after a fixed CPU budget, with and without
`--augment diffaug`, for the single-stage image task (StyleGAN2, "tiny" preset) at 64x128.

CamVid has 367 training photos: the regime where, per Zhao et al. 2020, D overfits within a few thousand images
and DiffAugment pays. Each run trains for --seconds of wall time (the engine's time limit, so every run stops
cleanly and exports), then n generated photos are compared with n val photos (KID through the shared protocol,
the val features cached). Prints a table, asserts nothing. Needs the FID Inception weights.
    python bench/diffaug_camvid.py [--root PATH] [--seconds 600] [--seeds 0 1 2] [--n 101]
CamVid is read from --root, $SEMSYNTH_CAMVID, or shared/data/camvid beside or inside the checkout; without it
the bench says so and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

import torch

from semsynth.data import load_dataset
from semsynth.evaluation import protocol
from semsynth.evaluation.metrics.features import extract_features
from semsynth.evaluation.metrics.inception import InceptionWeightsNotFound, load_inception
from semsynth.inference.sampling import sample_images
from semsynth.losses.diffaug import PHOTO_POLICY
from semsynth.models.io import load_model
from semsynth.train.config import build_run_config
from semsynth.train.engine import run_training

SIZE = (64, 128)
REPO = Path(__file__).resolve().parents[1]


def find_camvid(root: str | None) -> Path | None:
    candidates = [root, os.environ.get("SEMSYNTH_CAMVID"), REPO.parent / "shared/data/camvid",
                  REPO / "shared/data/camvid"]
    return next((Path(c) for c in candidates if c and (Path(c) / "train").is_dir()), None)


def train(root: Path, out: Path, seed: int, policy: str, seconds: float) -> tuple[Path, float]:
    """(exported run, kimg trained) after `seconds` of training."""
    cfg = build_run_config("image", "camvid", root=root, size=SIZE, preset="tiny", out=str(out),
                           task_overrides={"diffaug": policy},
                           train_overrides={"total_kimg": 1e6, "time_limit_minutes": seconds / 60, "seed": seed,
                                            "num_workers": 0, "device": "cpu", "sample_every": 0, "log_every": 1,
                                            "checkpoint_every": 10 ** 9})
    run = run_training(cfg)
    stats = (run / "stats.jsonl").read_text().splitlines()
    kimg = float(json.loads(stats[-1])["kimg"]) if stats else float("nan")
    return run, kimg


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=None, help="CamVid folder (train/, trainannot/, val/, valannot/)")
    p.add_argument("--seconds", type=float, default=600, help="training wall time per run")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n", type=int, default=101, help="generated and val photos compared (CamVid val: 101)")
    p.add_argument("--inception", default=None, help="FID Inception weights file (default: the usual search)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    root = find_camvid(args.root)
    if root is None:
        print("CamVid not found (give --root, set SEMSYNTH_CAMVID, or place it in shared/data/camvid): skipped")
        return 0
    try:
        extractor = load_inception(args.inception)
    except InceptionWeightsNotFound as err:
        print(f"skipped: {str(err).splitlines()[0]}")
        return 0
    val, fingerprint = protocol.open_real("camvid", root=root, split="val", size=SIZE, seed=0, limit=args.n)
    real = protocol.real_features(val, extractor, protocol.real_key("features", fingerprint, extractor),
                                  limit=args.n)
    print(f"CamVid {root}: {len(load_dataset('camvid', root=root, split='train', size=SIZE, mode='images'))} "
          f"train photos, {len(real)} val photos, {SIZE[0]}x{SIZE[1]}, {args.seconds:g} s per run on "
          f"{args.threads} thread(s)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for policy in ("", PHOTO_POLICY):
            for seed in args.seeds:
                run, kimg = train(root, Path(tmp) / f"{policy or 'none'}-{seed}", seed, policy, args.seconds)
                fake = sample_images(load_model(run, "cpu", tasks=("image",)), n=len(real), seed=1000 + seed)
                k = protocol.kid(real, extract_features(fake, extractor, progress=False))
                rows.append((policy or "off", seed, kimg, k["kid_mean"], k["kid_std"]))
                print(f"  diffaug {rows[-1][0]:<24} seed {seed}: {kimg:6.2f} kimg, KID {k['kid_mean']:.4f} "
                      f"± {k['kid_std']:.4f}", flush=True)
    print("\n| diffaug | seeds | kimg (mean) | KID mean over seeds | KID per seed |\n|---|---|---|---|---|")
    for policy in ("off", PHOTO_POLICY):
        mine = [r for r in rows if r[0] == policy]
        kids = [r[3] for r in mine]
        print(f"| {policy} | {len(mine)} | {statistics.mean(r[2] for r in mine):.2f} | {statistics.mean(kids):.4f} | "
              + ", ".join(f"{v:.4f}" for v in kids) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
