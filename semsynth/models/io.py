"""save_pretrained / from_pretrained: a model folder is `config.json` + `model.safetensors`; nothing is pickled."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from semsynth.io_atomic import atomic_write
from semsynth.models.registry import arch_name, resolve

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
ENCODER_FOLDER = "encoder"  # a sub-folder of a SIS model folder: its VAE style encoder, when it was trained with one
atomic_write_bytes = atomic_write  # the name this module used before semsynth/io_atomic.py


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """Strip DDP (`.module`) and torch.compile (`._orig_mod`) wrappers."""
    while True:
        if isinstance(model, torch.nn.parallel.DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def state_dict_for_saving(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in unwrap(model).state_dict().items()}


def save_pretrained(model: torch.nn.Module, folder, extra: dict | None = None) -> Path:
    """Write `folder/config.json` ({"arch", "config", **extra}) and `folder/model.safetensors`.

    `extra` holds what a user of the model needs beyond its constructor: e.g. {"task": "layout", "output":
    "labels", "class_set": "cityscapes", "size": [128, 256]}.
    """
    model = unwrap(model)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"arch": arch_name(model), "config": dataclasses.asdict(model.cfg), **(extra or {})}
    tensors = state_dict_for_saving(model)
    atomic_write(folder / WEIGHTS_NAME, lambda p: save_file(tensors, p, metadata={"format": "pt"}))
    atomic_write(folder / CONFIG_NAME, lambda p: Path(p).write_text(json.dumps(meta, indent=2)))
    return folder


def build_from_config(meta: dict) -> torch.nn.Module:
    model_cls, cfg_cls = resolve(meta["arch"])
    fields = {f.name for f in dataclasses.fields(cfg_cls)}
    unknown = set(meta["config"]) - fields
    if unknown:
        raise ValueError(f"config for {meta['arch']} has unknown keys {sorted(unknown)}")
    cfg = cfg_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()})
    return model_cls(cfg)


def read_meta(folder) -> dict:
    folder = Path(folder)
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a semsynth model folder: {CONFIG_NAME} is missing")
    return json.loads(path.read_text())


def from_pretrained(folder, device="cpu") -> torch.nn.Module:
    """Rebuild a model from `folder` (config.json + model.safetensors), load weights strictly, set eval()."""
    folder = Path(folder)
    meta = read_meta(folder)
    model = build_from_config(meta)
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise FileNotFoundError(f"{weights} is missing")
    model.load_state_dict(load_file(str(weights)), strict=True)
    model.meta = meta
    return model.to(device).eval()


def model_folder(path) -> Path:
    """A run directory (holding `model/`) or a model folder (config.json + model.safetensors) -> the model folder."""
    path = Path(path)
    if (path / CONFIG_NAME).is_file() and (path / WEIGHTS_NAME).is_file():
        return path
    if (path / "model" / CONFIG_NAME).is_file():
        return path / "model"
    raise FileNotFoundError(f"{path} is neither a model folder ({CONFIG_NAME} + {WEIGHTS_NAME}) nor a run "
                            "directory with model/ inside")


def load_model(path, device="cpu", tasks: tuple[str, ...] | None = None) -> torch.nn.Module:
    """from_pretrained on a run directory or model folder; `tasks` lists the accepted `task` values of its
    config.json (e.g. ("layout",)), so a wrong folder fails with a message instead of a confusing forward."""
    folder = model_folder(path)
    model = from_pretrained(folder, device=device)
    task = model.meta.get("task")
    if tasks is not None and task not in tasks:
        raise ValueError(f"{folder} holds a {task!r} model; expected {' or '.join(repr(t) for t in tasks)}")
    return model
