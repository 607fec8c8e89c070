"""Convert an official USIS checkpoint (GeorgeEskandar/USIS-Unsupervised-Semantic-Image-Synthesis) into a semsynth
model folder.

SOURCE is the checkpoint folder: `opt.txt` plus `models/<which>_{G,EMA,Du}.pth` (read with weights_only=True; the
layout and helpers are OASIS's, see semsynth/convert/oasis.py). Written:

    OUT/                  the EMA generator (what USIS's test.py runs): `from_pretrained(OUT)` returns it
    OUT/generator_raw/    the raw generator G
    OUT/discriminator/    the whole-image wavelet discriminator Du (`--netDu wavelet`, semsynth WaveletDiscriminator)

Generators: `--netG wavelet` (ResidualWaveletGenerator_1) becomes semsynth.models.wavelet_generator's
WaveletSPADEGenerator; `--netG default` is OASIS's generator (semsynth's SPADE generator, family "oasis"). Dropped
on the way, after checking them: the fixed Haar / blur filter buffers (semsynth computes them) and the wavelet
generator's `norm_s` modules, which the official code builds but never calls.
"""
from __future__ import annotations

from pathlib import Path

import torch

from semsynth.convert import oasis
from semsynth.convert.opt_txt import require
from semsynth.models.io import save_pretrained
from semsynth.models.wavelet_discriminator import WaveletDiscriminator, WaveletDiscriminatorConfig
from semsynth.models.wavelet_generator import WaveletSPADEGenerator, WaveletSPADEGeneratorConfig

USIS_REPO = "https://github.com/GeorgeEskandar/USIS-Unsupervised-Semantic-Image-Synthesis"
WAVELET_G_RENAMES = [(r"^conv_img\.conv\.", "conv_img.")]  # ToRGB_wavelet(upsample=False) holds one 1x1 conv
# U:models/discriminator.py ConvLayer is a Sequential ([Blur,] EqualConv2d, FusedLeakyReLU); FromRGB wraps one
DU_RENAMES = [(r"^from_rgbs\.(\d+)\.conv\.[01]\.", r"from_wavelets.\1.conv."),  # semsynth: one EqualConv2d with
              (r"\.conv1\.[01]\.", ".conv1."), (r"\.conv2\.[12]\.", ".conv2."),  # its bias (models/layers.py)
              (r"^final_conv\.[01]\.", "final_conv.")]


def haar_buffers() -> dict[str, torch.Tensor]:
    """The official fixed filters (U:models/norms.py get_haar_wavelet; the inverse transform negates lh and hl)."""
    lo = torch.full((1, 2), 2 ** -0.5)
    hi = lo.clone()
    hi[0, 0] = -hi[0, 0]
    return {"ll": lo.T * lo, "lh": hi.T * lo, "hl": lo.T * hi, "hh": hi.T * hi}


def expected_fixed(name: str) -> torch.Tensor | None:
    """The official value of a fixed-filter buffer (Haar ll/lh/hl/hh of a forward or inverse transform, the
    [1, 3, 3, 1] blur kernel), or None for a tensor that is no fixed filter."""
    parts = name.split(".")
    if parts[-1] == "kernel":
        k = torch.tensor([1.0, 3.0, 3.0, 1.0])
        return torch.outer(k, k) / 64
    if len(parts) >= 2 and parts[-1] in ("ll", "lh", "hl", "hh") and parts[-2] in ("iwt", "hwt", "dwt"):
        value = haar_buffers()[parts[-1]]
        return -value if parts[-2] == "iwt" and parts[-1] in ("lh", "hl") else value
    return None


def without_fixed(state: dict, path: Path) -> dict:
    """`state` minus its fixed filters, each checked to hold the official value (semsynth computes them)."""
    kept = {}
    for name, t in state.items():
        value = expected_fixed(name)
        if value is None:
            kept[name] = t
        elif t.shape != value.shape or not torch.allclose(t.float(), value, atol=1e-6):
            raise ValueError(f"{path}: fixed filter {name!r} differs from the official Haar / blur filter that "
                             "semsynth computes; this is no checkpoint of the official code")
    return kept


def wavelet_generator(options: dict, state: dict, size, path: Path, where: Path) -> WaveletSPADEGenerator:
    state = {k: t for k, t in without_fixed(state, path).items() if ".norm_s." not in k}  # built, never called
    z_dim = int(require(options, "z_dim", where))
    hidden = oasis.tensor(state, "body.0.norm_0.mlp_shared.0.weight", path)
    cfg = WaveletSPADEGeneratorConfig(
        label_channels=oasis.tensor(state, "fc.weight", path).shape[1] - z_dim,
        ngf=int(require(options, "channels_G", where)), z_dim=z_dim,
        norm=str(require(options, "param_free_norm", where)),
        use_spectral_norm=not require(options, "no_spectral_norm", where), resolution=tuple(size),
        spade_hidden=int(hidden.shape[0]), spade_kernel=int(require(options, "spade_ks", where)))
    rules = oasis.SPECTRAL_RENAMES + oasis.SPADE_RENAMES + WAVELET_G_RENAMES
    return oasis.load_converted(WaveletSPADEGenerator(cfg), oasis.renamed(state, rules), path)


def wavelet_discriminator(state: dict, size, path: Path) -> WaveletDiscriminator:
    """WaveletDiscriminator; widths from the tensors: its channel table is 512 up to side 64, then 32768 / side
    (official; the fixtures scale both by channels_D / 64), so channel_base = 64 * max_channels."""
    state = without_fixed(state, path)
    last = len({k.split(".")[1] for k in state if k.startswith("from_rgbs.")}) - 1
    max_channels = int(oasis.tensor(state, "final_linear.0.weight", path).shape[0])
    cfg = WaveletDiscriminatorConfig(resolution=tuple(size), channel_base=64 * max_channels,
                                     max_channels=max_channels)
    tensors = oasis.renamed(state, DU_RENAMES + [(rf"^from_wavelets\.{last}\.", "from_last.")])
    # FusedLeakyReLU biases: official [1, C, 1, 1], semsynth's conv bias [C]
    tensors = {k: (name, t.flatten() if k.endswith(".bias") else t) for k, (name, t) in tensors.items()}
    return oasis.load_converted(WaveletDiscriminator(cfg), tensors, path)


def convert(source, out, *, size=None, class_set=None, which_epoch="latest") -> Path:
    folder, options, states = oasis.read_checkpoint_folder(source, which_epoch, ("G",), optional=("EMA", "Du"))
    where = folder / "opt.txt"
    oasis.check_supported(options, where)
    size = oasis.output_size(options, size, where)
    path = lambda net: folder / "models" / f"{which_epoch}_{net}.pth"  # noqa: E731
    net_g = options.get("netG", "default")
    if net_g not in ("wavelet", "default"):
        raise ValueError(f"{where}: netG {net_g!r} is not supported; semsynth converts 'wavelet' "
                         "(ResidualWaveletGenerator_1) and 'default' (OASIS_Generator)")
    if "Du" in states and options.get("netDu", "wavelet") != "wavelet":
        raise ValueError(f"{where}: netDu {options.get('netDu')!r} is not supported; semsynth converts 'wavelet'")
    use_ema = "EMA" in states and not options.get("no_EMA", False)
    exported = "EMA" if use_ema else "G"

    def build(net: str):
        if net_g == "wavelet":
            return wavelet_generator(options, states[net], size, path(net), where)
        cfg = oasis.generator_config(options, states[net], size, path(net), where)
        return oasis.generator(cfg, states[net], path(net))

    models = {net: build(net) for net in ((exported, "G") if use_ema else (exported,))}
    if "Du" in states:
        models["Du"] = wavelet_discriminator(states["Du"], size, path("Du"))
    semantic_nc = models[exported].cfg.label_channels
    classes, use_dontcare = oasis.input_classes(class_set, semantic_nc,
                                                f"usis-{options.get('dataset_mode', 'labels')}-{semantic_nc}")
    meta = lambda net: oasis.sis_meta("usis", USIS_REPO, "unpaired", folder, options, which_epoch,  # noqa: E731
                                      size, classes, use_dontcare, semantic_nc, net)
    out = Path(out)
    save_pretrained(models[exported], out, extra=meta(exported))
    if use_ema:
        save_pretrained(models["G"], out / oasis.RAW_GENERATOR_FOLDER, extra=meta("G"))
    if "Du" in models:
        save_pretrained(models["Du"], out / oasis.DISCRIMINATOR_FOLDER, extra={
            "task": "sis-discriminator", "size": list(size), "converted_from": meta("Du")["converted_from"]})
    return out
