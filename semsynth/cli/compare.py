"""`semsynth compare`: the two-stage vs single-stage table (FID, KID, layout JS, mIoU) as MD, JSON and HTML."""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from semsynth.cli.options import add_speed_options
from semsynth.data import parse_size
from semsynth.evaluation.compare import run_compare
from semsynth.evaluation.protocol import check_inception
from semsynth.evaluation.report import to_markdown
from semsynth.train import suite


def register(sub) -> None:
    p = sub.add_parser("compare", help="two-stage vs single-stage comparison report",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="FID(generated layouts vs real layouts), FID(two-stage photos vs real photos), "
                                   "FID(single-stage photos vs real photos), plus KID, layout JS divergence and "
                                   "mIoU; writes report.md, report.json and report.html into --out.")
    p.add_argument("--data", required=True, help="data set name (see `semsynth data preview --help`)")
    p.add_argument("--root", help="data set root folder (not needed for synthetic-streets)")
    p.add_argument("--split", default="val", help="split of real images to compare against")
    p.add_argument("--layout", help="layout run directory or model folder")
    p.add_argument("--sis", action="append",
                   help="SIS run directory or model folder; repeat for several stage-2 models (one row each)")
    p.add_argument("--image", help="single-stage image run directory or model folder")
    p.add_argument("--segmenter", help="segmenter run/model folder or TorchScript file for mIoU")
    p.add_argument("--trust-torchscript", action="store_true",
                   help="load a TorchScript --segmenter file: TorchScript files carry code that runs when loaded, "
                        "so they load only with this flag or a matching --segmenter-sha256")
    p.add_argument("--segmenter-sha256", metavar="HEX",
                   help="load a TorchScript --segmenter only if its SHA-256 is HEX")
    p.add_argument("--inception", help="FID Inception weights file (default: see README 'FID weights')")
    p.add_argument("--no-fid", dest="fid", action="store_false",
                   help="skip FID/KID (without it, --train first checks the Inception weights and stops when "
                        "they are missing or wrong, before any training)")
    p.add_argument("--n", type=int, default=500, help="samples per set")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated samples")
    p.add_argument("--truncation", type=float, default=1.0, help="truncation psi for the GANs")
    p.add_argument("--batch", type=int, default=16, help="batch size")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="torch device")
    p.add_argument("--out", required=True, help="report folder")
    add_speed_options(p, "generators and the segmenter (the Inception: compile only, always fp32)")
    g = p.add_argument_group("training first (--train)")
    g.add_argument("--train", action="store_true",
                   help="train the layout, paired + unpaired SIS, image and segmenter runs into OUT/runs first "
                        "(resuming those already there) instead of taking --layout/--sis/--image/--segmenter")
    g.add_argument("--size", default="32x64", help="training resolution HxW")
    g.add_argument("--preset", default="tiny", choices=["tiny", "small", "paper"], help="model size preset")
    g.add_argument("--minutes", type=float, default=5.0, help="training budget for all runs together")
    g.add_argument("--use-vgg", action="store_true", help="paired SIS with the VGG loss (needs local weights)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.train:
        if args.fid:
            check_inception(args.inception)  # minutes of training must not end in a missing or wrong weights file
        runs = suite.train_suite(args.data, Path(args.out) / "runs", root=args.root, size=parse_size(args.size),
                                 preset=args.preset, minutes=args.minutes, seed=args.seed, device=args.device,
                                 use_vgg=args.use_vgg)
        args.layout, args.sis = runs["layout"], [runs["sis-paired"], runs["sis-unpaired"]]
        args.image, args.segmenter = runs["image"], runs["segmenter"]
    elif args.layout is None or not args.sis:
        raise ValueError("give --layout RUN and --sis RUN (or --train to train them first)")
    report = run_compare(args.data, args.layout, args.sis, args.image, args.n, args.out, root=args.root,
                         split=args.split, seed=args.seed, truncation=args.truncation, batch=args.batch,
                         device=args.device, inception=args.inception, segmenter=args.segmenter, fid=args.fid,
                         trust_torchscript=args.trust_torchscript, segmenter_sha256=args.segmenter_sha256,
                         compile=args.compile, precision=args.precision)
    print(to_markdown(report))
    print(f"report: {args.out}/report.html")
    return 0
