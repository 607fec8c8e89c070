"""The README's picture of the bundled models (docs/bundled_samples.png): generated layouts, the paired SPADE's and
the unpaired USIS's photos of those same layouts, and single-stage StyleGAN2 photos, one labelled grid each.

    python bench/bundle_samples.py [--bundle synthetic-streets-64x128 | --models DIR] [--n 16] [--seed 0]
                                   [--out docs/bundled_samples.png]
--models: a folder holding the five member folders (what `semsynth demo --train --export-pretrained DIR` writes), to
look at a bundle before shipping it.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from semsynth.inference.pipeline import Pipeline
from semsynth.inference.sampling import load_generator, sample_images
from semsynth.inference.visualize import image_grid
from semsynth.pretrained import bundle

CAPTION_HEIGHT = 18


def members_of(args) -> dict[str, Path]:
    if args.models:
        return {member: Path(args.models) / member for member in bundle.MEMBERS}
    return bundle.bundle_members(args.bundle)


def captioned(grid: torch.Tensor, caption: str) -> np.ndarray:
    """uint8 [3, H, W] grid -> [H + caption, W, 3] with the caption above it on white."""
    body = grid.permute(1, 2, 0).numpy()
    header = Image.new("RGB", (body.shape[1], CAPTION_HEIGHT), "white")
    ImageDraw.Draw(header).text((4, 3), caption, fill="black")
    return np.concatenate([np.asarray(header), body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", default=bundle.DEFAULT_BUNDLE)
    parser.add_argument("--models", default=None, help="a folder of member folders instead of a bundled name")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nrow", type=int, default=4)
    parser.add_argument("--out", default="docs/bundled_samples.png")
    args = parser.parse_args()
    members = members_of(args)
    torch.manual_seed(args.seed)
    paired = Pipeline.from_pretrained(members["layout"], members["sis-paired"])
    drawn = paired.generate(args.n, seed=args.seed)
    unpaired = Pipeline.from_pretrained(None, members["sis-unpaired"])
    unpaired_photos = unpaired.synthesize(drawn.labels, seed=args.seed, classes=paired.layout_classes).photos
    image_G, _ = load_generator(members["image"])
    sections = [
        (drawn.colors, "generated layouts"),
        (drawn.photos[:, 0], "paired SPADE photos of those layouts"),
        (unpaired_photos[:, 0], "unpaired USIS photos of the same layouts"),
        (sample_images(image_G, args.n, seed=args.seed), "single-stage StyleGAN2 photos"),
    ]
    sheet = np.concatenate([captioned(image_grid(images, nrow=args.nrow), caption) for images, caption in sections])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(args.out)
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
