"""`semsynth convert spade|oasis|usis|stylegan2-ada SOURCE --out MODEL_DIR`: an official checkpoint as a semsynth
model folder (see semsynth/convert/)."""
from __future__ import annotations

import argparse

from semsynth.cli.options import size_arg
from semsynth.convert import oasis, spade, stylegan2_ada, usis

# official code -> its converter (each: convert(source, out, *, size, class_set, which_epoch) -> model folder)
CONVERTERS = {"spade": spade.convert, "oasis": oasis.convert, "usis": usis.convert,
              "stylegan2-ada": stylegan2_ada.convert}

SOURCES = ("SOURCE: spade = the checkpoint folder holding latest_net_G.pth (+ _D, _E) and opt.txt; oasis/usis = the "
           "checkpoint folder holding opt.txt and models/latest_*.pth; stylegan2-ada = the network-snapshot .pkl "
           "(read by a restricted unpickler: the code it carries never runs). opt.pkl is never read.")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "convert", help="convert an official SPADE / OASIS / USIS / stylegan2-ada checkpoint into a model folder",
        description="Writes an ordinary semsynth model folder (config.json + model.safetensors, and the "
                    "discriminators / VAE encoder when present) that generate, sample, Pipeline and "
                    "from_pretrained load like any other. " + SOURCES,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("kind", choices=sorted(CONVERTERS), help="which official code wrote SOURCE")
    p.add_argument("source", metavar="SOURCE", help="checkpoint folder or file (see above)")
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model folder to write")
    p.add_argument("--size", type=size_arg, default=None, metavar="HxW",
                   help="output size, when opt.txt and the weights cannot tell it")
    p.add_argument("--class-set", default=None, metavar="NAME",
                   help="the input class set (e.g. cityscapes-raw), when opt.txt cannot tell it")
    p.add_argument("--which-epoch", default="latest", help="checkpoint prefix: <which-epoch>_net_G.pth etc.")
    p.set_defaults(func=run)


def run(args) -> int:
    out = CONVERTERS[args.kind](args.source, args.out, size=args.size, class_set=args.class_set,
                                which_epoch=args.which_epoch)
    print(f"wrote {out}")
    return 0
