"""`semsynth evaluate verify`: recompute a reported number from the inputs its protocol block names and compare.

A number is trusted when it can be made again: this module flattens stored and recomputed results into
"key -> value" and compares them (numbers within TOLERANCE relative, hashes exactly), and recomputes the rows
of a `compare` report from the sample folders compare wrote beside it (out/samples/). Rerunning an `evaluate`
result is the CLI's own job (semsynth/cli/evaluate.py), since it replays that command's options.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from semsynth.data.labels import colorize_batch
from semsynth.evaluation import compare, protocol
from semsynth.evaluation.metrics.images import list_images, list_labels, read_label, read_rgb
from semsynth.evaluation.metrics.layout import class_shares, js_divergence
from semsynth.inference.segment import load_segmenter

TOLERANCE = 1e-6  # relative: a recomputation on the same inputs differs only by float rounding
ROW_METRICS = ("fid", "kid_mean", "kid_std", "js_divergence", "miou")  # what compare rows hold and verify remakes


def numeric_leaves(value, prefix: str = "") -> dict[str, float | int | None]:
    """{"a.b[2]": number} for every number (and null) below `value`; strings and booleans are left out."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(numeric_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, (list, tuple)):
        out = {}
        for i, v in enumerate(value):
            out.update(numeric_leaves(v, f"{prefix}[{i}]"))
        return out
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return {prefix: value}
    return {}


def same(stored, recomputed, tolerance: float = TOLERANCE) -> bool:
    """Equal strings/nulls, or numbers within `tolerance` relative (NaN equals NaN: both are "no value")."""
    if isinstance(stored, (int, float)) and isinstance(recomputed, (int, float)):
        if math.isnan(stored) or math.isnan(recomputed):
            return math.isnan(stored) and math.isnan(recomputed)
        return abs(stored - recomputed) <= tolerance * max(abs(stored), abs(recomputed))
    return stored == recomputed


def table(stored: dict, recomputed: dict, tolerance: float = TOLERANCE) -> list[tuple[str, object, object, bool]]:
    """(key, stored, recomputed, ok) for every key of `recomputed`; a key the stored result lacks is a mismatch."""
    return [(k, stored.get(k, "missing"), v, same(stored.get(k, "missing"), v, tolerance))
            for k, v in recomputed.items()]


def format_table(rows) -> str:
    def cell(v):
        return f"{v:.10g}" if isinstance(v, float) else str(v)
    width = max([len(k) for k, *_ in rows] + [3])
    lines = [f"{'key':<{width}}  {'stored':>22}  {'recomputed':>22}  check"]
    for key, stored, recomputed, ok in rows:
        lines.append(f"{key:<{width}}  {cell(stored):>22}  {cell(recomputed):>22}  {'ok' if ok else 'DIFFERS'}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- compare reports
def _read_folder(folder: Path, labels: bool) -> torch.Tensor:
    if labels:
        return torch.stack([read_label(p) for p in list_labels(folder)])
    return torch.stack([read_rgb(p) for p in list_images(folder)])


def recompute_compare(report: dict, report_dir, device="cpu", batch: int = 16) -> dict:
    """Stored-key -> recomputed value for a compare report: each row's FID/KID/JS/mIoU from its sample folder
    against the real set read again (no cache), the segmenter's real mIoU, and the weight hashes."""
    block = report["protocol"]
    inputs, report_dir = block["inputs"], Path(report_dir)
    size, n = tuple(inputs["size"]), inputs["n"]
    real_labels, real_photos, dataset = compare.real_set(inputs["data"], inputs["root"], inputs["split"], size, n,
                                                         inputs["seed"])
    classes = dataset.classes
    measured = "weights_sha256" in block.get("inception", {})
    bank = compare.FeatureBank(inputs["inception"], device, batch, enabled=measured)
    out = {}
    real_feats = {}
    if measured:
        if bank.extractor is None:
            raise FileNotFoundError(f"the report has FID/KID but the Inception weights are missing: {bank.skipped}")
        out["protocol.inception.weights_sha256"] = bank.extractor.weights_sha256
        real_feats = {"photos": bank(real_photos), "layouts": bank(colorize_batch(real_labels, classes))}
    seg_model = None
    if block.get("segmenter"):
        seg = block["segmenter"]
        out["protocol.segmenter.sha256"] = protocol.segmenter_provenance(seg["path"])["sha256"]
        seg_model = load_segmenter(seg["path"], device=device, sha256=seg["sha256"])
        out["protocol.segmenter.miou_real"] = compare._iou(seg_model, real_photos, real_labels, classes, batch)["miou"]
    if len(inputs["samples"]) != len(report["rows"]):
        raise ValueError(f"{report_dir}: {len(report['rows'])} rows but {len(inputs['samples'])} sample folders")
    for i, (row, entry) in enumerate(zip(report["rows"], inputs["samples"])):
        labels = _read_folder(report_dir / entry["labels"], True) if "labels" in entry else None
        images = colorize_batch(labels, classes) if entry["kind"] == "layouts" else \
            _read_folder(report_dir / entry["images"], False)
        new = compare._gan_row(row["name"], row["against"], bank, real_feats.get(entry["kind"]), images)
        if entry["kind"] == "layouts":
            c, ignore = classes.num_classes, classes.ignore_index
            new["js_divergence"] = float(js_divergence(class_shares(real_labels, c, ignore),
                                                       class_shares(labels, c, ignore)))
        elif seg_model is not None and labels is not None:
            new["miou"] = compare._iou(seg_model, images, labels, classes, batch)["miou"]
        out.update({f"rows[{i}].{k}": new[k] for k in ROW_METRICS if k in row})
    return out


def stored_compare(report: dict) -> dict:
    """The stored side of `recompute_compare`, under the same keys."""
    out = {f"rows[{i}].{k}": row[k] for i, row in enumerate(report["rows"]) for k in ROW_METRICS if k in row}
    block = report["protocol"]
    out["protocol.inception.weights_sha256"] = block.get("inception", {}).get("weights_sha256")
    if block.get("segmenter"):
        out["protocol.segmenter.sha256"] = block["segmenter"]["sha256"]
        out["protocol.segmenter.miou_real"] = block["segmenter"]["miou_real"]
    return out
