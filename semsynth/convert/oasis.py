"""Convert an official OASIS checkpoint (boschresearch/OASIS) into a semsynth model folder.

SOURCE is the checkpoint folder `<checkpoints_dir>/<name>/`: `opt.txt` plus `models/<which>_{G,D,EMA}.pth`
(`torch.save(state_dict)`, read with weights_only=True; `opt.pkl` is never read). The model folder written:

    OUT/                  the EMA generator (what OASIS's test.py runs): `from_pretrained(OUT)` returns it
    OUT/generator_raw/    the raw generator G, so that training can continue from both
    OUT/discriminator/    the U-Net discriminator D (semsynth.models.unet, semantic_nc + 1 logits per pixel)

all written by `save_pretrained`. The generator is semsynth's SPADE generator, family "oasis" (3D noise concatenated
before the labels, as OASIS). Options come from opt.txt and from the tensors' shapes: semantic_nc (the label
channels, set by OASIS's dataloader and so absent from opt.txt) from `fc.weight`, SPADE's hidden width from
`*.mlp_shared.0.weight`, D's widths from its tensors. The output size is also set by the dataloader (crop_size,
aspect_ratio): when opt.txt lacks it, `size` (--size HxW) is required. The model's input class set: `class_set`
(--class-set) when given, else a generated list of semantic_nc classes (ids = OASIS's one-hot channels).

The helpers below (reading the checkpoint folder, renaming official tensor names, loading with errors that name the
file and tensor) are shared with the USIS converter (semsynth/convert/usis.py), whose checkpoints have this layout.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch

from semsynth.classes import ClassSet, class_set_to_dict, generated_palette, get_class_set
from semsynth.convert.opt_txt import read_opt_txt, require
from semsynth.models.io import save_pretrained
from semsynth.models.spade import SPADEGenerator, SPADEGeneratorConfig
from semsynth.models.unet import UNet, UNetConfig

RAW_GENERATOR_FOLDER = "generator_raw"  # the non-EMA generator, for continuing training
DISCRIMINATOR_FOLDER = "discriminator"
OASIS_REPO = "https://github.com/boschresearch/OASIS"
NUM_RES_BLOCKS = 6  # the official generators' channel tables have exactly 6 blocks

# official -> semsynth tensor names: spectral norm (torch.nn.utils.spectral_norm hook -> parametrizations) and
# SPADE's sub-modules (O:models/norms.py first_norm / mlp_* -> semsynth.models.spade.SPADE norm / shared / gamma / beta)
SPECTRAL_RENAMES = [(r"\.weight_orig$", ".parametrizations.weight.original"),
                    (r"\.weight_u$", ".parametrizations.weight.0._u"),
                    (r"\.weight_v$", ".parametrizations.weight.0._v")]
SPADE_RENAMES = [(r"\.first_norm\.", ".norm."), (r"\.mlp_shared\.", ".shared."), (r"\.mlp_gamma\.", ".gamma."),
                 (r"\.mlp_beta\.", ".beta.")]
# O:models/discriminator.py residual_block_D wraps its convs in Sequentials (LeakyReLU, Upsample, conv)
UNET_RENAMES = [(r"^body_down\.", "down."), (r"^body_up\.", "up."), (r"\.conv1\.\d\.", ".conv1."),
                (r"\.conv2\.\d\.", ".conv2."), (r"^layer_up_last\.", "out.")]


# ----------------------------------------------------------------------------------------- reading the checkpoint
def read_checkpoint_folder(source, which_epoch: str, nets: tuple[str, ...], optional: tuple[str, ...] = ()):
    """(folder, options of opt.txt, {net: state dict}) of an OASIS / USIS checkpoint folder; FileNotFoundError naming
    the missing file. Nets in `optional` may be absent (left out of the dict)."""
    folder = Path(source)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder; give the OASIS/USIS checkpoint folder holding opt.txt and "
                                "models/")
    opt_path = folder / "opt.txt"
    if not opt_path.is_file():
        raise FileNotFoundError(f"{opt_path} is missing: the options file the official train.py writes (opt.pkl is "
                                "never read)")
    options = read_opt_txt(opt_path)
    states = {}
    for net in nets + optional:
        path = folder / "models" / f"{which_epoch}_{net}.pth"
        if path.is_file():
            states[net] = load_pth(path)
        elif net in nets:
            raise FileNotFoundError(f"{path} is missing (which_epoch={which_epoch!r})")
    return folder, options, states


def load_pth(path: Path) -> dict[str, torch.Tensor]:
    """A `torch.save(state_dict)` file, read with weights_only=True (no code runs); ValueError naming the file."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure means this file is no tensors-only state dict
        raise ValueError(f"{path}: not a readable tensors-only state dict ({type(err).__name__}: {err})") from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: expected a state dict (name -> tensor), got {type(state).__name__}")
    return dict(state)


def tensor(state: dict, name: str, path) -> torch.Tensor:
    if name not in state:
        raise ValueError(f"{path}: tensor {name!r} is missing; is this a checkpoint of the expected network?")
    return state[name]


def output_size(options: dict, size, where: Path, upsamplings: int = 5) -> tuple[int, int]:
    """(H, W) of the images: `size` when given, else from crop_size and aspect_ratio as the official generators
    compute their start map (W = crop_size, H = round(W / 2^k / aspect_ratio) * 2^k)."""
    if size is not None:
        H, W = (int(s) for s in size)
        return H, W
    missing = [k for k in ("crop_size", "aspect_ratio") if k not in options]
    if missing:
        raise ValueError(f"{where}: option(s) {', '.join(repr(k) for k in missing)} missing from opt.txt (the "
                         "official dataloader sets them, so opt.txt does not record the image size); pass --size HxW")
    k = 2 ** upsamplings
    w = int(options["crop_size"]) // k
    return round(w / float(options["aspect_ratio"])) * k, w * k


def check_supported(options: dict, where: Path) -> None:
    """Refuse the options semsynth's OASIS-family generators do not implement, naming each."""
    if require(options, "no_3dnoise", where):
        raise ValueError(f"{where}: no_3dnoise is True; semsynth's OASIS / USIS generators always take 3D noise")
    blocks = require(options, "num_res_blocks", where)
    if blocks != NUM_RES_BLOCKS:
        raise ValueError(f"{where}: num_res_blocks is {blocks}; the official generator only works with "
                         f"{NUM_RES_BLOCKS} (its channel table)")


# ----------------------------------------------------------------------------------------- renaming and loading
def renamed(state: dict, rules: list[tuple[str, str]]) -> dict[str, tuple[str, torch.Tensor]]:
    """{semsynth name: (official name, tensor)} after applying every (regex, replacement) rule in order."""
    out = {}
    for name, t in state.items():
        new = name
        for pattern, repl in rules:
            new = re.sub(pattern, repl, new)
        out[new] = (name, t)
    return out


def load_converted(model: torch.nn.Module, tensors: dict[str, tuple[str, torch.Tensor]], path) -> torch.nn.Module:
    """Load {semsynth name: (official name, tensor)} into `model` strictly; ValueError naming `path` and the first
    tensor that is missing, unexpected or of the wrong shape."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in tensors]
    if missing:
        raise ValueError(f"{path}: no tensor for {missing[0]!r} of the semsynth model ({len(missing)} missing); the "
                         "checkpoint does not match the architecture read from opt.txt")
    unexpected = [official for k, (official, _) in tensors.items() if k not in expected]
    if unexpected:
        raise ValueError(f"{path}: tensor {unexpected[0]!r} has no place in the semsynth model ({len(unexpected)} "
                         "unexpected); the checkpoint does not match the architecture read from opt.txt")
    state = {}
    for k, ref in expected.items():
        official, t = tensors[k]
        if tuple(t.shape) != tuple(ref.shape):
            raise ValueError(f"{path}: tensor {official!r} has shape {list(t.shape)} but the architecture read from "
                             f"opt.txt needs {list(ref.shape)}")
        state[k] = t.to(ref.dtype)
    model.load_state_dict(state, strict=True)
    return model.eval()


# ----------------------------------------------------------------------------------------- the model folder's meta
def input_classes(class_set: str | None, semantic_nc: int, generated_name: str) -> tuple[ClassSet, bool]:
    """(class set, use_dontcare): the named set when given (semantic_nc classes, or semantic_nc - 1 plus the
    don't-care channel), else semantic_nc generated classes "class 0".. whose ids are the one-hot channels."""
    if class_set is not None:
        classes = get_class_set(class_set)
        if classes.num_classes not in (semantic_nc, semantic_nc - 1):
            raise ValueError(f"class set {class_set!r} has {classes.num_classes} classes but the checkpoint's "
                             f"generator reads {semantic_nc} label channels (semantic_nc)")
        return classes, classes.num_classes == semantic_nc - 1
    names = tuple(f"class {i}" for i in range(semantic_nc))
    return ClassSet(name=generated_name, names=names, colors=generated_palette(semantic_nc, seed=semantic_nc)), False


def sis_meta(code: str, repo: str, mode: str, folder: Path, options: dict, which_epoch: str, size, classes: ClassSet,
             use_dontcare: bool, semantic_nc: int, network: str) -> dict:
    """config.json extras of a converted SIS generator: what Pipeline / generate / sample read, and the origin."""
    iteration = folder / "latest_iter.txt"
    return {"task": "sis", "mode": mode, "classes": class_set_to_dict(classes), "size": list(size),
            "dataset": options.get("dataset_mode"), "label_channels": semantic_nc, "use_dontcare": use_dontcare,
            "use_instance_edges": False, "z_dim": options.get("z_dim"),
            "converted_from": {"code": code, "repo": repo, "source": str(folder.resolve()),
                               "which_epoch": which_epoch, "network": network,
                               "iteration": iteration.read_text().strip() if iteration.is_file() else None}}


# ----------------------------------------------------------------------------------------- OASIS
def generator_config(options: dict, state: dict, size, path: Path, where: Path) -> SPADEGeneratorConfig:
    z_dim = int(require(options, "z_dim", where))
    fc = tensor(state, "fc.weight", path)
    hidden = tensor(state, "body.0.norm_0.mlp_shared.0.weight", path)
    kernel = int(require(options, "spade_ks", where))
    if tuple(hidden.shape[-2:]) != (3, 3) or kernel != 3:
        raise ValueError(f"{where}: spade_ks is {kernel}; semsynth's SPADE blocks use 3x3 convs")
    return SPADEGeneratorConfig(
        label_channels=fc.shape[1] - z_dim, family="oasis", ngf=int(require(options, "channels_G", where)),
        z_dim=z_dim, norm=str(require(options, "param_free_norm", where)),
        use_spectral_norm=not require(options, "no_spectral_norm", where), resolution=tuple(size),
        spade_hidden=int(hidden.shape[0]))


def generator(cfg: SPADEGeneratorConfig, state: dict, path: Path) -> SPADEGenerator:
    return load_converted(SPADEGenerator(cfg), renamed(state, SPECTRAL_RENAMES + SPADE_RENAMES), path)


def discriminator(state: dict, semantic_nc: int, path: Path) -> UNet:
    """OASIS_Discriminator as a semsynth U-Net; widths from the tensors (official: 128..512, fixtures scaled)."""
    depth = len({k.split(".")[1] for k in state if k.startswith("body_down.")})
    spectral = "body_down.0.conv1.0.weight_orig" in state
    weight = ".weight_orig" if spectral else ".weight"
    first = tensor(state, "body_down.0.conv1.0" + weight, path)                   # [base, 3, 3, 3]
    deepest = tensor(state, f"body_down.{depth - 1}.conv2.1" + weight, path)      # [max, max, 3, 3]
    cfg = UNetConfig(in_channels=int(first.shape[1]), out_channels=semantic_nc + 1, base_channels=int(first.shape[0]),
                     max_channels=int(deepest.shape[0]), depth=depth, use_spectral_norm=spectral, init_gain=0.02)
    return load_converted(UNet(cfg), renamed(state, SPECTRAL_RENAMES + UNET_RENAMES), path)


def convert(source, out, *, size=None, class_set=None, which_epoch="latest") -> Path:
    folder, options, states = read_checkpoint_folder(source, which_epoch, ("G",), optional=("EMA", "D"))
    where = folder / "opt.txt"
    check_supported(options, where)
    size = output_size(options, size, where)
    path = lambda net: folder / "models" / f"{which_epoch}_{net}.pth"  # noqa: E731
    use_ema = "EMA" in states and not options.get("no_EMA", False)
    exported = "EMA" if use_ema else "G"
    cfg = generator_config(options, states[exported], size, path(exported), where)
    classes, use_dontcare = input_classes(class_set, cfg.label_channels,
                                          f"oasis-{options.get('dataset_mode', 'labels')}-{cfg.label_channels}")
    meta = lambda net: sis_meta("oasis", OASIS_REPO, "paired", folder, options, which_epoch, size,  # noqa: E731
                                classes, use_dontcare, cfg.label_channels, net)
    out = Path(out)
    models = {exported: generator(cfg, states[exported], path(exported))}
    if use_ema:
        models["G"] = generator(cfg, states["G"], path("G"))
    if "D" in states:
        models["D"] = discriminator(states["D"], cfg.label_channels, path("D"))
    save_pretrained(models[exported], out, extra=meta(exported))
    if use_ema:
        save_pretrained(models["G"], out / RAW_GENERATOR_FOLDER, extra=meta("G"))
    if "D" in models:
        save_pretrained(models["D"], out / DISCRIMINATOR_FOLDER, extra={
            "task": "sis-discriminator", "classes": class_set_to_dict(classes), "size": list(size),
            "converted_from": meta("D")["converted_from"]})
    return out
