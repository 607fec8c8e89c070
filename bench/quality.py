"""Quality bench: how good are the pipeline's models after a fixed CPU budget on synthetic-streets?

For each setting and seed it trains the suite (semsynth/train/suite.py: layout GAN, paired and unpaired SIS,
single-stage StyleGAN2, proxy segmenter) and runs `compare` (semsynth/evaluation/compare.py) on n generated samples
per set; the numbers come from that report.json. Then one table per setting, one row per seed and the median:
  layouts:  class-share JS, boundary-pixel-fraction ratio and isolated-pixel ratio (generated / real), layout KID
  photos:   KID and FID of paired and unpaired two-stage photos and of single-stage photos; proxy mIoU of the
            two-stage photos against their layouts (and the segmenter's mIoU on real photos, its own quality)
Settings: A = the demo's budgets (32x64, tiny preset, 5 minutes); B = a longer budget at 64x128 (small preset,
--minutes-b). --bundled measures the bundled models (semsynth/pretrained) instead, without training. It prints
numbers and asserts nothing. An earlier run's report.json in --out is reused, so an interrupted bench continues.

    python bench/quality.py [--settings A,B] [--seeds 0,1,2] [--n 500] [--minutes-b 20] [--out bench-quality]
    python bench/quality.py --bundled [--seeds 0,1,2]
Long: run it through a CPU slot (e.g. /work/briefs/heavy.sh) on a shared machine.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
from pathlib import Path

import torch

SETTINGS = {  # name -> (resolution, preset, training minutes for the whole suite)
    "A": ((32, 64), "tiny", 5.0),     # the demo's budgets (semsynth demo --train)
    "B": ((64, 128), "small", 20.0),  # longer, larger: --minutes-b / --preset-b change it
}
# (column, report row name or None for the layout statistics, key in that row)
COLUMNS = [
    ("JS", "generated layouts", "js_divergence"),
    ("boundary ratio", None, "boundary_fraction"),
    ("isolated ratio", None, "isolated_fraction"),
    ("layout KID", "generated layouts", "kid_mean"),
    ("paired KID", "two-stage photos (paired SIS)", "kid_mean"),
    ("paired FID", "two-stage photos (paired SIS)", "fid"),
    ("unpaired KID", "two-stage photos (unpaired SIS)", "kid_mean"),
    ("unpaired FID", "two-stage photos (unpaired SIS)", "fid"),
    ("single KID", "single-stage photos (StyleGAN2)", "kid_mean"),
    ("single FID", "single-stage photos (StyleGAN2)", "fid"),
    ("paired mIoU", "two-stage photos (paired SIS)", "miou"),
    ("unpaired mIoU", "two-stage photos (unpaired SIS)", "miou"),
    ("seg mIoU real", "segmenter", "miou_real"),
]


def metrics_of(report: dict) -> dict[str, float | None]:
    """Column -> value of one compare report.json (None where the report lacks it, e.g. FID with --no-fid)."""
    rows = {row["name"]: row for row in report.get("rows", [])}
    rows["segmenter"] = report.get("segmenter") or {}
    stats = report.get("layout_statistics", {})
    out = {}
    for column, row, key in COLUMNS:
        if row is None:
            pair = stats.get(key) or {}
            real, fake = pair.get("real"), pair.get("generated")
            out[column] = fake / real if real and fake is not None else None
        else:
            value = rows.get(row, {}).get(key)
            out[column] = float(value) if value is not None else None
    return out


def median_row(rows: list[dict]) -> dict[str, float | None]:
    """Per column, the median over the rows that have a value (None when none has)."""
    out = {}
    for column, _, _ in COLUMNS:
        values = [r[column] for r in rows if r.get(column) is not None]
        out[column] = statistics.median(values) if values else None
    return out


def _cell(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def format_table(title: str, rows: dict) -> str:
    """A markdown table: one line per seed (rows: seed -> metrics_of) and the median."""
    names = [c for c, _, _ in COLUMNS]
    lines = [f"**{title}**", "", "| seed | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for seed, row in rows.items():
        lines.append(f"| {seed} | " + " | ".join(_cell(row[c]) for c in names) + " |")
    median = median_row(list(rows.values()))
    lines.append(f"| median of {len(rows)} | " + " | ".join(_cell(median[c]) for c in names) + " |")
    return "\n".join(lines)


def machine_line() -> str:
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
            f"{torch.__version__} with {torch.get_num_threads()} threads, "
            f"{datetime.date.today().isoformat()}")


def run_setting(name: str, size, preset: str, minutes: float, seeds, n: int, out: Path, device: str,
                bundled: bool) -> dict:
    """seed -> metrics of one setting, training and comparing where no report.json exists yet."""
    from semsynth.evaluation.compare import run_compare
    from semsynth.pretrained import bundle, recipe
    from semsynth.train.suite import train_suite

    rows = {}
    for seed in seeds:
        folder = out / name / f"seed{seed}"
        report_file = folder / "report" / "report.json"
        if report_file.is_file():
            print(f"[quality] {name} seed {seed}: reusing {report_file}")
        else:
            if bundled:
                runs = bundle.bundle_members(bundle.DEFAULT_BUNDLE)
            else:
                runs = train_suite("synthetic-streets", folder / "runs", size=size, minutes=minutes, seed=seed,
                                   device=device, **recipe.suite_options(preset))
            run_compare("synthetic-streets", runs["layout"], [runs["sis-paired"], runs["sis-unpaired"]],
                        runs["image"], n, folder / "report", split="val", seed=seed, device=device,
                        segmenter=runs["segmenter"])
        rows[seed] = metrics_of(json.loads(report_file.read_text()))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", default="A,B", help="comma-separated: A (demo budget), B (longer)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated training and sampling seeds")
    parser.add_argument("--n", type=int, default=500, help="samples per set (FID/KID need many; KID subsets "
                                                          "of min(1000, n // 2), 100 of them)")
    parser.add_argument("--minutes-a", type=float, default=SETTINGS["A"][2], help="setting A's suite budget")
    parser.add_argument("--minutes-b", type=float, default=SETTINGS["B"][2], help="setting B's suite budget")
    parser.add_argument("--preset-b", default=SETTINGS["B"][1],
                        help="setting B's preset (bundle: the bundled models' widths, semsynth/pretrained/recipe.py)")
    parser.add_argument("--bundled", action="store_true", help="measure the bundled models, no training")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="bench-quality", help="runs, reports and quality.md / quality.json")
    args = parser.parse_args(argv)

    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    settings = {"A": (SETTINGS["A"][0], SETTINGS["A"][1], args.minutes_a),
                "B": (SETTINGS["B"][0], args.preset_b, args.minutes_b)}
    if args.bundled:
        chosen = {"bundled": (None, None, 0.0)}
    else:
        chosen = {s: settings[s] for s in args.settings.split(",")}
    tables, results = [], {}
    for name, (size, preset, minutes) in chosen.items():
        rows = run_setting(name, size, preset, minutes, seeds, args.n, out, args.device, args.bundled)
        title = ("bundled models (semsynth/pretrained), no training" if args.bundled else
                 f"setting {name}: {size[0]}x{size[1]}, preset {preset}, {minutes:g} min of training")
        title += f", n = {args.n}"
        tables.append(format_table(title, rows))
        results[name] = {"title": title, "seeds": rows, "median": median_row(list(rows.values()))}
    text = f"Machine: {machine_line()}\n\n" + "\n\n".join(tables)
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.md").write_text(text + "\n")
    (out / "quality.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
