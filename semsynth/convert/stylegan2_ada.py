"""stylegan2-ada-pytorch network pickles (`network-snapshot-*.pkl`) -> a semsynth image model folder.

The pickle is read by safe_pickle.py (a restricted unpickler: the network source it carries is never run). From
its networks' constructor arguments (`_init_kwargs`) this builds semsynth's StyleGAN2 (models/stylegan2.py):

    MODEL_DIR/                   G_ema, the generator the official code samples from (from_pretrained returns it)
        config.json              {"arch", "config", "task": "image", "output": "image", "size", "dataset",
                                  "converted_from": {the pickle, its sha256, the official constructor arguments}}
        model.safetensors
        discriminator/           D, written by the same save_pretrained, so training can continue from it

The pickle's non-EMA G is not exported: semsynth's own exports hold the EMA generator too, so a fine-tuning run
starts from G_ema either way (as a trained semsynth run's model folder would). The AugmentPipe is not kept.

Only what semsynth's StyleGAN2 computes identically is accepted: unconditional networks (c_dim 0), G 'skip' and
D 'resnet' architectures, the [1,3,3,1] FIR filter, lrelu, 3x3 synthesis convs with noise, a tracked w_avg.
Anything else is refused with a message naming the constructor argument. The official `num_fp16_res` only picks
half precision on GPUs; semsynth runs float32, i.e. the official `force_fp32=True` numbers. The official
`conv_clamp` (256) maps onto semsynth's conv_clamp; noise_const buffers and w_avg come from the pickle.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch

from semsynth.convert import safe_pickle
from semsynth.file_hash import sha256_file
from semsynth.models.io import save_pretrained
from semsynth.models.layers import setup_filter
from semsynth.models.stylegan2 import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig

DISCRIMINATOR_FOLDER = "discriminator"
FIR_TAPS = [1, 3, 3, 1]


def convert(source, out, *, size=None, class_set=None, which_epoch="latest") -> Path:
    """Write the model folder `out` from the pickle `source`; returns `out`."""
    source, out = Path(source), Path(out)
    if class_set is not None:
        raise ValueError(f"--class-set does not apply to {source}: stylegan2-ada networks generate photos")
    if which_epoch != "latest":
        raise ValueError(f"--which-epoch does not apply to {source}: the pickle itself is the snapshot")
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such file (expected a stylegan2-ada network-snapshot .pkl)")
    snapshot = safe_pickle.load(source)
    if not isinstance(snapshot, dict) or not safe_pickle.is_module(snapshot.get("G_ema")):
        raise ValueError(f"{source}: not a stylegan2-ada network snapshot (no G_ema network in it)")
    where = str(source)
    G_ema = generator_from(snapshot["G_ema"], f"{where}: G_ema")
    resolution = list(G_ema.cfg.resolution)
    if size is not None and tuple(size) != tuple(resolution):
        raise ValueError(f"{source} holds {resolution[0]}x{resolution[1]} networks; --size {size[0]}x{size[1]} "
                         "cannot change that")
    provenance = {"kind": "stylegan2-ada", "source": str(source), "sha256": sha256_file(source),
                  "init_kwargs": {name: _json_safe(safe_pickle.init_kwargs(snapshot[name]))
                                  for name in ("G", "D", "G_ema") if safe_pickle.is_module(snapshot.get(name))}}
    extra = {"task": "image", "output": "image", "size": resolution, "dataset": _dataset_name(snapshot),
             "converted_from": provenance}
    save_pretrained(G_ema, out, extra=extra)
    if safe_pickle.is_module(snapshot.get("D")):
        save_pretrained(discriminator_from(snapshot["D"], f"{where}: D"), out / DISCRIMINATOR_FOLDER,
                        extra={"task": "image-discriminator", "converted_from": provenance})
    return out


# ------------------------------------------------------------------------------------------------- generator
def generator_config(kwargs: dict, where: str) -> GeneratorConfig:
    """The official Generator's constructor arguments -> semsynth's GeneratorConfig (refusing what differs)."""
    mapping, synthesis = dict(kwargs.get("mapping_kwargs") or {}), dict(kwargs.get("synthesis_kwargs") or {})
    _require(kwargs.get("c_dim", 0), 0, "c_dim", where, "conditional networks are not supported")
    w_dim = _needed(kwargs, "w_dim", where)
    _require(mapping.get("layer_features") or w_dim, w_dim, "mapping_kwargs.layer_features", where)
    _require(mapping.get("activation", "lrelu"), "lrelu", "mapping_kwargs.activation", where)
    if mapping.get("w_avg_beta", 0.995) is None:
        raise ValueError(f"{where}: mapping_kwargs.w_avg_beta is None (no w_avg); semsynth always tracks w_avg")
    _require(synthesis.get("architecture", "skip"), "skip", "synthesis_kwargs.architecture", where)
    _require(list(synthesis.get("resample_filter", FIR_TAPS)), FIR_TAPS, "synthesis_kwargs.resample_filter", where)
    _require(synthesis.get("kernel_size", 3), 3, "synthesis_kwargs.kernel_size", where)
    _require(synthesis.get("use_noise", True), True, "synthesis_kwargs.use_noise", where)
    _require(synthesis.get("activation", "lrelu"), "lrelu", "synthesis_kwargs.activation", where)
    resolution = int(_needed(kwargs, "img_resolution", where))
    return GeneratorConfig(
        z_dim=int(_needed(kwargs, "z_dim", where)), w_dim=int(w_dim),
        mapping_layers=int(mapping.get("num_layers", 8)), mapping_lr_mul=float(mapping.get("lr_multiplier", 0.01)),
        resolution=(resolution, resolution), out_channels=int(_needed(kwargs, "img_channels", where)),
        channel_base=int(synthesis.get("channel_base", 32768)), channel_max=int(synthesis.get("channel_max", 512)),
        w_avg_beta=float(mapping.get("w_avg_beta", 0.995)), conv_clamp=float(synthesis.get("conv_clamp") or 0.0))


def generator_state_dict(official: dict[str, torch.Tensor], where: str = "G") -> dict[str, torch.Tensor]:
    """Official G state-dict names -> semsynth's (mapping.fc0 -> mapping.layers.0, synthesis.b4 -> blocks.0,
    conv1.noise_strength -> conv1.noise.strength, conv1.noise_const -> conv1.noise.noise_const)."""
    resolutions = sorted({int(m.group(1)) for k in official if (m := re.match(r"synthesis\.b(\d+)\.", k))})
    block = {res: i for i, res in enumerate(resolutions)}
    out = {}
    for name, t in _without_filters(official, where).items():
        name = re.sub(r"^mapping\.fc(\d+)\.", r"mapping.layers.\1.", name)
        name = re.sub(r"^synthesis\.b(\d+)\.", lambda m: f"synthesis.blocks.{block[int(m.group(1))]}.", name)
        name = re.sub(r"\.noise_strength$", ".noise.strength", name)
        name = re.sub(r"\.noise_const$", ".noise.noise_const", name)
        out[name] = t
    return out


def generator_from(module: dict, where: str) -> Generator:
    G = Generator(generator_config(safe_pickle.init_kwargs(module), where))
    _load(G, generator_state_dict(safe_pickle.module_state_dict(module), where), where)
    return G.eval()


# ------------------------------------------------------------------------------------------------- discriminator
def discriminator_config(kwargs: dict, where: str) -> DiscriminatorConfig:
    """The official Discriminator's constructor arguments -> semsynth's DiscriminatorConfig."""
    block, epilogue = dict(kwargs.get("block_kwargs") or {}), dict(kwargs.get("epilogue_kwargs") or {})
    _require(kwargs.get("c_dim", 0), 0, "c_dim", where, "conditional networks are not supported")
    _require(kwargs.get("architecture", "resnet"), "resnet", "architecture", where)
    _require(block.get("activation", "lrelu"), "lrelu", "block_kwargs.activation", where)
    _require(list(block.get("resample_filter", FIR_TAPS)), FIR_TAPS, "block_kwargs.resample_filter", where)
    _require(epilogue.get("activation", "lrelu"), "lrelu", "epilogue_kwargs.activation", where)
    group = epilogue.get("mbstd_group_size", 4)
    if group is None:
        raise ValueError(f"{where}: epilogue_kwargs.mbstd_group_size is None (the whole batch as one group); "
                         "semsynth needs a fixed group size")
    resolution = int(_needed(kwargs, "img_resolution", where))
    return DiscriminatorConfig(
        resolution=(resolution, resolution), in_channels=int(_needed(kwargs, "img_channels", where)),
        channel_base=int(kwargs.get("channel_base", 32768)), channel_max=int(kwargs.get("channel_max", 512)),
        mbstd_group=int(group), mbstd_channels=int(epilogue.get("mbstd_num_channels", 1)),
        conv_clamp=float(kwargs.get("conv_clamp") or 0.0))


def discriminator_state_dict(official: dict[str, torch.Tensor], where: str = "D") -> dict[str, torch.Tensor]:
    """Official D names -> semsynth's: b<res> blocks (largest first) -> blocks.<i>; the b4 epilogue's conv, fc,
    out -> the top-level conv, fc, out."""
    resolutions = sorted({int(m.group(1)) for k in official if (m := re.match(r"b(\d+)\.", k))} - {4}, reverse=True)
    block = {res: i for i, res in enumerate(resolutions)}
    out = {}
    for name, t in _without_filters(official, where).items():
        if name.startswith("b4."):
            name = name[len("b4."):]
        else:
            name = re.sub(r"^b(\d+)\.", lambda m: f"blocks.{block[int(m.group(1))]}.", name)
        out[name] = t
    return out


def discriminator_from(module: dict, where: str) -> Discriminator:
    D = Discriminator(discriminator_config(safe_pickle.init_kwargs(module), where))
    _load(D, discriminator_state_dict(safe_pickle.module_state_dict(module), where), where)
    return D.eval()


# ------------------------------------------------------------------------------------------------- helpers
def _needed(kwargs: dict, name: str, where: str):
    if name not in kwargs:
        raise ValueError(f"{where}: the constructor argument {name!r} is missing from _init_kwargs")
    return kwargs[name]


def _require(value, expected, name: str, where: str, why: str = "semsynth's StyleGAN2 computes only that") -> None:
    if value != expected:
        raise ValueError(f"{where}: {name} is {value!r}, but only {expected!r} can be converted ({why})")


def _without_filters(official: dict[str, torch.Tensor], where: str) -> dict[str, torch.Tensor]:
    """Drop the fixed `resample_filter` buffers (semsynth rebuilds them), after checking they are the standard
    [1,3,3,1] filter: a network trained with another filter would compute something else."""
    expected = setup_filter(FIR_TAPS)
    kept = {}
    for name, t in official.items():
        if name.endswith("resample_filter"):
            if t.shape != expected.shape or not torch.allclose(t.float(), expected, atol=1e-7):
                raise ValueError(f"{where}: {name} is not the [1,3,3,1] FIR filter; semsynth computes only that one")
            continue
        kept[name] = t
    return kept


def _load(model: torch.nn.Module, tensors: dict[str, torch.Tensor], where: str) -> None:
    """Strict load naming the first tensor that is missing, unexpected or of another shape."""
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{where}: the pickled tensors do not fit semsynth's {type(model).__name__}: missing "
                         f"{missing[:3]}, unexpected {unexpected[:3]}")
    for name, t in tensors.items():
        if tuple(t.shape) != tuple(expected[name].shape):
            raise ValueError(f"{where}: tensor {name!r} is {list(t.shape)}, semsynth's "
                             f"{type(model).__name__} needs {list(expected[name].shape)}")
    model.load_state_dict({k: t.float() for k, t in tensors.items()}, strict=True)


def _dataset_name(snapshot: dict) -> str:
    path = (snapshot.get("training_set_kwargs") or {}).get("path")
    return f"stylegan2-ada:{Path(path).stem}" if isinstance(path, str) and path else "stylegan2-ada"


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value if isinstance(value, (str, int, float, bool)) or value is None else repr(value)


