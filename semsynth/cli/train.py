"""`semsynth train TASK [options]`: builds a RunConfig from the task's Config fields, the engine's TrainConfig and
the data options, then runs (or dry-runs) the engine."""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
from pathlib import Path

from semsynth.cli.options import DATA_OPTION_HELP, data_option, size_arg
from semsynth.train.config import (EVAL_METRICS, PRECISIONS, DataConfig, RunConfig, TrainConfig, build_run_config,
                                   merge_train, preset_layers, task_config_obj)
from semsynth.train.dry_run import dry_run
from semsynth.train.engine import check_files, check_world_size, run_training
from semsynth.train.field_help import field_help
from semsynth.train.tasks import TASKS, task_module

UNSET = object()  # default of every option: tells "given on the command line" from "not given"
# TrainConfig fields with a shorter command-line name
TRAIN_NAMES = {"total_steps": "steps", "total_kimg": "kimg", "num_workers": "workers"}
METAVARS = {"precision": "|".join(PRECISIONS), "device": "auto|cpu|cuda|cuda:N", "init_from": "MODEL_DIR",
            "eval_every": "KIMG", "eval_n": "N", "eval_metric": "|".join(EVAL_METRICS), "eval_segmenter": "RUN"}
COMMON = ("data", "root", "size", "split", "augment", "skip_corrupt", "data_option", "preset", "out", "resume",
          "overwrite", "dry_run")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a model: " + " | ".join(TASKS),
        description="Train one task. `semsynth train TASK --help` lists the options of TASK.")
    p.add_argument("task", metavar="TASK", help=f"what to train: {' | '.join(TASKS)}")
    p.add_argument("options", nargs=argparse.REMAINDER, help="options of TASK (see `semsynth train TASK --help`)")
    p.set_defaults(func=lambda args: train_command(args.task, args.options))


# -- options from dataclass fields --------------------------------------------------------------------------------
def _scalar(kind: str):
    def convert(text: str):
        if kind == "bool":
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")
        try:
            return {"int": int, "float": float, "str": str}[kind](text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
    return convert


def value_parser(annotation: str, default):
    """A converter for a field typed `annotation` (a string: the modules use `from __future__ import annotations`)."""
    ann = str(annotation).replace(" ", "")
    optional = "None" in ann.split("|") or ann.startswith("Optional[")
    if ann.startswith("tuple[") or isinstance(default, tuple):
        inner = ann[len("tuple["):-1].split(",")[0] if ann.startswith("tuple[") else type(default[0]).__name__
        item = _scalar(inner if inner in ("int", "float", "str", "bool") else "str")

        def convert(text: str):
            if optional and text.lower() == "none":
                return None
            parts = [t for t in re.split(r"[,x]" if inner in ("int", "float") else ",", text) if t.strip()]
            return tuple(item(t.strip()) for t in parts)
        return convert, "A,B,..."
    kind = next((k for k in ("bool", "int", "float", "str") if re.search(rf"\b{k}\b", ann)), None)
    if kind is None and default is not None:
        kind = type(default).__name__
    item = _scalar(kind or "str")

    def convert_scalar(text: str):
        if optional and text.lower() == "none":
            return None
        return item(text)
    return convert_scalar, (kind or "str").upper() + ("|none" if optional else "")


def add_field(group, cls_comments, f: dataclasses.Field, flag: str, dest: str) -> None:
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    comment = cls_comments.get(f.name, f.name.replace("_", " "))
    shown = (",".join(map(str, default)) or "empty") if isinstance(default, tuple) else default
    help_text = f"{comment} (default: {shown})".replace("%", "%%")
    if str(f.type).replace(" ", "") == "bool" or isinstance(default, bool):
        group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=UNSET, help=help_text)
        return
    convert, metavar = value_parser(f.type, default)
    metavar = METAVARS.get(f.name, metavar)
    group.add_argument(flag, dest=dest, type=convert, default=UNSET, metavar=metavar, help=help_text)


def build_task_parser(task: str, module) -> argparse.ArgumentParser:
    presets = sorted(module.PRESETS)
    p = argparse.ArgumentParser(
        prog=f"semsynth train {task}", description=(module.__doc__ or "").strip().split("\n\n")[0] or None,
        epilog="Defaults shown are the built-in ones; --preset replaces some of them and options given here "
               "replace the preset. Multi-GPU: torchrun --standalone --nproc_per_node N -m semsynth.cli.main train ...")
    common = p.add_argument_group("run")
    common.add_argument("--data", default=UNSET, metavar="NAME",
                        help=f"data set (semsynth.data.DATASETS) (default: {DataConfig.name})")
    common.add_argument("--root", default=UNSET, metavar="PATH",
                        help="folder of the data set in its official layout (default: None, fine for "
                             "synthetic-streets)")
    common.add_argument("--size", default=UNSET, metavar="HxW", type=size_arg,
                        help=f"training resolution (default: {DataConfig.size[0]}x{DataConfig.size[1]})")
    common.add_argument("--split", default=UNSET, help=f"data split to train on (default: {DataConfig.split})")
    common.add_argument("--augment", default=UNSET, action=_Augment, metavar="diffaug",
                        help="random crop + horizontal flip of the training data (default: "
                             f"{DataConfig.augment}); `--augment diffaug`: DiffAugment of every discriminator "
                             "input, a separate option that combines with crop + flip (sets the task's --diffaug "
                             "to colour, translation, cutout; for layouts translation, cutout)")
    common.add_argument("--skip-corrupt", default=UNSET, action=argparse.BooleanOptionalAction,
                        help="warn about and skip corrupt image files instead of stopping (default: "
                             f"{DataConfig.skip_corrupt})")
    common.add_argument("--data-option", default=UNSET, action=_Append, metavar="KEY=VALUE", type=data_option,
                        help=DATA_OPTION_HELP)
    common.add_argument("--preset", default=UNSET, metavar="|".join(presets) or "NAME",
                        help="named set of task and engine settings (default: tiny)")
    common.add_argument("--out", default=UNSET, metavar="RUN_DIR",
                        help="run directory (default: runs/NNNNN-TASK-DATA, numbered)")
    common.add_argument("--resume", default=UNSET, action="store_true",
                        help="continue the run in --out (also a copied or moved run folder) from its newest "
                             "usable checkpoint (default: False)")
    common.add_argument("--overwrite", default=UNSET, action="store_true",
                        help="--out holds an earlier run: delete its config, checkpoints, samples, logs and exported "
                             "model, then start afresh (default: False)")
    common.add_argument("--dry-run", default=UNSET, action="store_true",
                        help="print the config and each network's parameter count, then exit; reads no "
                             "training data (data sets on disk count only their class set, so --root may be "
                             "missing) and no weights, then names any weight file the run needs and lacks "
                             "(default: False)")
    engine = p.add_argument_group("engine (TrainConfig)")
    comments = field_help(TrainConfig)
    taken = set(COMMON)
    for f in dataclasses.fields(TrainConfig):
        name = TRAIN_NAMES.get(f.name, f.name)
        taken.add(name)
        add_field(engine, comments, f, "--" + name.replace("_", "-"), f"train__{f.name}")
    group = p.add_argument_group(f"task {task} ({module.__name__}.Config)")
    comments = field_help(module.Config)
    for f in dataclasses.fields(module.Config):
        flag = f"--task-{f.name}" if f.name in taken else f"--{f.name}"  # a clash with an engine option
        add_field(group, comments, f, flag.replace("_", "-"), f"task__{f.name}")
    return p


class _Augment(argparse.Action):
    """--augment / --no-augment (the data set's crop + flip, DataConfig.augment) and --augment diffaug, which
    stores `augment_policy` for `resolve_run` to turn into the task's diffaug option."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings + ["--no-" + s[2:] for s in option_strings], dest, nargs="?", **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        if values is not None and (values != "diffaug" or option_string.startswith("--no-")):
            parser.error(f"{option_string} takes no value or `diffaug`, got {values!r}")
        if values == "diffaug":
            setattr(namespace, "augment_policy", "diffaug")
        else:
            setattr(namespace, self.dest, not option_string.startswith("--no-"))


def diffaug_default(task: str) -> str:
    """The DiffAugment policy `--augment diffaug` gives `task` (its module's DIFFAUG_POLICY)."""
    policy = getattr(task_module(task), "DIFFAUG_POLICY", None)
    if policy is None:
        with_d = [name for name in TASKS if hasattr(TASKS[name], "DIFFAUG_POLICY")]
        raise ValueError(f"--augment diffaug augments discriminator inputs; task {task!r} has no discriminator "
                         f"(tasks with one: {with_d})")
    return policy


class _Append(argparse.Action):
    """action="append" for an option whose default is UNSET."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = getattr(namespace, self.dest)
        setattr(namespace, self.dest, ([] if given is UNSET else list(given)) + [values])


# -- running ------------------------------------------------------------------------------------------------------
def next_run_dir(task: str, data: str, parent="runs") -> Path:
    parent = Path(parent)
    numbers = [int(p.name[:5]) for p in parent.glob("*") if p.name[:5].isdigit()] if parent.is_dir() else []
    return parent / f"{max(numbers, default=-1) + 1:05d}-{task}-{data}"


def resolve_run(task: str, given: dict) -> tuple[RunConfig, bool, bool]:
    """(RunConfig, resume, dry_run) from the options given on the command line."""
    train = {k[len("train__"):]: v for k, v in given.items() if k.startswith("train__")}
    task_over = {k[len("task__"):]: v for k, v in given.items() if k.startswith("task__")}
    if given.get("augment_policy") == "diffaug":  # an explicit --diffaug POLICY wins
        task_over.setdefault("diffaug", diffaug_default(task))
    resume, dry = bool(given.get("resume", False)), bool(given.get("dry_run", False))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if resume:
        if "out" not in given:
            raise ValueError("--resume needs --out RUN_DIR (the run to continue)")
        saved_path = Path(given["out"]) / "config.json"
        if saved_path.is_file():  # continue the saved config; options given here must be allowed to change
            saved = RunConfig.from_json(saved_path)
            if saved.task != task:
                raise ValueError(f"{given['out']} is a {saved.task!r} run, not {task!r}")
            preset, layer = saved.preset, {}
            if given.get("preset", saved.preset) != saved.preset:  # the engine lists what the new preset changes
                preset = given["preset"]
                layer = preset_layer(task, preset, {**saved.task_config, **task_over})
            data_given = {k: given[k] for k in ("root", "size", "split", "augment", "skip_corrupt") if k in given}
            if "data" in given:
                data_given["name"] = given["data"]
            if "data_option" in given:
                data_given["options"] = {**saved.data.options, **dict(given["data_option"])}
            data = dataclasses.replace(saved.data, **data_given)
            run = RunConfig.from_dict({
                **saved.to_dict(), "out": str(given["out"]), "preset": preset,  # the folder resumed is the run's home
                "task_config": {**saved.task_config, **layer.get("task", {}), **task_over},
                "train": merge_train(dataclasses.asdict(saved.train), layer.get("train", {}), train),
                "data": dataclasses.asdict(data)})
            check_world_size(run.train.batch, world)
            return run, True, dry
    data = given.get("data", DataConfig.name)
    out = given.get("out") or next_run_dir(task, data)
    run = build_run_config(task, data=data, root=given.get("root"), size=given.get("size", DataConfig.size),
                           preset=given.get("preset", "tiny"), task_overrides=task_over, train_overrides=train,
                           out=out, split=given.get("split", DataConfig.split),
                           augment=given.get("augment", DataConfig.augment),
                           skip_corrupt=given.get("skip_corrupt", DataConfig.skip_corrupt),
                           data_options=dict(given.get("data_option", [])))
    check_world_size(run.train.batch, world)
    return run, resume, dry


def preset_layer(task: str, preset: str, task_config: dict) -> dict:
    """PRESETS[preset] of the task module with its variants that match `task_config`, as one
    {"task": {...}, "train": {...}}."""
    module = task_module(task)
    presets = module.PRESETS
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r} for task {task!r}; choose from {sorted(presets)}")
    layers = preset_layers(presets[preset], module, task_config, f"PRESETS[{preset!r}] of {module.__name__}")
    return {"task": {k: v for layer in layers for k, v in layer.get("task", {}).items()},
            "train": merge_train(*[layer.get("train", {}) for layer in layers])}


def train_command(task: str, argv: list[str]) -> int:
    module = task_module(task)
    args = build_task_parser(task, module).parse_args(argv)
    given = {k: v for k, v in vars(args).items() if v is not UNSET}
    run, resume, dry = resolve_run(task, given)
    overwrite = bool(given.get("overwrite", False))
    if resume and overwrite:
        raise ValueError("--resume continues the run in --out and --overwrite deletes it: choose one")
    if dry:
        print(dry_run(run), flush=True)
        check_files(task_module(run.task), task_config_obj(run.task, run.task_config))  # the run would need them
        return 0
    run_training(run, resume=resume, overwrite=overwrite)
    return 0
