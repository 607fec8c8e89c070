"""The comparison report's plots: numbers in, PNG bytes out (matplotlib, Agg, no pyplot state).

matplotlib is an optional dependency (the `report` extra): every function imports it when called, and
`report_figures` returns None without it so the report can say what is missing instead of failing."""
from __future__ import annotations

import io
import math

import numpy as np

MISSING = "plots need matplotlib: pip install 'semsynth[report]'"
THROUGHPUT = ("img_per_s", "data_wait_share")  # each gets its own panel: different units from the losses
METRIC_PREFIXES = ("eval", "metric")  # in-training metrics, kept apart from the losses they would dwarf
SIDE_BY_SIDE_N = 4  # layouts shown through every stage-2 model


def available() -> bool:
    try:
        import matplotlib  # noqa: F401  (optional: only the report's plots need it)
    except ImportError:
        return False
    return True


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional dependency, see the module docstring
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _nan(values) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def _grouped_bars(ax, groups: list[str], series: dict[str, list], ylabel: str) -> None:
    """One bar group per entry of `groups`, one bar per series in it; None bars are left out."""
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, _nan(values), width, label=name)
    ax.set_xticks(x, groups, rotation=45 if len(groups) > 4 else 0, ha="right" if len(groups) > 4 else "center")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small")


def score_bars(names: list[str], fid: list, kid_mean: list, kid_std: list) -> bytes:
    """FID and KID of each report row as horizontal bars; KID with its ± std (over subsets) as error bars."""
    fig = _figure(10, 0.5 * len(names) + 1.5)
    ax_fid, ax_kid = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(names))
    ax_fid.barh(y, _nan(fid), color="tab:blue")
    ax_kid.barh(y, _nan(kid_mean), xerr=np.nan_to_num(_nan(kid_std)), color="tab:orange", capsize=4)
    ax_fid.set_yticks(y, names)
    ax_fid.invert_yaxis()  # rows read top to bottom, as in the table
    ax_fid.set_xlabel("FID ↓")
    ax_kid.set_xlabel("KID ↓ (± std over subsets)")
    for ax in (ax_fid, ax_kid):
        ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def per_class_iou_bars(classes: list[str], series: dict[str, list]) -> bytes:
    """Per-class IoU of the segmenter on each photo set (series name -> [C], None where the class is in neither
    prediction nor truth), one bar group per class."""
    fig = _figure(min(14.0, max(6.0, 0.22 * len(classes) * len(series) + 2)), 4)
    ax = fig.subplots()
    _grouped_bars(ax, list(classes), series, "IoU ↑")
    ax.set_ylim(0, 1)
    return _png(fig)


def class_share_bars(classes: list[str], real: list, generated: list) -> bytes:
    """Pixel share of each class in real and in generated layouts."""
    fig = _figure(min(14.0, max(6.0, 0.5 * len(classes) + 2)), 4)
    _grouped_bars(fig.subplots(), list(classes), {"real layouts": real, "generated layouts": generated},
                  "share of labelled pixels")
    return _png(fig)


def neighbour_fraction_bars(real: dict[str, float], generated: dict[str, float]) -> bytes:
    """Boundary and isolated-pixel fractions (keys as in metrics.layout.neighbour_fractions) of real vs generated
    layouts."""
    fig = _figure(6, 3.2)
    titles = {"boundary_fraction": "boundary pixels", "isolated_fraction": "isolated pixels"}
    for ax, (key, title) in zip(fig.subplots(1, 2), titles.items()):  # own scales: isolated is often ~100x smaller
        ax.bar([0, 1], [real[key], generated[key]], color=["tab:blue", "tab:orange"])
        ax.set_xticks([0, 1], ["real", "generated"])
        ax.set_title(title, fontsize="medium")
        ax.grid(axis="y", alpha=0.3)
    fig.axes[0].set_ylabel("share of labelled pixels")
    return _png(fig)


def curve_panels(names) -> dict[str, list[str]]:
    """Panel title -> the curve names drawn in it: losses, then metrics, then throughput (one panel each)."""
    names = list(names)
    metrics = [n for n in names if n.lower().startswith(METRIC_PREFIXES)]
    panels = {"losses": [n for n in names if n not in THROUGHPUT and n not in metrics]}
    if metrics:
        panels["in-training metrics"] = metrics
    panels.update({"img/s": ["img_per_s"], "data wait share": ["data_wait_share"]})
    return panels


def training_curves(curves: dict[str, dict]) -> bytes:
    """One row of panels per run (run name -> {"kimg": [...], "values": {name: [...]}} as curves.curves_of makes),
    every panel on one shared kimg axis so runs of different lengths line up."""
    names = []
    for c in curves.values():
        names += [n for n in c["values"] if n not in names]
    panels = curve_panels(names)
    fig = _figure(3.6 * len(panels), 2.4 * len(curves) + 0.5)
    axes = fig.subplots(len(curves), len(panels), sharex="all", squeeze=False)
    for row, (run, c) in zip(axes, curves.items()):
        kimg = np.asarray(c["kimg"], dtype=np.float64)
        marker = "." if len(kimg) < 20 else None  # a short run is a few points; show them
        for ax, (title, keys) in zip(row, panels.items()):
            drawn = [k for k in keys if k in c["values"]]
            for k in drawn:
                ax.plot(kimg, _nan(c["values"][k]), marker=marker, label=k, linewidth=1)
            ax.set_title(f"{run}: {title}", fontsize="medium")
            ax.grid(alpha=0.3)
            if keys and keys[0] in THROUGHPUT:
                ax.set_ylim(bottom=0)
            if len(drawn) > 1:
                ax.legend(fontsize="x-small")
    for ax in axes[-1]:
        ax.set_xlabel("kimg")
    return _png(fig)


def side_by_side(columns: dict[str, np.ndarray]) -> bytes:
    """Column title -> uint8 images [K, H, W, 3]: the same K layouts (first column) through each stage-2 model."""
    stacks = [np.asarray(v) for v in columns.values()]
    k, h, w = stacks[0].shape[:3]
    cell = 2.6
    fig = _figure(cell * len(stacks), cell * h / w * k + 0.4)
    axes = fig.subplots(k, len(stacks), squeeze=False)
    for j, (title, stack) in enumerate(zip(columns, stacks)):
        axes[0, j].set_title(title, fontsize="medium")
        for i in range(k):
            axes[i, j].imshow(stack[i], interpolation="nearest")
            axes[i, j].set_axis_off()
    return _png(fig)


def report_figures(report: dict, samples: dict[str, np.ndarray] | None = None) -> list[tuple[str, bytes]] | None:
    """(caption, PNG) of every plot a compare report has numbers for; `samples` feeds the side-by-side figure.
    None when matplotlib is missing."""
    if not available():
        return None
    figures = []
    rows = report["rows"]
    if any(r.get("fid") is not None for r in rows):
        figures.append(("FID and KID per row", score_bars(
            [r["name"] for r in rows], [r.get("fid") for r in rows], [r.get("kid_mean") for r in rows],
            [r.get("kid_std") for r in rows])))
    seg = report.get("segmenter") or {}
    iou_rows = [r for r in rows if r.get("per_class_iou") is not None]
    if iou_rows and seg.get("per_class_iou_real") is not None:
        series = {f"real photos ({report['split']})": seg["per_class_iou_real"]}
        series.update({r["name"]: r["per_class_iou"] for r in iou_rows})
        figures.append(("per-class IoU of the segmenter: real photos and two-stage photos",
                        per_class_iou_bars(report["classes"], series)))
    stats = report.get("layout_statistics")
    if stats:
        shares = stats["class_shares"]
        figures.append(("class shares of generated vs real layouts",
                        class_share_bars(report["classes"], shares["real"], shares["generated"])))
        keys = ("boundary_fraction", "isolated_fraction")
        figures.append(("boundary and isolated pixels of generated vs real layouts", neighbour_fraction_bars(
            {k: stats[k]["real"] for k in keys}, {k: stats[k]["generated"] for k in keys})))
    if report.get("curves"):
        figures.append(("training curves (each run's stats.jsonl)", training_curves(report["curves"])))
    if samples:
        figures.append(("the same layouts through every stage-2 model", side_by_side(samples)))
    return figures
