"""What a training run writes into its run folder, and the rule before a fresh run starts there: the folder must
be new or empty, so two runs are never silently mixed (a new config.json next to old checkpoints, old samples
and stats lines next to new ones). `--resume` continues the run in the folder; `--overwrite` deletes what an
earlier run wrote (and only that) first.
"""
from __future__ import annotations

import shutil
from pathlib import Path

# what the engine writes, as glob patterns (the dotted ones are leftovers of a crash in an atomic write or export)
RUN_OUTPUTS = ("config.json", ".config.json.*", "checkpoints", "samples", "tb", "stats.jsonl", ".stats.jsonl.*",
               "model", ".model-tmp", ".model-old", "model-best", ".model-best-tmp", ".model-best-old")


def run_outputs(run_dir) -> list[Path]:
    """The entries of `run_dir` a training run writes, sorted; [] when the folder does not exist."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    return sorted({p for pattern in RUN_OUTPUTS for p in run_dir.glob(pattern)})


def check_fresh(run_dir) -> None:
    """Raise ValueError when `run_dir` exists and holds anything: a fresh run there would mix with it."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"run folder {run_dir} is a file, not a folder; choose another --out")
    entries = sorted(p.name for p in run_dir.iterdir()) if run_dir.is_dir() else []
    if entries:
        shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
        raise ValueError(f"run folder {run_dir} is not empty (it holds {shown}); pass --resume to continue the run "
                         f"there, --overwrite to delete its checkpoints, samples, logs and exported model and start "
                         f"again, or choose another --out")


def remove_outputs(run_dir) -> list[Path]:
    """Delete what a training run wrote into `run_dir` (nothing else); returns the removed paths."""
    removed = run_outputs(run_dir)
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return removed
