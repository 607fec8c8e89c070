"""Run a trained segmenter on photos: the mIoU proxy of `semsynth evaluate miou`."""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from semsynth.evaluation.metrics.inception import sha256_of
from semsynth.models.io import load_model


def load_segmenter(path, device="cpu", *, trust_torchscript: bool = False, sha256: str | None = None
                   ) -> torch.nn.Module:
    """A segmenter from a semsynth model folder (`semsynth train segmenter` export), a run directory holding one
    in `RUN/model`, or a TorchScript file (`torch.jit.load`). Returned in eval mode; a folder model keeps its
    `config.json` as `model.meta` (with the training "size").

    A TorchScript file carries code that runs when it is loaded, so it loads only when the caller vouches for
    it: `trust_torchscript=True`, or `sha256` = the file's expected SHA-256 (a mismatch is an error). Model
    folders hold safetensors (data only) and need neither.
    """
    path = Path(path)
    if path.is_dir():
        try:
            return load_model(path, device, tasks=("segmenter",))
        except FileNotFoundError as err:
            raise FileNotFoundError(f"{err}; train one with `semsynth train segmenter`") from None
    if path.is_file():
        _check_torchscript_trust(path, trust_torchscript, sha256)
        try:
            with warnings.catch_warnings():  # torch 2.9+ flags torch.jit as deprecated
                warnings.filterwarnings("ignore", category=FutureWarning, message=".*torch.jit.load.*")
                model = torch.jit.load(str(path), map_location=device)
        except RuntimeError as err:
            raise ValueError(f"{path}: not a TorchScript segmenter ({err})") from err
        return model.eval()
    raise FileNotFoundError(f"segmenter {path} does not exist")


def _check_torchscript_trust(path: Path, trust: bool, sha256: str | None) -> None:
    if sha256:
        found = sha256_of(path)
        if found != sha256.strip().lower():
            raise ValueError(f"segmenter {path}: SHA-256 {found} differs from the expected {sha256}; not loaded")
        return
    if not trust:
        raise ValueError(f"segmenter {path} is a TorchScript file, which carries code that runs when loaded; load "
                         "it only if you trust it: pass --trust-torchscript, or --segmenter-sha256 HEX with its "
                         "expected SHA-256 (or use a model folder from `semsynth train segmenter`)")


@torch.no_grad()
def segment(model: torch.nn.Module, images: torch.Tensor, batch: int = 16,
            size: tuple[int, int] | None = None) -> torch.Tensor:
    """images float [N, 3, H, W] in [-1, 1] -> LongTensor [N, H, W] of class ids (argmax of the logits).

    Photos are resized (bilinear) to `size`, or to the size the model was trained at (`model.meta["size"]`),
    and the predictions resized back with nearest (ids must not blend). Runs on the model's device, returns CPU.
    """
    if images.dim() != 4 or images.shape[1] != 3 or not images.is_floating_point():
        raise ValueError(f"segment expects float images [N, 3, H, W] in [-1, 1], got {images.dtype} "
                         f"{tuple(images.shape)}")
    lo, hi = float(images.min()), float(images.max())
    if lo < -1.01 or hi > 1.01:
        raise ValueError(f"segment expects images in [-1, 1], found {lo:.3g}..{hi:.3g} "
                         "(convert uint8 photos with semsynth.data.from_uint8)")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    meta = getattr(model, "meta", None)
    if size is None and isinstance(meta, dict) and meta.get("size"):
        size = tuple(meta["size"])
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    N, _, H, W = images.shape
    out = []
    for start in range(0, N, batch):
        x = images[start:start + batch].to(device, torch.float32)
        if size is not None and tuple(size) != (H, W):
            x = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)
        pred = model(x).argmax(1)  # [n, h, w]
        if pred.shape[-2:] != (H, W):
            pred = F.interpolate(pred[:, None].float(), size=(H, W), mode="nearest")[:, 0].long()
        out.append(pred.cpu())
    return torch.cat(out)
