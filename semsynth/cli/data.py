"""`semsynth data preview`: one PNG grid of colourised label maps beside their photos, for any data set."""
from __future__ import annotations

import argparse

import torch

from semsynth.cli.options import DATA_OPTION_HELP, data_option, size_arg
from semsynth.data import DATASETS, load_dataset, to_uint8
from semsynth.data.labels import colorize_batch
from semsynth.inference.visualize import save_grid


def preview(data: str, out, root=None, size=(128, 256), n: int = 8, seed: int = 0, split: str = "train",
            options: dict | None = None):
    """Write the first `n` scenes of a data set as a grid (each row: colourised label | photo); returns the path.
    `options` go to the data set's reader."""
    if n < 1:
        raise ValueError(f"--n must be >= 1, got {n}")
    dataset = load_dataset(data, root=root, split=split, size=size, mode="paired", seed=seed, **(options or {}))
    count = min(n, len(dataset))
    if count == 0:
        raise ValueError(f"data set {data!r} (split {split!r}) has no scenes")
    items = [dataset[i] for i in range(count)]
    labels = torch.stack([item["label"] for item in items])                    # [N, H, W]
    photos = to_uint8(torch.stack([item["image"] for item in items]))         # [N, 3, H, W]
    colors = colorize_batch(labels, dataset.classes)                           # [N, 3, H, W]
    tiles = torch.stack([colors, photos], dim=1).flatten(0, 1)                 # [2N, 3, H, W]: label, photo, ...
    return save_grid(tiles, out, nrow=2)


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="inspect data sets",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data_sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    p = data_sub.add_parser("preview", help="write a PNG grid of colourised label maps beside their photos",
                            description="Write one PNG grid: each row is a scene, its colourised label map on "
                                        "the left and its photo on the right.",
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", required=True, choices=sorted(DATASETS), help="data set name")
    p.add_argument("--root", default=None, help="data set folder in its official layout (unused for "
                                                "synthetic-streets)")
    p.add_argument("--split", default="train", help="split to preview (train, val, ...)")
    p.add_argument("--size", default="128x256", type=size_arg, help="picture size HxW")
    p.add_argument("--n", default=8, type=int, help="number of scenes (grid rows)")
    p.add_argument("--seed", default=0, type=int, help="data set seed (scene generation, pairing)")
    p.add_argument("--data-option", action="append", default=[], metavar="KEY=VALUE", type=data_option,
                   help=DATA_OPTION_HELP)
    p.add_argument("--out", required=True, help="output PNG file")
    p.set_defaults(func=_run_preview)


def _run_preview(args) -> int:
    path = preview(args.data, args.out, root=args.root, size=args.size, n=args.n, seed=args.seed, split=args.split,
                   options=dict(args.data_option))
    print(f"wrote {path}")
    return 0
