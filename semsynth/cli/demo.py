"""`semsynth demo`: the whole story on the embedded data set, on any machine, in minutes."""
from __future__ import annotations

import argparse
import sys

from semsynth.data import parse_size
from semsynth.demo import BUNDLED_N, TRAIN_N, has_bundle, run_bundled_demo, run_demo
from semsynth.evaluation.report import to_markdown
from semsynth.pretrained.bundle import DEFAULT_BUNDLE

TRAINING_OPTIONS = ("minutes", "size", "preset", "export_pretrained")  # each implies --train


def register(sub) -> None:
    p = sub.add_parser("demo", help="compare the bundled pretrained models (or, with --train, train every model "
                                    "briefly first)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="Without --train: the small models bundled with semsynth (synthetic-streets at "
                                   "64x128) generate layouts and photos, and `compare` writes its report. With "
                                   "--train: trains the layout GAN, paired and unpaired stage 2, the single-stage "
                                   "baseline and a proxy segmenter on synthetic-streets within --minutes, then "
                                   "compares them (any of --minutes, --size, --preset, --export-pretrained implies "
                                   "--train). An install without bundled models trains, as --train.")
    p.add_argument("--train", action="store_true", help="train every model from scratch instead of using the "
                                                        "bundled ones")
    p.add_argument("--minutes", type=float, default=None, help="--train: training budget for all five runs "
                                                               "together (default 5)")
    p.add_argument("--out", default="demo-out", help="output folder (report/, and runs/ with --train)")
    p.add_argument("--size", default=None, help="--train: resolution HxW (default: 32x64 on CPU, 128x256 on CUDA)")
    p.add_argument("--n", type=int, default=None, help=f"samples per set in the comparison (default: {BUNDLED_N} "
                                                       f"with the bundled models, {TRAIN_N} with --train)")
    p.add_argument("--seed", type=int, default=0, help="seed of every run and of the samples")
    p.add_argument("--preset", default=None, choices=["tiny", "small", "paper", "bundle"],
                   help="--train: model size preset (default tiny); bundle = the bundled models' recipe "
                        "(semsynth/pretrained/recipe.py)")
    p.add_argument("--export-pretrained", metavar="DIR", default=None,
                   help="--train: export the trained models as a bundle (fp16 safetensors + manifest.json) into DIR")
    p.add_argument("--bundle", default=DEFAULT_BUNDLE, help="name of the bundle (to use, or to export as)")
    p.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    p.add_argument("--no-fid", dest="fid", action="store_false",
                   help="skip FID/KID (without it the Inception weights are checked first and a missing or wrong "
                        "file stops the demo before any training)")
    p.set_defaults(func=run)


def run(args) -> int:
    # a training option implies --train: `semsynth demo --minutes M` trains, as it did before models were bundled
    implied = any(getattr(args, o) is not None for o in TRAINING_OPTIONS)
    train = args.train or implied or not has_bundle(args.bundle)
    if train and not (args.train or implied):
        print(f"[demo] this install holds no bundled model {args.bundle!r} (semsynth/pretrained/{args.bundle}): "
              "training every model from scratch instead, as `semsynth demo --train`", file=sys.stderr)
    if train:
        report = run_demo(args.out, minutes=5.0 if args.minutes is None else args.minutes,
                          size=parse_size(args.size) if args.size else None, n=args.n or TRAIN_N, seed=args.seed,
                          device=args.device, preset=args.preset or "tiny", fid=args.fid,
                          export_pretrained=args.export_pretrained, bundle_name=args.bundle)
    else:
        report = run_bundled_demo(args.out, n=args.n or BUNDLED_N, seed=args.seed, device=args.device, fid=args.fid,
                                  name=args.bundle)
    print(to_markdown(report))
    print(f"[demo] report: {args.out}/report/report.html (also report.md, report.json and the sample grids)")
    return 0
