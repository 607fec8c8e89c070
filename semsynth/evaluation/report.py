"""The comparison report: one JSON of plain numbers, a Markdown table and an HTML page with sample grids and
plots (drawn by semsynth.evaluation.plots; inline PNGs, so the page needs nothing but the grids beside it)."""
from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

from semsynth.evaluation import plots

COLUMNS = [  # (key in a row, header)
    ("name", "generated set"),
    ("against", "against"),
    ("fid", "FID ↓"),
    ("kid_mean", "KID ↓"),
    ("js_divergence", "layout JS ↓"),
    ("boundary_ratio", "boundary ratio"),  # layouts: boundary / isolated-pixel fraction, generated / real (1 = real)
    ("isolated_ratio", "isolated ratio"),
    ("miou", "mIoU ↑"),
    ("precision", "precision ↑"),
    ("recall", "recall ↑"),
    ("density", "density"),
    ("coverage", "coverage ↑"),
]


def _fmt(key: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if key == "kid_mean":
        return f"{value:.4f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _row_cells(row: dict) -> list[str]:
    cells = [_fmt(k, row.get(k)) for k, _ in COLUMNS]
    if row.get("kid_mean") is not None and row.get("kid_std") is not None:
        cells[3] = f"{row['kid_mean']:.4f} ± {row['kid_std']:.4f}"
    return cells


def protocol_lines(report: dict) -> list[str]:
    h, w = report["resolution"]
    lines = [
        f"data set: {report['data']} ({report['split']} split), {report['n']} samples per set, {h}×{w}, "
        f"seed {report['seed']}; every row uses the same real set, resolution, sample count and weights.",
    ]
    fid = report["fid_protocol"]
    if fid.get("skipped"):
        lines.append(f"FID/KID skipped: {fid['skipped']}")
    else:
        lines.append(f"FID/KID: standard FID Inception-v3 (TF 2015-12-05), weights SHA-256 {fid['weights_sha256']}; "
                     f"KID: {fid['kid_subsets']} subsets of {fid['kid_subset_size']}.")
        if fid.get("prdc_k"):
            lines.append(f"precision/recall (Kynkäänniemi et al. 2019), density/coverage (Naeem et al. 2020): "
                         f"k = {fid['prdc_k']} nearest neighbours on the same features; density ≈ 1 when the sets "
                         f"match.")
    lines += [f"warning: {w}" for w in report.get("warnings", [])]
    seg = report.get("segmenter")
    if seg and seg.get("skipped"):
        lines.append(f"mIoU skipped: {seg['skipped']}")
    elif seg:
        lines.append(f"mIoU: proxy segmenter {seg['path']}, its own mIoU on real {report['split']} photos "
                     f"{seg['miou_real']:.3f}.")
    return lines


def to_markdown(report: dict) -> str:
    headers = [h for _, h in COLUMNS]
    out = ["# semsynth comparison", ""]
    out += [f"- {line}" for line in protocol_lines(report)] + [""]
    out.append("| " + " | ".join(headers) + " |")
    out.append("|" + "---|" * len(headers))
    out += ["| " + " | ".join(_row_cells(row)) + " |" for row in report["rows"]]
    return "\n".join(out) + "\n"


def _plots_html(figures: list[tuple[str, bytes]] | None) -> str:
    """Figures as inline PNGs; None (matplotlib missing) as the line that says how to get them."""
    if figures is None:
        return f"<p class='missing'>{html.escape(plots.MISSING)}</p>"
    return "".join(f"<figure><figcaption>{html.escape(title)}</figcaption>"
                   f"<img class='plot' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}' "
                   f"alt='{html.escape(title)}'></figure>" for title, png in figures)


def to_html(report: dict, grids: dict[str, str], figures: list[tuple[str, bytes]] | None = ()) -> str:
    """The page; `figures`: (caption, PNG bytes) from plots.report_figures, None when matplotlib is missing."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _row_cells(r)) + "</tr>"
                   for r in report["rows"])
    notes = "".join(f"<li>{html.escape(line)}</li>" for line in protocol_lines(report))
    grids_html = "".join(f"<figure><figcaption>{html.escape(title)}</figcaption>"
                           f"<img src='{html.escape(src)}' alt='{html.escape(title)}'></figure>"
                           for title, src in grids.items())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>semsynth comparison</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:4px 10px;text-align:right}} td:first-child,td:nth-child(2){{text-align:left}}
img{{width:100%;max-width:1024px;image-rendering:pixelated}} figure{{margin:1.5em 0}}
img.plot{{width:auto;max-width:100%;image-rendering:auto}} .missing{{color:#a40}}</style></head>
<body><h1>semsynth comparison</h1><ul>{notes}</ul>
<table><tr>{head}</tr>{body}</table><h2>plots</h2>{_plots_html(figures)}<h2>samples</h2>{grids_html}</body></html>
"""


def write_report(report: dict, out_dir, grids: dict[str, str], samples: dict | None = None) -> dict[str, Path]:
    """Write report.json / report.md / report.html into `out_dir`; `grids` maps captions to PNG paths
    relative to `out_dir`; `samples` (column title -> uint8 [K, H, W, 3]) feeds the side-by-side plot."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps({**report, "grids": grids}, indent=2))
    paths["md"].write_text(to_markdown(report))
    paths["html"].write_text(to_html(report, grids, plots.report_figures(report, samples)))
    return paths
