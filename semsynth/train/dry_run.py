"""`semsynth train TASK --dry-run`: the resolved config and each network's parameter count, without reading any
training data or weight file, so a run can be sized before its data set is downloaded.

Data sets read from disk are represented by `BlankData`: their class set (which sizes the nets), the training size,
the task's data mode and one blank item for the task's validate(). Data sets generated in memory
(synthetic-streets) are built for real: they read no files, and building them checks their options. The nets are
built on the meta device (shapes only: no memory, no initialisation), so paper-size nets cost no RAM. Missing
local files (VGG-19 weights) are the caller's last step: `engine.check_files` after the table is printed.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch

from semsynth.classes import class_set_from_json, get_class_set
from semsynth.train.config import RunConfig, task_config_obj
from semsynth.train.engine import build_dataset, build_task, parameter_table, reader_options
from semsynth.train.tasks import task_module

ON_DISK = ("cityscapes", "ade20k", "coco-stuff", "camvid", "folder")  # readers of files: never read by a dry run


class BlankData(torch.utils.data.Dataset):
    """A data set on disk as a dry run sees it: class set, size, mode and one all-zero item (label id 0)."""

    def __init__(self, name: str, classes, size, mode: str, edges: bool = False):
        self.name, self.classes, self.size, self.mode, self.edges = name, classes, tuple(size), mode, edges

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> dict:
        H, W = self.size
        item = {"name": f"blank {self.name} item"}
        if self.mode != "images":
            item["label"] = torch.zeros(H, W, dtype=torch.long)
        if self.mode != "labels":
            item["image"] = torch.zeros(3, H, W)
        if self.edges:
            item["edges"] = torch.zeros(1, H, W)
        return item


def class_set_of(run: RunConfig):
    """The class set of an on-disk data set without reading its items (folder: only root/classes.json)."""
    if run.data.name != "folder":
        return get_class_set(run.data.name)
    if run.data.root is None:
        raise ValueError("the folder data set needs --root: its classes.json gives the class count")
    return class_set_from_json(Path(run.data.root) / "classes.json")


def dry_run_dataset(run: RunConfig):
    module = task_module(run.task)
    cfg = task_config_obj(run.task, run.task_config)
    if run.data.name not in ON_DISK:
        return build_dataset(run, module, cfg)
    options = reader_options(run, module, cfg)
    return BlankData(run.data.name, class_set_of(run), run.data.size, module.data_mode(cfg),
                     edges=bool(options.get("use_instance_edges")))


def dry_run(run: RunConfig, dataset=None) -> str:
    """The resolved config JSON, the data set line and the parameter table (nets built on the meta device)."""
    dataset = dry_run_dataset(run) if dataset is None else dataset
    _, _, dataset, task = build_task(run, dataset, files=False, on_meta=True)
    nets = dict(task.nets)
    if task.ema_source is not None:
        nets["G_ema"] = copy.deepcopy(task.nets[task.ema_source]).requires_grad_(False)  # as training makes it
    if isinstance(dataset, BlankData):
        about = f"{dataset.classes.num_classes} classes ({dataset.classes.name}) at {dataset.size}; not read by " \
                f"--dry-run"
    else:
        about = f"{len(dataset)} items of {tuple(run.data.size)}"
    return f"{run.to_json()}\n\ndata set: {run.data.name}, {about}\n{parameter_table(nets)}"
