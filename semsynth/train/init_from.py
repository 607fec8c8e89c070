"""`--init-from MODEL_DIR`: start a fresh run's nets from an exported or converted model folder (fine-tuning).

The folder's own model (config.json + model.safetensors) initialises the task's generator (its `ema_source`, e.g.
"G"); every other net takes the weights of a sub-folder holding a model of the same architecture (a converted
checkpoint's `discriminator/`, a SIS export's `encoder/`, ...). Nets with no match start from their usual
initialisation, and the run says which. Shapes are compared before anything is loaded, and a mismatch names the
tensor and the file. Only weights are taken: learning rates, optimiser state, EMA and step count start fresh, and
a resumed run continues from its own checkpoints, never from the init folder again.
"""
from __future__ import annotations

from pathlib import Path

import torch

from semsynth.models.io import (CONFIG_NAME, WEIGHTS_NAME, arch_name, load_finite, model_folder, read_meta, unwrap,
                                weight_shapes)


def saved_models(folder: Path) -> list[tuple[Path, str]]:
    """(model folder, arch) of `folder` itself and of each direct sub-folder that holds a model, root first."""
    found = [(folder, read_meta(folder)["arch"])]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if (sub / CONFIG_NAME).is_file() and (sub / WEIGHTS_NAME).is_file():
            found.append((sub, read_meta(sub)["arch"]))
    return found


def _arch_of(net: torch.nn.Module) -> str | None:
    try:
        return arch_name(unwrap(net))
    except ValueError:  # a net with no saved form (not in the registry) cannot come from a model folder
        return None


def match_nets(nets: dict[str, torch.nn.Module], generator: str | None, folder: Path) -> dict[str, Path]:
    """{net name: model folder its weights come from}: the generator from the root, other nets from the one
    sub-folder of their architecture (ambiguous or absent: no match)."""
    models = saved_models(folder)
    matches = {}
    for name, net in nets.items():
        if name == "G_ema":
            continue
        arch = _arch_of(net)
        if name == generator:
            if models[0][1] != arch:
                raise ValueError(f"{folder / CONFIG_NAME}: holds a {models[0][1]!r} model, but this task's {name} is "
                                 f"a {arch!r}")
            matches[name] = models[0][0]
            continue
        same = [path for path, a in models[1:] if a == arch]
        if len(same) == 1:
            matches[name] = same[0]
    return matches


def check_fits(net: torch.nn.Module, weights: Path) -> None:
    """ValueError naming the tensor and the file when `weights` does not have `net`'s tensor names and shapes."""
    want = {k: tuple(v.shape) for k, v in unwrap(net).state_dict().items()}
    have = weight_shapes(weights)
    for key in sorted(set(want) | set(have)):
        if key not in have:
            raise ValueError(f"{weights}: tensor {key!r} is missing (the run's net has it, shape {list(want[key])})")
        if key not in want:
            raise ValueError(f"{weights}: tensor {key!r} is not in the run's net (built from the run's config)")
        if want[key] != have[key]:
            raise ValueError(f"{weights}: tensor {key!r} is {list(have[key])}, the run's net needs "
                             f"{list(want[key])}; build the run with the init model's sizes")


def init_nets(nets: dict[str, torch.nn.Module], generator: str | None, path) -> dict[str, str]:
    """Load the matching weights of model folder (or run folder) `path` into `nets` in place; returns
    {net: source folder} for the nets initialised. Every net is checked before any is changed."""
    folder = model_folder(path)
    matches = match_nets(nets, generator, folder)
    for name, source in matches.items():
        check_fits(nets[name], source / WEIGHTS_NAME)
    for name, source in matches.items():
        net = unwrap(nets[name])
        device = next(iter(net.state_dict().values())).device
        tensors = load_finite(source / WEIGHTS_NAME)
        net.load_state_dict({k: v.to(device) for k, v in tensors.items()}, strict=True)
    return {name: str(source) for name, source in matches.items()}
