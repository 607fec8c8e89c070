"""Training checkpoints: RUN/checkpoints/<step:08d>/ holds <net>.safetensors for every net (unwrapped) and state.pt
(optimizers, RNG states, counters, data position; plain tensors and containers, read with weights_only=True).

A checkpoint is written into a temp folder, fsynced, then renamed: a crash leaves the previous checkpoints and at
most one stale `.tmp-*` folder, which `latest_checkpoint` removes.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from semsynth.models.io import state_dict_for_saving, unwrap

STATE_NAME = "state.pt"
TMP_PREFIX = ".tmp-"
# test hook "STEP:SECONDS": sleep that long in the middle of writing checkpoint STEP (to kill the process there)
DELAY_ENV = "SEMSYNTH_TEST_CHECKPOINT_DELAY"


def checkpoint_root(run_dir) -> Path:
    return Path(run_dir) / "checkpoints"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def list_checkpoints(run_dir) -> list[Path]:
    """Complete checkpoint folders, oldest first."""
    root = checkpoint_root(run_dir)
    if not root.is_dir():
        return []
    done = [p for p in root.iterdir() if p.is_dir() and p.name.isdigit() and (p / STATE_NAME).is_file()]
    return sorted(done, key=lambda p: int(p.name))


def remove_stale(run_dir) -> list[Path]:
    """Delete temp folders left by a crash during a checkpoint write; returns what was removed."""
    root = checkpoint_root(run_dir)
    stale = sorted(root.glob(TMP_PREFIX + "*")) if root.is_dir() else []
    for path in stale:
        shutil.rmtree(path)
    return stale


def latest_checkpoint(run_dir) -> Path | None:
    """The newest complete checkpoint (temp folders are never complete); None if there is none."""
    done = list_checkpoints(run_dir)
    return done[-1] if done else None


def _test_delay(step: int) -> float:
    spec = os.environ.get(DELAY_ENV)
    if not spec:
        return 0.0
    at, seconds = spec.split(":")
    return float(seconds) if int(at) == step else 0.0


def save_checkpoint(run_dir, step: int, nets: dict[str, torch.nn.Module], state: dict, keep: int) -> Path:
    """Write checkpoint `step` atomically and delete all but the newest `keep`."""
    root = checkpoint_root(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{step:08d}"
    tmp = root / f"{TMP_PREFIX}{step:08d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    for name, net in nets.items():
        path = tmp / f"{name}.safetensors"
        save_file(state_dict_for_saving(net), str(path), metadata={"format": "pt", "step": str(step)})
        _fsync(path)
    delay = _test_delay(step)
    if delay:
        time.sleep(delay)
    torch.save({**state, "step": step}, tmp / STATE_NAME)
    _fsync(tmp / STATE_NAME)
    _fsync(tmp)
    if final.exists():  # the same step saved twice (e.g. a resumed run that stops at once): newest wins
        shutil.rmtree(final)
    os.rename(tmp, final)
    _fsync(root)
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old)
    return final


def load_checkpoint(folder, nets: dict[str, torch.nn.Module]) -> dict:
    """Load every net of `nets` strictly from `folder` and return its state dict (weights_only)."""
    folder = Path(folder)
    files = {p.stem for p in folder.glob("*.safetensors")}
    if files != set(nets):
        raise ValueError(f"checkpoint {folder} holds nets {sorted(files)}, the run has {sorted(nets)}")
    for name, net in nets.items():
        net = unwrap(net)
        device = next(iter(net.state_dict().values())).device if net.state_dict() else "cpu"
        tensors = load_file(str(folder / f"{name}.safetensors"), device=str(device))
        net.load_state_dict(tensors, strict=True)
    return torch.load(folder / STATE_NAME, map_location="cpu", weights_only=True)
