"""A/B timing for benches that compare two implementations of one step on a shared, noisy machine.

The two sides run alternately (A B, B A, A B, ...) in one process, so a slow spell of the machine (another job,
thermal throttling) lands on both sides instead of on one; the order flips every pair so neither side always runs
on caches the other warmed. Medians, not means: one outlier pair does not move them. Pure helpers only; the
callers decide what a step is and how to wait for the device (`sync`).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Row:
    """One line of the comparison table; seconds are medians, None where that side was not run."""
    step: str
    official: float | None
    semsynth: float | None
    compile_s: float | None = None      # one-off torch.compile time of the semsynth side (not in `semsynth`)
    unit: str = "s"                     # "s" for times, "MiB" for memory
    note: str = ""
    samples: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """official / semsynth: > 1 means semsynth is faster (throughput ratio) or smaller (memory)."""
        if not self.official or not self.semsynth:
            return None
        return self.official / self.semsynth


def round_order(i: int, sides: int) -> list[int]:
    """Sides in the order round `i` runs them: rotated by one each round (two sides: A B, then B A)."""
    return [(i + k) % sides for k in range(sides)]


def interleaved(fns: list[Callable[[], None] | None], rounds: int, warmup: int | list[int] = 1,
                sync: Callable[[], None] = lambda: None, clock: Callable[[], float] = time.perf_counter
                ) -> tuple[list[list[float]], list[float]]:
    """(seconds of each timed call per side, seconds of all warm-up calls per side) over `rounds` rounds in which
    every side runs once, after `warmup` untimed calls of each (one count for all sides, or one per side: a
    compiled side needs more, and its compile time is in its warm-up). A side given as None is skipped (its lists
    stay empty), so one-sided runs share the code path."""
    warmups = [warmup] * len(fns) if isinstance(warmup, int) else list(warmup)
    warm = [0.0] * len(fns)
    for call in range(max(warmups, default=0)):
        for side, fn in enumerate(fns):
            if fn is not None and call < warmups[side]:
                sync()
                start = clock()
                fn()
                sync()
                warm[side] += clock() - start
    times: list[list[float]] = [[] for _ in fns]
    for i in range(rounds):
        for side in round_order(i, len(fns)):
            fn = fns[side]
            if fn is None:
                continue
            sync()
            start = clock()
            fn()
            sync()
            times[side].append(clock() - start)
    return times, warm


def compile_seconds(warmup_seconds: float, warmup_calls: int, steady: float | None) -> float | None:
    """The one-off cost in `warmup_calls` calls that took `warmup_seconds` in all, beyond their steady-state time."""
    if steady is None:
        return None
    return max(0.0, warmup_seconds - warmup_calls * steady)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _cell(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def table(rows: list[Row]) -> str:
    """The Markdown table: step | official | semsynth | ratio (official / semsynth) | compile s."""
    lines = ["| step | official | semsynth | ratio | compile s |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        digits = 0 if r.unit == "MiB" else 3
        unit = f" {r.unit}"
        official = _cell(r.official, digits) + (unit if r.official is not None else "")
        mine = _cell(r.semsynth, digits) + (unit if r.semsynth is not None else "")
        ratio = "–" if r.ratio is None else f"{r.ratio:.2f}"
        step = r.step + (f" ({r.note})" if r.note else "")
        lines.append(f"| {step} | {official} | {mine} | {ratio} | {_cell(r.compile_s, 1)} |")
    return "\n".join(lines)
