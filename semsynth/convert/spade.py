"""NVlabs/SPADE checkpoints -> a semsynth model folder (`semsynth convert spade SOURCE --out MODEL_DIR`).

SOURCE is the checkpoint folder SPADE writes (`checkpoints/<name>/`): `<which_epoch>_net_G.pth` and `opt.txt`,
plus `_net_D.pth` / `_net_E.pth` when present. Each .pth is `torch.save(state_dict)`, read with
`torch.load(weights_only=True)` (tensors only); `opt.pkl` is never read. The folder written:

    MODEL_DIR/                 the SPADEGenerator (family "spade"), task "sis", mode "paired": what
                               `from_pretrained`, `Pipeline` and `semsynth generate --sis` load
    MODEL_DIR/encoder/         the VAE ConvEncoder (task "sis-encoder"), when use_vae and _net_E.pth exists
    MODEL_DIR/discriminator/   the multiscale PatchGAN (task "sis-discriminator"), when _net_D.pth exists

Options come from opt.txt (label_nc, contain_dontcare_label, no_instance, crop_size, aspect_ratio, ngf, ndf,
num_D, n_layers_D, norm_G/D/E, num_upsampling_layers, use_vae, z_dim) and from the tensors: SPADE's hidden width
(hard-coded 128 officially) is read from `*.mlp_shared.0.weight`. Every official tensor must land on a semsynth
tensor of the same shape, or the conversion stops naming it.

Spectral norm: the official hook stores `weight_orig`, `weight_u`, `weight_v` and, in eval, computes
sigma = u . (W v) from the stored vectors without iterating. semsynth's parametrization stores `original`,
`0._u`, `0._v` and computes the same sigma in eval, so the three tensors map one to one (tests/convert prove it).
SPADE's synchronized BatchNorm is BatchNorm2d at eval: its running statistics map onto the `norm` buffers.

The generator input keeps the official channel order: the one-hot of label_nc ids (+ don't-care) then, unless
no_instance, the instance-edge channel. For layouts that carry no instances, the model folder says
"edges_without_instances": "label-boundaries": the pipeline draws the edge channel at class boundaries, which
is what Cityscapes' instanceIds give wherever a class has no instances (stuff pixels hold their class id).
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import torch

from semsynth.classes import class_set_to_dict, get_class_set
from semsynth.convert.opt_txt import read_opt_txt, require
from semsynth.models.discriminators import MultiscalePatchDiscriminator, MultiscalePatchDiscriminatorConfig
from semsynth.models.io import DISCRIMINATOR_FOLDER, ENCODER_FOLDER, save_pretrained
from semsynth.models.spade import (
    NUM_UPSAMPLINGS, ConvEncoder, ConvEncoderConfig, SPADEGenerator, SPADEGeneratorConfig, check_generator_config)

OFFICIAL = "https://github.com/NVlabs/SPADE"
# SPADE dataset_mode -> semsynth class set whose ids are the official label ids (with label_nc classes)
CLASS_SETS = {"cityscapes": "cityscapes-raw", "ade20k": "ade20k", "coco": "coco-stuff"}
ENCODER_INPUT = 256  # ConvEncoder resizes every photo to 256x256 (hard-coded in the official code)

_NORM_G = re.compile(r"^(spectral)?spade(instance|syncbatch|batch)(\d+)x\d+$")
_NORM_DE = {"spectralinstance": True, "instance": False}  # norm_D / norm_E -> spectral norm (always + IN)


# ------------------------------------------------------------------------------------------------ tensor names
def generator_name(key: str) -> str:
    """Official SPADEGenerator state-dict key -> semsynth SPADEGenerator key."""
    key = _spectral_name(key)
    key = key.replace(".param_free_norm.", ".norm.").replace(".mlp_shared.", ".shared.")
    return key.replace(".mlp_gamma.", ".gamma.").replace(".mlp_beta.", ".beta.")


def discriminator_name(key: str) -> str:
    """discriminator_<i>.model<j>.0[.0].<tensor> -> scales.<i>.layers.<j>[.0].<tensor>: official layers are all
    Sequentials (the middle ones nest conv + norm once more); semsynth's last layer is a bare conv."""
    m = re.match(r"^discriminator_(\d+)\.model(\d+)\.0\.(0\.)?(.*)$", key)
    if not m:
        return key
    i, j, inner, rest = m.groups()
    return _spectral_name(f"scales.{i}.layers.{j}.{'0.' if inner or j == '0' else ''}{rest}")


def encoder_name(key: str, last_layer: int) -> str:
    """layer<k>.0.<tensor> -> layers.<3(k-1)>.<tensor> (semsynth: conv, IN, lrelu per layer); fc_* unchanged.
    The official last layer has no conv after it, so `last_layer` checks k; other keys pass through unchanged."""
    m = re.match(r"^layer(\d+)\.0\.(.*)$", key)
    if not m or not 1 <= int(m.group(1)) <= last_layer:
        return key
    return _spectral_name(f"layers.{3 * (int(m.group(1)) - 1)}.{m.group(2)}")


def _spectral_name(key: str) -> str:
    for official, mine in (("weight_orig", "parametrizations.weight.original"),
                           ("weight_u", "parametrizations.weight.0._u"),
                           ("weight_v", "parametrizations.weight.0._v")):
        if key.endswith("." + official):
            return key[: -len(official)] + mine
    return key


def load_official(model: torch.nn.Module, state: dict, rename, path: Path, options: str) -> None:
    """Copy `state` (official names) into `model` through `rename`; ValueError naming the tensor and the file
    when a tensor is missing, left over, or of another shape than `options` (the opt.txt values used) imply."""
    target = model.state_dict()
    mapped = {}
    for key, tensor in state.items():
        name = rename(key)
        if name not in target:
            raise ValueError(f"{path}: tensor {key!r} has no place in the network that opt.txt describes "
                             f"({options}); is this checkpoint from another network or option set?")
        if tuple(tensor.shape) != tuple(target[name].shape):
            raise ValueError(f"{path}: tensor {key!r} is {list(tensor.shape)} but opt.txt ({options}) gives "
                             f"{list(target[name].shape)}: the weights and opt.txt disagree")
        mapped[name] = tensor
    # BatchNorm's step counter is unused at eval and absent from checkpoints of PyTorch < 0.4.1: keep ours
    missing = [name for name in target if name not in mapped and not name.endswith(".num_batches_tracked")]
    if missing:
        raise ValueError(f"{path}: {len(missing)} tensors that opt.txt ({options}) implies are missing, e.g. "
                         f"{missing[0]!r}; is this checkpoint from another network or option set?")
    model.load_state_dict({**target, **mapped}, strict=True)


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """A `torch.save(state_dict)` file as tensors only; anything else (code, a pickled module) is refused."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises many kinds for a broken / unsafe file
        raise ValueError(f"{path}: not a tensors-only state dict ({type(err).__name__}: {str(err)[:200]})") from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: expected a state dict of tensors, got {type(state).__name__}")
    return state


# ------------------------------------------------------------------------------------------------ options
def hidden_width(state: dict, path: Path) -> int:
    """SPADE's nhidden, from `*.mlp_shared.0.weight` [nhidden, label_nc, k, k]; all SPADE layers must agree."""
    widths = {int(t.shape[0]) for k, t in state.items() if k.endswith(".mlp_shared.0.weight")}
    if len(widths) != 1:
        raise ValueError(f"{path}: cannot read SPADE's hidden width: tensors '*.mlp_shared.0.weight' give "
                         f"{sorted(widths) or 'none'}")
    return widths.pop()


def output_size(opt: dict, k: int, size, where: Path) -> tuple[int, int]:
    """(H, W) the official generator produces: its start map is sw = crop_size // 2^k, sh = round(sw / aspect);
    `size` (--size) stands in when opt.txt lacks aspect_ratio."""
    if "aspect_ratio" not in opt:
        if size is None:
            raise ValueError(f"{where}: option 'aspect_ratio' is missing from opt.txt; pass --size HxW")
        return tuple(size)
    sw = int(require(opt, "crop_size", where)) // 2 ** k
    return round(sw / float(opt["aspect_ratio"])) * 2 ** k, sw * 2 ** k


def generator_config(opt: dict, state: dict, size, opt_path: Path, g_path: Path) -> SPADEGeneratorConfig:
    if opt.get("netG", "spade") != "spade":
        raise ValueError(f"{opt_path}: netG is {opt['netG']!r}; only SPADE's 'spade' generator converts")
    norm_g = str(require(opt, "norm_G", opt_path))
    parsed = _NORM_G.match(norm_g)
    if not parsed:
        raise ValueError(f"{opt_path}: norm_G {norm_g!r} is not 'spectralspade<instance|batch|syncbatch>KxK'")
    spectral, norm, kernel = parsed.group(1) is not None, parsed.group(2), int(parsed.group(3))
    upsampling = str(require(opt, "num_upsampling_layers", opt_path))
    if upsampling not in NUM_UPSAMPLINGS:
        raise ValueError(f"{opt_path}: num_upsampling_layers {upsampling!r} is none of {list(NUM_UPSAMPLINGS)}")
    computed = output_size(opt, NUM_UPSAMPLINGS[upsampling], size, opt_path)
    use_vae = bool(require(opt, "use_vae", opt_path))
    resolution = tuple(size) if size is not None else computed  # without VAE the network is convolutional
    if use_vae and resolution != computed:
        raise ValueError(f"--size {resolution[0]}x{resolution[1]} differs from {computed[0]}x{computed[1]} that "
                         f"opt.txt gives (crop_size, aspect_ratio): a VAE generator's Linear start map fixes its size")
    cfg = SPADEGeneratorConfig(
        label_channels=label_channels(opt, opt_path), family="spade", ngf=int(require(opt, "ngf", opt_path)),
        z_dim=int(require(opt, "z_dim", opt_path)) if use_vae else SPADEGeneratorConfig.z_dim, use_vae=use_vae,
        num_upsampling_layers=upsampling, norm=norm, use_spectral_norm=spectral, resolution=resolution,
        spade_hidden=hidden_width(state, g_path), spade_kernel_size=kernel)
    try:
        check_generator_config(cfg)
    except ValueError as err:
        raise ValueError(f"{opt_path}: {err}") from None
    return cfg


def label_channels(opt: dict, where: Path) -> int:
    """label_nc (+1 don't-care) (+1 instance edge), the official semantic_nc."""
    return (int(require(opt, "label_nc", where)) + int(bool(require(opt, "contain_dontcare_label", where)))
            + int(not require(opt, "no_instance", where)))


def spectral_and_instance(opt: dict, key: str, where: Path) -> bool:
    value = str(require(opt, key, where))
    if value not in _NORM_DE:
        raise ValueError(f"{where}: {key} {value!r} is not supported; semsynth's networks use {sorted(_NORM_DE)}")
    return _NORM_DE[value]


def discriminator_config(opt: dict, where: Path) -> MultiscalePatchDiscriminatorConfig:
    if opt.get("netD", "multiscale") != "multiscale" or opt.get("netD_subarch", "n_layer") != "n_layer":
        raise ValueError(f"{where}: only SPADE's multiscale n_layer discriminator converts, got netD "
                         f"{opt.get('netD')!r} / netD_subarch {opt.get('netD_subarch')!r}")
    return MultiscalePatchDiscriminatorConfig(
        label_channels=label_channels(opt, where), ndf=int(require(opt, "ndf", where)),
        num_d=int(require(opt, "num_D", where)), n_layers_d=int(require(opt, "n_layers_D", where)),
        use_spectral_norm=spectral_and_instance(opt, "norm_D", where), image_channels=int(opt.get("output_nc", 3)))


def encoder_config(opt: dict, state: dict, where: Path, e_path: Path) -> ConvEncoderConfig:
    if int(require(opt, "crop_size", where)) < ENCODER_INPUT:
        raise ValueError(f"{where}: crop_size {opt['crop_size']} < 256: the official ConvEncoder then has no 6th "
                         "layer and cannot run (its fc_mu would get 8x8 maps); nothing to convert")
    z_dim = int(state["fc_mu.weight"].shape[0]) if "fc_mu.weight" in state else 256  # officially always 256
    return ConvEncoderConfig(ndf=int(require(opt, "ngf", where)), z_dim=z_dim, input_size=ENCODER_INPUT,
                             use_spectral_norm=spectral_and_instance(opt, "norm_E", where))


def class_set_name(opt: dict, class_set: str | None, where: Path) -> str:
    """The input class set: --class-set, else the one SPADE's dataset_mode implies; its size must be label_nc."""
    label_nc = int(require(opt, "label_nc", where))
    name = class_set or CLASS_SETS.get(str(opt.get("dataset_mode")))
    if name is None:
        raise ValueError(f"{where}: dataset_mode {opt.get('dataset_mode')!r} names no known class set; pass "
                         f"--class-set NAME (a class set of label_nc={label_nc} classes)")
    classes = get_class_set(name)
    if classes.num_classes != label_nc:
        raise ValueError(f"class set {name!r} has {classes.num_classes} classes but {where} says label_nc="
                         f"{label_nc}; pass --class-set with a set of {label_nc} classes")
    return classes.name


def task_config(opt: dict, cfg: SPADEGeneratorConfig, d_cfg, e_cfg) -> dict:
    """The run config a `semsynth train sis` of this network would have had (for fine-tuning from it)."""
    from semsynth.train.tasks.sis import Config
    fields = dict(mode="paired", family="spade", ngf=cfg.ngf, z_dim=cfg.z_dim, use_vae=cfg.use_vae,
                  num_upsampling_layers=cfg.num_upsampling_layers, norm=cfg.norm, spade_hidden=cfg.spade_hidden,
                  use_spectral_norm=cfg.use_spectral_norm, use_dontcare=bool(opt["contain_dontcare_label"]),
                  use_instance_edges=not opt["no_instance"], use_vgg=not opt.get("no_vgg_loss", False))
    if e_cfg is not None:
        fields["encoder_size"] = e_cfg.input_size
    if d_cfg is not None:
        fields.update(ndf=d_cfg.ndf, num_d=d_cfg.num_d, n_layers_d=d_cfg.n_layers_d)
    for official, mine in (("beta1", "beta1"), ("beta2", "beta2"), ("lambda_feat", "lambda_feat"),
                           ("lambda_vgg", "lambda_vgg"), ("lambda_kld", "lambda_kld")):
        if isinstance(opt.get(official), (int, float)):
            fields[mine] = float(opt[official])
    return dataclasses.asdict(Config(**fields))


def _describe(opt: dict, keys) -> str:
    return ", ".join(f"{k}={opt.get(k)}" for k in keys if k in opt)


# ------------------------------------------------------------------------------------------------ convert
def convert(source, out, *, size=None, class_set=None, which_epoch="latest") -> Path:
    """Write the model folder `out` from the SPADE checkpoint folder `source`; returns `out`."""
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: not a folder; SOURCE is SPADE's checkpoint folder holding "
                                f"{which_epoch}_net_G.pth and opt.txt")
    opt_path = source / "opt.txt"
    if not opt_path.is_file():
        raise FileNotFoundError(f"{opt_path} is missing: SPADE writes it next to the weights at training start "
                                "(opt.pkl is never read)")
    g_path = source / f"{which_epoch}_net_G.pth"
    if not g_path.is_file():
        raise FileNotFoundError(f"{g_path} is missing (the generator weights; --which-epoch picks the prefix)")
    opt = read_opt_txt(opt_path)
    g_state = read_checkpoint(g_path)
    cfg = generator_config(opt, g_state, size, opt_path, g_path)
    classes = get_class_set(class_set_name(opt, class_set, opt_path))
    G = SPADEGenerator(cfg)
    load_official(G, g_state, generator_name, g_path, _describe(opt, (
        "label_nc", "contain_dontcare_label", "no_instance", "ngf", "norm_G", "num_upsampling_layers", "use_vae",
        "z_dim", "crop_size", "aspect_ratio")) + f", hidden width {cfg.spade_hidden}")

    nets = {}
    d_path = source / f"{which_epoch}_net_D.pth"
    if d_path.is_file():
        D = MultiscalePatchDiscriminator(discriminator_config(opt, opt_path))
        load_official(D, read_checkpoint(d_path), discriminator_name, d_path, _describe(opt, (
            "label_nc", "contain_dontcare_label", "no_instance", "ndf", "num_D", "n_layers_D", "norm_D")))
        nets["D"] = D
    e_path = source / f"{which_epoch}_net_E.pth"
    if cfg.use_vae and e_path.is_file():
        e_state = read_checkpoint(e_path)
        E = ConvEncoder(encoder_config(opt, e_state, opt_path, e_path))
        last = len(E.layers) // 3
        load_official(E, e_state, lambda key: encoder_name(key, last), e_path,
                      _describe(opt, ("ngf", "norm_E", "crop_size", "z_dim")))
        nets["E"] = E

    files = [p.name for p in (opt_path, g_path, d_path, e_path) if p.is_file()]
    converted = {"code": OFFICIAL, "source": str(source.resolve()), "which_epoch": which_epoch, "files": files}
    save_pretrained(G, out, extra={
        "task": "sis", "mode": "paired", "classes": class_set_to_dict(classes), "size": list(cfg.resolution),
        "dataset": str(opt.get("dataset_mode", classes.name)), "label_channels": cfg.label_channels,
        "use_dontcare": bool(opt["contain_dontcare_label"]), "use_instance_edges": not opt["no_instance"],
        "edges_without_instances": "label-boundaries",
        "task_config": task_config(opt, cfg, nets.get("D") and nets["D"].cfg, nets.get("E") and nets["E"].cfg),
        "converted_from": converted})
    if "E" in nets:
        save_pretrained(nets["E"], out / ENCODER_FOLDER, extra={"task": "sis-encoder", "converted_from": converted})
    if "D" in nets:
        save_pretrained(nets["D"], out / DISCRIMINATOR_FOLDER,
                        extra={"task": "sis-discriminator", "converted_from": converted})
    return out
