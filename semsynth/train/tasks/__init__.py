"""Trainable things, one file each. TASKS maps the `semsynth train <name>` command to its module.

Every task module defines all of these (semsynth.train.task.TASK_MODULE_API; shared defaults no_files and
no_data_options live in semsynth/train/task.py):
    Config                      frozen dataclass of the task's hyper-parameters (flat: str/int/float/bool/tuple
                                fields, each with a default and a trailing comment, which is its --help text:
                                semsynth.train.field_help)
    PRESETS: dict[str, dict]    "tiny" | "small" | "paper" -> {"task": {field: value}, "train": {field: value}}
                                overrides of Config and of the engine's TrainConfig (batch, total_kimg, ...);
                                optional "variants": {field: {value: {"task": .., "train": ..}}} apply on top
                                when Config.field resolves to value (e.g. per --mode or --arch)
    data_mode(cfg) -> str       which data-set mode it reads: paired | unpaired | labels | images
    build(cfg, dataset) -> Task the Task (semsynth/train/task.py) with its nets built on the CPU; sizes and
                                class counts come from `dataset` (dataset.size, dataset.classes), never from cfg
    validate(cfg, dataset)      raise ValueError for an impossible config before any work
    check_files(cfg)            raise FileNotFoundError for a missing local file (e.g. weights), naming
                                it and where to put it; runs before the data set is built, and after a dry run's
                                parameter table
    data_options(cfg) -> dict   extra reader options (e.g. {"use_instance_edges": True})
"""
from __future__ import annotations

from types import ModuleType

from semsynth.train.tasks import image, layout, segmenter, sis

TASKS: dict[str, ModuleType] = {
    "layout": layout,
    "sis": sis,
    "image": image,
    "segmenter": segmenter,
}


def task_module(name: str) -> ModuleType:
    """TASKS[name], with an error that lists the choices."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {sorted(TASKS)}")
    return TASKS[name]
