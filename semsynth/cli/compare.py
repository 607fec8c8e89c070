"""`semsynth compare`: the two-stage vs single-stage table (FID, KID, layout JS, mIoU) as MD, JSON and HTML."""
from __future__ import annotations

import argparse

import torch


def register(sub) -> None:
    p = sub.add_parser("compare", help="two-stage vs single-stage comparison report",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="FID(generated layouts vs real layouts), FID(two-stage photos vs real photos), "
                                   "FID(single-stage photos vs real photos), plus KID, layout JS divergence and "
                                   "mIoU; writes report.md, report.json and report.html into --out.")
    p.add_argument("--data", required=True, help="data set name (see `semsynth data preview --help`)")
    p.add_argument("--root", help="data set root folder (not needed for synthetic-streets)")
    p.add_argument("--split", default="val", help="split of real images to compare against")
    p.add_argument("--layout", required=True, help="layout run directory or model folder")
    p.add_argument("--sis", required=True, action="append",
                   help="SIS run directory or model folder; repeat for several stage-2 models (one row each)")
    p.add_argument("--image", help="single-stage image run directory or model folder")
    p.add_argument("--segmenter", help="segmenter run/model folder or TorchScript file for mIoU")
    p.add_argument("--inception", help="FID Inception weights file (default: see README 'FID weights')")
    p.add_argument("--n", type=int, default=500, help="samples per set")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated samples")
    p.add_argument("--truncation", type=float, default=1.0, help="truncation psi for the GANs")
    p.add_argument("--batch", type=int, default=16, help="batch size")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="torch device")
    p.add_argument("--out", required=True, help="report folder")
    p.set_defaults(func=run)


def run(args) -> int:
    from semsynth.compare import run_compare
    from semsynth.report import to_markdown

    report = run_compare(args.data, args.layout, args.sis, args.image, args.n, args.out, root=args.root,
                         split=args.split, seed=args.seed, truncation=args.truncation, batch=args.batch,
                         device=args.device, inception=args.inception, segmenter=args.segmenter)
    print(to_markdown(report))
    print(f"report: {args.out}/report.html")
    return 0
