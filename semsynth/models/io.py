"""save_pretrained / from_pretrained: a model folder is `config.json` + `model.safetensors`; nothing is pickled."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from semsynth.classes import class_set_from_dict
from semsynth.io_atomic import atomic_write
from semsynth.models import (dcgan, discriminators, spade, stylegan2, unet, wavelet_discriminator,
                             wavelet_generator)
from semsynth.models.meta import building_on_meta

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
ENCODER_FOLDER = "encoder"  # a sub-folder of a SIS model folder: its VAE style encoder, when it was trained with one
DISCRIMINATOR_FOLDER = "discriminator"  # a sub-folder: the discriminator, kept so training can continue

# config.json "arch" -> (model class, its config class). The names are written into every exported model folder:
# renaming one breaks folders already on disk, so add names, never change them.
ARCHS: dict[str, tuple[type[torch.nn.Module], type]] = {
    "stylegan2-generator": (stylegan2.Generator, stylegan2.GeneratorConfig),
    "stylegan2-discriminator": (stylegan2.Discriminator, stylegan2.DiscriminatorConfig),
    "dcgan-generator": (dcgan.Generator, dcgan.GeneratorConfig),
    "dcgan-discriminator": (dcgan.Discriminator, dcgan.DiscriminatorConfig),
    "spade-generator": (spade.SPADEGenerator, spade.SPADEGeneratorConfig),
    "spade-encoder": (spade.ConvEncoder, spade.ConvEncoderConfig),
    "spade-discriminator": (discriminators.MultiscalePatchDiscriminator,
                            discriminators.MultiscalePatchDiscriminatorConfig),
    "unet": (unet.UNet, unet.UNetConfig),
    "usis-wavelet-generator": (wavelet_generator.WaveletSPADEGenerator, wavelet_generator.WaveletSPADEGeneratorConfig),
    "wavelet-discriminator": (wavelet_discriminator.WaveletDiscriminator,
                              wavelet_discriminator.WaveletDiscriminatorConfig),
}


def arch_name(model: torch.nn.Module) -> str:
    """The ARCHS key of a model instance."""
    for name, (model_cls, _) in ARCHS.items():
        if type(model) is model_cls:
            return name
    raise ValueError(f"{type(model).__name__} is not listed in semsynth.models.io.ARCHS")


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
    if meta["arch"] not in ARCHS:
        raise ValueError(f"unknown arch {meta['arch']!r}; choose from {sorted(ARCHS)}")
    model_cls, cfg_cls = ARCHS[meta["arch"]]
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
    try:
        meta = json.loads(path.read_text())
    except (UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(meta, dict) or not isinstance(meta.get("arch"), str) or not isinstance(meta.get("config"), dict):
        raise ValueError(f"{path}: expected a JSON object with \"arch\" (a name) and \"config\" (an object)")
    return meta


def weight_shapes(weights: Path) -> dict[str, tuple[int, ...]]:
    """name -> shape of every tensor in a safetensors file, from its header alone (nothing is loaded)."""
    try:
        with safe_open(str(weights), framework="pt") as f:
            return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{weights}: not a readable safetensors file ({err})") from err


def config_shapes(meta: dict, config: Path) -> dict[str, tuple[int, ...]]:
    """name -> shape of every tensor the model described by `meta` holds, found by building it on the meta device:
    no memory, so a config asking for absurd sizes costs nothing before it is compared with the weights."""
    try:
        with building_on_meta():
            model = build_from_config(meta)
    except Exception as err:  # noqa: BLE001 - whatever the constructor raises, the config in this file caused it
        raise ValueError(f"{config}: cannot build {meta['arch']!r} from its config ({err})") from err
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def check_shapes(expected: dict, found: dict, weights: Path, config: Path) -> None:
    """Raise naming both files when the config's tensors and the file's tensors differ in names or shapes."""
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{weights} does not fit {config}: {len(missing)} tensors missing {missing[:3]}, "
                         f"{len(unexpected)} unexpected {unexpected[:3]}")
    for name, shape in expected.items():
        if found[name] != shape:
            raise ValueError(f"{weights}: tensor {name!r} is {list(found[name])} but the config in {config} needs "
                             f"{list(shape)}; the two files do not belong together")


def load_finite(weights: Path) -> dict[str, torch.Tensor]:
    """The tensors of `weights`; NaN or Inf in any of them (a diverged run's export) refuses the file."""
    try:
        tensors = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{weights}: not a readable safetensors file ({err})") from err
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            bad = int((~torch.isfinite(t)).sum())
            raise ValueError(f"{weights}: tensor {name!r} holds {bad} NaN/Inf values of {t.numel()}; refusing to "
                             "load it (was it exported from a diverged run?)")
    return tensors


def from_pretrained(folder, device="cpu") -> torch.nn.Module:
    """Rebuild a model from `folder` (config.json + model.safetensors), load weights strictly, set eval().

    Every check comes before anything of model size is allocated: the config is compared with the weights' header,
    so a config asking for a million channels fails in milliseconds, and each error names the file at fault."""
    folder = Path(folder)
    meta = read_meta(folder)
    config, weights = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    if not weights.is_file():
        raise FileNotFoundError(f"{weights} is missing")
    if "classes" in meta:
        _check_classes(meta["classes"], config)
    check_shapes(config_shapes(meta, config), weight_shapes(weights), weights, config)
    tensors = load_finite(weights)
    model = build_from_config(meta)
    model.load_state_dict(tensors, strict=True)
    model.meta = meta
    return model.to(device).eval()


def _check_classes(classes, config: Path) -> None:
    try:
        class_set_from_dict(classes)
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(f"{config}: bad \"classes\" entry ({err})") from err


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
