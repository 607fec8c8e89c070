"""`semsynth demo`: the whole story on the embedded data set, on any machine, in minutes."""
from __future__ import annotations

import argparse

from semsynth.data import parse_size
from semsynth.demo import run_demo
from semsynth.evaluation.report import to_markdown


def register(sub) -> None:
    p = sub.add_parser("demo", help="train every model on synthetic-streets briefly, then compare them",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="Trains the layout GAN, paired and unpaired stage 2, the single-stage "
                                   "baseline and a proxy segmenter on synthetic-streets within --minutes, then "
                                   "runs `compare` and prints where the report is.")
    p.add_argument("--minutes", type=float, default=5.0, help="training budget for all five runs together")
    p.add_argument("--out", default="demo-out", help="output folder (runs/ and report/)")
    p.add_argument("--size", default=None, help="resolution HxW (default: 32x64 on CPU, 128x256 on CUDA)")
    p.add_argument("--n", type=int, default=50, help="samples per set in the comparison")
    p.add_argument("--seed", type=int, default=0, help="seed of every run and of the samples")
    p.add_argument("--preset", default="tiny", choices=["tiny", "small", "paper"], help="model size preset")
    p.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    p.add_argument("--no-fid", dest="fid", action="store_false",
                   help="skip FID/KID (without it the Inception weights are checked first and a missing or wrong "
                        "file stops the demo before any training)")
    p.set_defaults(func=run)


def run(args) -> int:
    report = run_demo(args.out, minutes=args.minutes, size=parse_size(args.size) if args.size else None, n=args.n,
                      seed=args.seed, device=args.device, preset=args.preset, fid=args.fid)
    print(to_markdown(report))
    print(f"[demo] report: {args.out}/report/report.html (also report.md, report.json and the sample grids)")
    return 0
