"""`semsynth sample`: draw label maps (layout generators) or photos (image generators) from a trained model."""
from __future__ import annotations

import argparse

import torch

from semsynth.cli.options import add_speed_options, finite_float, positive_int
from semsynth.cli.outputs import prepare_output_folder
from semsynth.data.labels import colorize_batch
from semsynth.inference.compiled import prepare, should_compile
from semsynth.inference.sampling import classes_of, load_generator, sample_images, sample_layouts
from semsynth.inference.visualize import save_grid, save_label_png, save_png


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sample", help="sample label maps or photos from a trained generator",
        description="Layouts: writes OUT/<i:05d>_label.png (8-bit ids), OUT/<i:05d>_color.png and OUT/grid.png. "
                    "Photos: OUT/<i:05d>.png and OUT/grid.png. Sample i depends only on SEED + i.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--run", required=True, help="run folder (uses RUN/model) or model folder (config.json + "
                                                "model.safetensors)")
    p.add_argument("--n", type=positive_int, default=16, help="number of samples")
    p.add_argument("--seed", type=int, default=0, help="seed of sample 0; sample i uses seed + i")
    p.add_argument("--truncation", type=finite_float, default=1.0, help="truncation psi (1 = off, 0 = the mean sample)")
    p.add_argument("--out", required=True, help="output folder; one that holds an earlier run's outputs is refused")
    p.add_argument("--overwrite", action="store_true", help="first delete the earlier outputs in --out (only files "
                                                             "named like this command's outputs)")
    p.add_argument("--batch", type=positive_int, default=16,
                   help="samples per forward pass (the samples do not depend on it)")
    p.add_argument("--device", default="auto", help="auto (cuda if available) | cpu | cuda | cuda:N")
    add_speed_options(p, "generator")
    p.set_defaults(func=run)


def run(args) -> int:
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    out = prepare_output_folder(args.out, overwrite=args.overwrite)
    G, meta = load_generator(args.run, device=device)
    G = prepare(G, "G", compile=should_compile(args.compile, meta.get("arch"), args.n), precision=args.precision)
    if meta["task"] == "image":
        images = sample_images(G, args.n, args.seed, args.truncation, args.batch)
        for i, image in enumerate(images):
            save_png(image, out / f"{i:05d}.png")
        save_grid(images, out / "grid.png")
        print(f"wrote {len(images)} photos and grid.png to {out}")
        return 0
    ids, far = sample_layouts(G, meta, args.n, args.seed, args.truncation, args.batch)
    colors = colorize_batch(ids, classes_of(meta))
    for i in range(len(ids)):
        save_label_png(ids[i], out / f"{i:05d}_label.png")
        save_png(colors[i], out / f"{i:05d}_color.png")
    save_grid(colors, out / "grid.png")
    note = "" if far is None else f" ({far:.1%} of pixels were far from every palette colour)"
    print(f"wrote {len(ids)} label maps and grid.png to {out}{note}")
    return 0
