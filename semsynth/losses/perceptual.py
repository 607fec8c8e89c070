"""SPADE's VGG-19 perceptual loss: L1 between VGG features of fake and real photos at relu1_1..relu5_1,
weighted 1/32, 1/16, 1/8, 1/4, 1 (S:models/networks/loss.py VGGLoss). Photos in [-1, 1] go in as they are,
without ImageNet normalisation, as in the official code.

The ImageNet weights are read from a local file only, never downloaded. Looked up in this order:
an explicit path (config field `vgg_weights`), the env variable SEMSYNTH_VGG19, then torchvision's torch hub
cache file `<torch hub dir>/checkpoints/vgg19-dcbb9e9d.pth`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.vgg import cfgs, make_layers

from semsynth.file_hash import sha256_file

VGG19_FILE = "vgg19-dcbb9e9d.pth"                 # torchvision's name for the ImageNet VGG-19 weights
VGG19_URL = "https://download.pytorch.org/models/" + VGG19_FILE
ENV_VAR = "SEMSYNTH_VGG19"
SLICES = ((0, 2), (2, 7), (7, 12), (12, 21), (21, 30))  # features[a:b] end at relu1_1 .. relu5_1
WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,})\.")        # torch.hub's HASH_REGEX


def hub_cache_file() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE


def check_hash(path: Path) -> None:
    """If the file name carries a hash prefix (torchvision style `name-<sha256 prefix>.pth`), the file's SHA-256
    must start with it, as torch.hub's check_hash requires."""
    match = _HASH_IN_NAME.search(path.name)
    if not match:
        return
    digest = sha256_file(path)
    if not digest.startswith(match.group(1)):
        raise ValueError(f"{path}: SHA-256 {digest[:16]}... does not start with {match.group(1)!r} from its name; "
                         f"the file is corrupt or not torchvision's {VGG19_FILE}")


def find_vgg19_weights(path=None) -> Path:
    """The local VGG-19 weight file to use, or FileNotFoundError saying where to put it."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"VGG-19 weights {path} (vgg_weights) do not exist. Give the path of "
                                    f"torchvision's {VGG19_FILE}, or train without the VGG loss: --no-use-vgg "
                                    f"(use_vgg=False).")
        return path
    if os.environ.get(ENV_VAR):
        env_path = Path(os.environ[ENV_VAR])
        if not env_path.is_file():
            raise FileNotFoundError(f"{ENV_VAR}={env_path} does not exist; point it at torchvision's {VGG19_FILE}")
        return env_path
    cached = hub_cache_file()
    if cached.is_file():
        return cached
    raise FileNotFoundError(
        f"the VGG loss needs torchvision's ImageNet VGG-19 weights {VGG19_FILE}, and semsynth never downloads. "
        f"Fetch {VGG19_URL} on a machine with internet and put it at {cached} (the torch hub cache), or anywhere "
        f"and set {ENV_VAR}=/path/{VGG19_FILE} or the config field vgg_weights. To train without it use "
        f"--no-use-vgg (use_vgg=False).")


def load_vgg19_features(path=None) -> nn.Sequential:
    """torchvision's vgg19().features (built with no weights) loaded from the local file; frozen, eval mode.

    The file is a state dict with `features.*` keys (torchvision's full model file; `classifier.*` is unused).
    """
    path = find_vgg19_weights(path)
    check_hash(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a VGG-19 state dict, got {type(state).__name__}")
    features = make_layers(cfgs["E"], batch_norm=False)  # torchvision vgg19 feature extractor
    wanted = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    expected = features.state_dict()
    missing = sorted(set(expected) - set(wanted))
    if missing:
        raise ValueError(f"{path}: not a VGG-19 state dict; missing features.{missing[0]} and {len(missing) - 1} more")
    for key, value in wanted.items():
        if key not in expected or value.shape != expected[key].shape:
            raise ValueError(f"{path}: features.{key} has shape {tuple(value.shape)}, VGG-19 expects "
                             f"{tuple(expected[key].shape) if key in expected else 'no such key'}")
    features.load_state_dict(wanted, strict=True)
    return features.eval().requires_grad_(False)


class VGGLoss(nn.Module):
    """loss(fake, real) = sum_i w_i * L1(vgg_i(fake), vgg_i(real).detach()); photos [N, 3, H, W] in [-1, 1]."""

    def __init__(self, weights_path=None):
        super().__init__()
        features = load_vgg19_features(weights_path)
        self.slices = nn.ModuleList(features[a:b] for a, b in SLICES)

    def train(self, mode: bool = True):
        return super().train(False)  # frozen feature extractor: always eval

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        if fake.shape != real.shape or fake.dim() != 4 or fake.shape[1] != 3:
            raise ValueError(f"VGG loss expects two photos [N, 3, H, W] of one shape, got {tuple(fake.shape)} and "
                             f"{tuple(real.shape)}")
        x, y = fake, real
        loss = fake.new_zeros((), dtype=torch.float32)
        for weight, block in zip(WEIGHTS, self.slices):
            x, y = block(x), block(y)
            loss = loss + weight * F.l1_loss(x.float(), y.detach().float())
        return loss
