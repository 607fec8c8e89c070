"""The official codes for bench/versus_official.py: find the user's clones, import their networks, build them with a
seed, and hand the same weights to semsynth through its converters (`semsynth convert` writes the model folders).

Nothing of the official code is in this project: the user clones it (`CLONES` says what) into one folder and passes
it as --official-root. Importing it needs a few import-only stand-ins, put into sys.modules here and never used:
  - stylegan2-ada: `requests` (dnnlib.util imports it for downloads);
  - SPADE: the `models` / `models.networks` package __init__s are skipped (they import util.util, which needs
    `dill`, and the VGG loss) by registering bare packages pointing at the clone's folders, and the
    `sync_batchnorm` git submodule is replaced by torch's BatchNorm2d when it was not cloned. The bench uses
    norm_G 'spectralspadebatch3x3' (plain BatchNorm2d), which is what SynchronizedBatchNorm2d computes in one process.
The official weights reach semsynth in the official on-disk formats (a stylegan2-ada network pickle, a SPADE
checkpoint folder with opt.txt) and go through `semsynth.convert`, exactly as a user's checkpoint would.
"""
from __future__ import annotations

import copy
import importlib
import pickle
import sys
import types
from argparse import Namespace
from pathlib import Path

import torch

CLONES = {  # folder name -> (repository, the commit the bench was written against)
    "stylegan2-ada-pytorch": ("https://github.com/NVlabs/stylegan2-ada-pytorch", "d72cc7d"),
    "SPADE": ("https://github.com/NVlabs/SPADE", "fecacc9"),
}
SPADE_LABELS = 35   # Cityscapes raw ids; + 1 instance-edge channel = 36 generator input channels
SPADE_NORM_G = "spectralspadebatch3x3"


class OfficialCodeMissing(FileNotFoundError):
    """--official-root lacks a clone; the message says what to clone where."""


def missing_message(root: Path, missing: list[str]) -> str:
    lines = [f"{root}: the official code is missing ({', '.join(missing)}). Clone it there (never into semsynth):"]
    for name in missing:
        url, commit = CLONES[name]
        lines.append(f"  git clone {url} {root / name} && git -C {root / name} checkout {commit}")
    return "\n".join(lines)


def check_root(root) -> Path:
    """`root` as a Path holding both clones; OfficialCodeMissing (naming what to clone) otherwise."""
    root = Path(root).expanduser()
    missing = [name for name in CLONES if not (root / name / ("training" if name != "SPADE" else "models")).is_dir()]
    if missing:
        raise OfficialCodeMissing(missing_message(root, missing))
    return root


def _stand_in(name: str, **attrs) -> None:
    if name not in sys.modules:
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        sys.modules[name] = module


def _bare_package(name: str, folder: Path) -> None:
    """Register package `name` without running its __init__.py, so its submodules import from `folder`."""
    package = types.ModuleType(name)
    package.__path__ = [str(folder)]
    sys.modules[name] = package


def import_official(root: Path) -> dict[str, types.ModuleType]:
    """The official modules the bench uses, imported from the clones under `root`."""
    sg2, spade = root / "stylegan2-ada-pytorch", root / "SPADE"
    for path in (sg2, spade):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    try:
        importlib.import_module("requests")
    except ImportError:
        _stand_in("requests")
    _bare_package("models", spade / "models")
    _bare_package("models.networks", spade / "models" / "networks")
    if not (spade / "models" / "networks" / "sync_batchnorm" / "__init__.py").is_file():
        _stand_in("models.networks.sync_batchnorm", SynchronizedBatchNorm2d=torch.nn.BatchNorm2d)
    names = {"networks": "training.networks", "loss": "training.loss", "misc": "torch_utils.misc",
             "upfirdn2d": "torch_utils.ops.upfirdn2d", "bias_act": "torch_utils.ops.bias_act",
             "spade_generator": "models.networks.generator"}
    modules = {key: importlib.import_module(name) for key, name in names.items()}
    for op in ("upfirdn2d", "bias_act"):
        # the reference ops: building the CUDA plugins needs a compiler and minutes, and upfirdn2d retries on
        # every call when the build fails (its _init never sets _inited); on CPU the reference ops run anyway
        modules[op]._inited, modules[op]._plugin = True, None
    return modules


# ------------------------------------------------------------------------------------------------ StyleGAN2
def auto_config(resolution: int) -> dict:
    """stylegan2-ada train.py `--cfg auto` on one GPU at `resolution`: minibatch, mbstd group, fmaps, lr, map."""
    mb = max(min(1 * min(4096 // resolution, 32), 64), 1)
    return {"mb": mb, "mbstd": min(mb, 4), "fmaps": 1 if resolution >= 512 else 0.5,
            "lrate": 0.002 if resolution >= 1024 else 0.0025, "map": 2}


def stylegan2_nets(official: dict, resolution: int, seed: int, mbstd_group: int | None = None,
                   channel_base: int | None = None):
    """(G, D) of the official code as `--cfg auto` builds them at `resolution`, float32 everywhere (num_fp16_res 0:
    semsynth computes the official force_fp32 numbers; the fp16 blocks exist only on GPUs)."""
    spec = auto_config(resolution)
    base = channel_base or int(spec["fmaps"] * 32768)
    net = official["networks"]
    torch.manual_seed(seed)
    G = net.Generator(z_dim=512, w_dim=512, c_dim=0, img_resolution=resolution, img_channels=3,
                      mapping_kwargs={"num_layers": spec["map"]},
                      synthesis_kwargs={"channel_base": base, "channel_max": 512, "num_fp16_res": 0,
                                        "conv_clamp": 256})
    D = net.Discriminator(c_dim=0, img_resolution=resolution, img_channels=3, architecture="resnet",
                          channel_base=base, channel_max=512, num_fp16_res=0, conv_clamp=256,
                          block_kwargs={}, mapping_kwargs={},
                          epilogue_kwargs={"mbstd_group_size": mbstd_group or spec["mbstd"]})
    return G.train().requires_grad_(False), D.train().requires_grad_(False)


def write_snapshot(G, D, path: Path) -> Path:
    """A network-snapshot pickle as stylegan2-ada training_loop.py writes it (G_ema = G, as at the start of
    training); the networks pickle their own source through the official persistence module."""
    snapshot = {"training_set_kwargs": None, "augment_pipe": None}
    for name, module in (("G", G), ("D", D), ("G_ema", G)):
        snapshot[name] = copy.deepcopy(module).eval().requires_grad_(False).cpu()
    with open(path, "wb") as f:
        pickle.dump(snapshot, f)
    return path


def convert_stylegan2(G, D, folder: Path):
    """semsynth's (G, D) from the official ones: a snapshot pickle -> `semsynth convert stylegan2-ada` -> folders."""
    from semsynth.convert import stylegan2_ada
    from semsynth.models.io import from_pretrained
    folder.mkdir(parents=True, exist_ok=True)
    out = stylegan2_ada.convert(write_snapshot(G, D, folder / "network-snapshot.pkl"), folder / "model")
    return from_pretrained(out), from_pretrained(out / stylegan2_ada.DISCRIMINATOR_FOLDER)


class OfficialStyleGAN2Step:
    """One phase of the official training loop (training_loop.py: requires_grad, zero_grad, accumulate_gradients,
    nan_to_num of the gradients, Adam step), the loss being StyleGAN2Loss without regularisers (r1_gamma 0,
    pl_weight 0; style mixing 0.9 as the default)."""

    def __init__(self, official: dict, G, D, real: torch.Tensor, lr: float, autocast: bool = False):
        self.official, self.G, self.D, self.real = official, G, D, real
        device = real.device
        self.loss = official["loss"].StyleGAN2Loss(device, G.mapping, G.synthesis, D, r1_gamma=0, pl_weight=0)
        self.opts = {"Gmain": torch.optim.Adam(G.parameters(), lr=lr, betas=(0.0, 0.99), eps=1e-8),
                     "Dmain": torch.optim.Adam(D.parameters(), lr=lr, betas=(0.0, 0.99), eps=1e-8)}
        self.modules = {"Gmain": G, "Dmain": D}
        self.c = torch.zeros([len(real), 0], device=device)
        self.autocast = autocast

    def __call__(self, phase: str) -> None:
        module, opt = self.modules[phase], self.opts[phase]
        module.requires_grad_(True)
        opt.zero_grad(set_to_none=True)
        z = torch.randn([len(self.real), self.G.z_dim], device=self.real.device)
        with torch.autocast(self.real.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            self.loss.accumulate_gradients(phase=phase, real_img=self.real, real_c=self.c, gen_z=z, gen_c=self.c,
                                           sync=True, gain=1)
        module.requires_grad_(False)
        for param in module.parameters():
            if param.grad is not None:
                self.official["misc"].nan_to_num(param.grad, nan=0, posinf=1e5, neginf=-1e5, out=param.grad)
        opt.step()


# ------------------------------------------------------------------------------------------------ SPADE
def spade_options(height: int, width: int, ngf: int) -> dict:
    """The SPADE options of a Cityscapes-style generator at height x width (crop_size = width, aspect 2:1)."""
    return {"netG": "spade", "norm_G": SPADE_NORM_G, "ngf": ngf, "num_upsampling_layers": "normal",
            "use_vae": False, "z_dim": 256, "crop_size": width, "aspect_ratio": width / height,
            "label_nc": SPADE_LABELS, "contain_dontcare_label": False, "no_instance": False,
            "dataset_mode": "cityscapes", "init_type": "xavier", "init_variance": 0.02}


def spade_generator(official: dict, options: dict, seed: int):
    """The official SPADEGenerator, initialised as SPADE's train.py does (init_weights(xavier, 0.02))."""
    opt = Namespace(**options, semantic_nc=SPADE_LABELS + 1)
    torch.manual_seed(seed)
    G = official["spade_generator"].SPADEGenerator(opt)
    G.init_weights(options["init_type"], options["init_variance"])
    return G


def write_spade_checkpoint(G, options: dict, folder: Path) -> Path:
    """A SPADE checkpoint folder: latest_net_G.pth (torch.save of the state dict) and opt.txt in SPADE's format."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().cpu() for k, v in G.state_dict().items()}, folder / "latest_net_G.pth")
    lines = ["----------------- Options ---------------"]
    lines += [f"{key:>25}: {str(value):<30}" for key, value in sorted(options.items())]
    lines.append("----------------- End -------------------")
    (folder / "opt.txt").write_text("\n".join(lines) + "\n")
    return folder


def convert_spade(G, options: dict, folder: Path):
    """semsynth's SPADE generator from the official one: checkpoint folder -> `semsynth convert spade`."""
    from semsynth.convert import spade
    from semsynth.models.io import from_pretrained
    source = write_spade_checkpoint(G, options, folder / "checkpoint")
    return from_pretrained(spade.convert(source, folder / "model"))
