"""`semsynth generate`: layouts from a layout run, K photos each from a SIS run; or photos for given layouts."""
from __future__ import annotations

import argparse
import time

import torch
from tqdm import tqdm

from semsynth.cli.options import add_speed_options, finite_float, positive_int
from semsynth.cli.outputs import prepare_output_folder
from semsynth.inference.compiled import compile_seconds
from semsynth.inference.pipeline import Pipeline
from semsynth.inference.visualize import save_grid, save_label_png, save_png
from semsynth.pretrained.bundle import bundled_names, is_bundled_spec


def register(sub) -> None:
    p = sub.add_parser("generate", help="two-stage generation: layouts -> photos",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="Write per sample the id PNG, the colourised PNG and K photo variants, plus "
                                   "grid.png. With --layouts, photos are made for your own layout PNGs instead.")
    p.add_argument("--layout", help="layout run directory, exported model folder, or a bundled name "
                   "(synthetic-streets-64x128)")
    p.add_argument("--sis", help="SIS (stage-2) run directory, exported model folder or bundled name (NAME: its "
                   "paired SIS, NAME:unpaired: its unpaired one); may be left out when --layout is a bundled name")
    p.add_argument("--layouts", nargs="+", help="id PNGs or colour-coded PNGs to synthesize photos for")
    p.add_argument("--layout-classes", metavar="NAME", help="class set the --layouts PNGs are drawn in (e.g. "
                   "cityscapes: 19 train ids, fed to a cityscapes-raw SPADE through an id table); default: the SIS "
                   "model's own")
    p.add_argument("--style", nargs="+", help="photo(s) whose look the photos take: one for all layouts or one "
                   "per layout (SIS models trained with --use-vae)")
    p.add_argument("--n", type=positive_int, default=16, help="number of layouts to generate")
    p.add_argument("--variants", type=positive_int, default=1, help="photo variants (noise draws) per layout")
    p.add_argument("--seed", type=int, default=0, help="sample i uses seed + i")
    p.add_argument("--truncation", type=finite_float, default=1.0, help="truncation psi of the layout generator")
    p.add_argument("--batch", type=positive_int, default=16, help="batch size")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="torch device")
    p.add_argument("--out", required=True, help="output folder; one that holds an earlier run's outputs is refused")
    p.add_argument("--overwrite", action="store_true", help="first delete the earlier outputs in --out (only files "
                                                             "named like this command's outputs)")
    add_speed_options(p, "layout and SIS generators")
    p.set_defaults(func=run)


def run(args) -> int:
    if (args.layout is None) == (args.layouts is None):
        raise ValueError("give exactly one of --layout RUN (generate layouts) or --layouts PNG... (your own)")
    if args.layout_classes is not None and args.layouts is None:
        raise ValueError("--layout-classes describes --layouts PNGs; a --layout run states its own class set")
    if args.sis is None and not is_bundled_spec(args.layout):
        raise ValueError(f"give --sis (a SIS run, model folder or bundled name); it may be left out only when --layout "
                         f"is a bundled name ({', '.join(bundled_names()) or 'none bundled in this install'})")
    out = prepare_output_folder(args.out, overwrite=args.overwrite)
    pipe = Pipeline.from_pretrained(args.layout, args.sis, device=args.device)
    total = args.n if args.layouts is None else len(args.layouts)
    nets = pipe.accelerate(args.compile, args.precision, n=total, variants=args.variants)
    if args.style is not None and len(args.style) not in (1, total):
        raise ValueError(f"give one --style photo or one per layout ({total}), got {len(args.style)}")
    start_time, rows = time.perf_counter(), []
    with tqdm(total=total, desc="generate", unit="layout") as bar:
        for start in range(0, total, args.batch):
            count = min(args.batch, total - start)
            style = args.style if args.style is None or len(args.style) == 1 else args.style[start:start + count]
            if args.layouts is None:
                res = pipe.generate(count, seed=args.seed + start, truncation=args.truncation,
                                    variants_per_layout=args.variants, batch_size=args.batch, style=style)
            else:
                res = pipe.synthesize(args.layouts[start:start + count], seed=args.seed + start,
                                      variants=args.variants, batch_size=args.batch, style=style,
                                      classes=args.layout_classes)
                if res.far_share > 0.05:
                    print(f"warning: {res.far_share:.1%} of layout pixels were far from every palette colour")
            for j in range(count):
                i = start + j
                save_label_png(res.labels[j], out / f"{i:05d}_label.png")
                save_png(res.colors[j], out / f"{i:05d}_color.png")
                for k in range(args.variants):
                    save_png(res.photos[j, k], out / f"{i:05d}_photo{k}.png")
                if len(rows) < 8:
                    rows.append(torch.cat([res.colors[j][None], res.photos[j]]))
            bar.update(count)
    compiling = sum(compile_seconds(nets).values())  # reported apart: the rate is that of the compiled networks
    elapsed = time.perf_counter() - start_time - compiling
    save_grid(torch.cat(rows), out / "grid.png", nrow=1 + args.variants)
    note = f", {compiling:.1f} s compiling apart" if compiling else ""
    print(f"wrote {total} layouts x {args.variants} photos to {out} "
          f"({total * args.variants / elapsed:.1f} photos/s on {args.device}{note})")
    return 0
