"""Trainable things, one file each. TASKS maps the `semsynth train <name>` command to its module, which
defines a config dataclass `Config`, `PRESETS` (name -> Config factory) and the Task class `TASK`."""
from __future__ import annotations

import importlib

TASKS: dict[str, str] = {
    "layout": "semsynth.train.tasks.layout",
    "sis": "semsynth.train.tasks.sis",
    "image": "semsynth.train.tasks.image",
    "segmenter": "semsynth.train.tasks.segmenter",
}


def task_module(name: str):
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {sorted(TASKS)}")
    return importlib.import_module(TASKS[name])
