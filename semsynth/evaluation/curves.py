"""Training curves for the comparison report: a run's stats.jsonl cut down to plain lists on its kimg axis.

Every numeric field of a stats line becomes a curve (losses, img/s, data_wait_share, and whatever a run logs
besides, such as in-training metrics), so the report follows the log without a list of names to keep in step."""
from __future__ import annotations

import json
import math
from pathlib import Path

NOT_CURVES = ("step", "kimg", "seconds", "skipped_steps", "bad_streak")  # bookkeeping, not something to watch
MAX_POINTS = 200  # per curve: enough to see a trend, small enough that report.json stays readable


def read_stats(path) -> list[dict]:
    """The lines of a stats.jsonl as dicts; a torn last line (a run killed mid-write) is left out."""
    records = []
    for line in Path(path).read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("kimg"), (int, float)):
            records.append(record)
    return records


def _number(value) -> float | None:
    """A finite float, or None (JSON has no NaN; a diverged loss shows as a gap)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def curves_of(records: list[dict], max_points: int = MAX_POINTS) -> dict:
    """{"kimg": [...], "values": {name: [...]}} of stats records, every list aligned with "kimg"; a field missing
    from a line is None there. More than `max_points` lines are thinned to evenly spaced ones, first and last
    kept."""
    if len(records) > max_points:
        step = (len(records) - 1) / (max_points - 1)
        records = [records[round(i * step)] for i in range(max_points)]
    names = []
    for record in records:
        names += [k for k, v in record.items() if k not in NOT_CURVES and k not in names
                  and isinstance(v, (int, float)) and not isinstance(v, bool)]
    return {"kimg": [float(r["kimg"]) for r in records],
            "values": {name: [_number(r.get(name)) for r in records] for name in names}}


def run_curves(run, max_points: int = MAX_POINTS) -> dict | None:
    """Curves of a run folder's stats.jsonl; None when `run` is not a folder holding one (a model folder, a
    TorchScript file) or the log has no complete line yet."""
    stats = Path(run) / "stats.jsonl"
    if not stats.is_file():
        return None
    records = read_stats(stats)
    return curves_of(records, max_points) if records else None
