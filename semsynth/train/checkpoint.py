"""Training checkpoints: RUN/checkpoints/<step:08d>/ holds <net>.safetensors for every net (unwrapped) and state.pt
(optimizers, RNG states, counters, data position; plain tensors and containers, read with weights_only=True).

A checkpoint is written into a temp folder, fsynced, then renamed: a crash leaves the previous checkpoints and at
most one stale `.tmp-*` folder, which `remove_stale` removes. The folder also holds manifest.json, the SHA-256 and
size of every other file, written before the rename: `read_checkpoint` checks it and that every tensor is finite,
so a truncated, emptied or bit-flipped file (or NaN weights) is reported as CorruptCheckpoint instead of being
trained on. Folders written before manifests existed are checked for readability and finiteness only.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from semsynth.file_hash import sha256_file
from semsynth.models.io import state_dict_for_saving, unwrap

STATE_NAME = "state.pt"
MANIFEST_NAME = "manifest.json"
TMP_PREFIX = ".tmp-"


class CorruptCheckpoint(ValueError):
    """A checkpoint folder whose files do not match its manifest, cannot be read, or hold non-finite tensors."""


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
    torch.save({**state, "step": step}, tmp / STATE_NAME)
    _fsync(tmp / STATE_NAME)
    manifest = {"files": {p.name: file_record(p) for p in sorted(tmp.iterdir())}}
    (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1))
    _fsync(tmp / MANIFEST_NAME)
    _fsync(tmp)
    if final.exists():  # the same step saved twice (e.g. a resumed run that stops at once): newest wins
        shutil.rmtree(final)
    os.rename(tmp, final)
    _fsync(root)
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old)
    return final


def file_record(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def check_manifest(folder: Path) -> None:
    """Raise CorruptCheckpoint naming the first file that differs from manifest.json (no manifest: nothing to
    check, an old checkpoint)."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return
    try:
        files = json.loads(path.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CorruptCheckpoint(f"{path}: unreadable manifest ({err})") from err
    for name, want in sorted(files.items()):
        file = folder / name
        if not file.is_file():
            raise CorruptCheckpoint(f"{file} is missing")
        got = file_record(file)
        if got["bytes"] != want["bytes"]:
            raise CorruptCheckpoint(f"{file} has {got['bytes']} bytes, the checkpoint wrote {want['bytes']} "
                                    f"(truncated?)")
        if got["sha256"] != want["sha256"]:
            raise CorruptCheckpoint(f"{file}: SHA-256 differs from the one written with the checkpoint")


def _non_finite(obj, where: str) -> str | None:
    """The key path of the first floating tensor in `obj` holding NaN or Inf; None if all are finite."""
    if isinstance(obj, torch.Tensor):
        return where if obj.is_floating_point() and not bool(torch.isfinite(obj).all()) else None
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        return None
    for k, v in items:
        bad = _non_finite(v, f"{where}.{k}" if where else str(k))
        if bad:
            return bad
    return None


def read_checkpoint(folder, names) -> tuple[dict[str, dict[str, torch.Tensor]], dict]:
    """({net: tensors}, state) of checkpoint `folder` on the CPU, checked (manifest, readability, finiteness);
    `names`: the nets the run has. Raises CorruptCheckpoint (naming the file) or ValueError (other nets)."""
    folder = Path(folder)
    check_manifest(folder)
    files = {p.stem for p in folder.glob("*.safetensors")}
    if files != set(names):
        raise ValueError(f"checkpoint {folder} holds nets {sorted(files)}, the run has {sorted(names)}")
    tensors = {}
    for name in sorted(names):
        path = folder / f"{name}.safetensors"
        try:
            tensors[name] = load_file(str(path))
        except Exception as err:  # safetensors raises its own error types for truncated or garbled files
            raise CorruptCheckpoint(f"{path}: unreadable ({err})") from err
        bad = _non_finite(tensors[name], "")
        if bad:
            raise CorruptCheckpoint(f"{path}: tensor {bad} holds NaN or Inf")
    try:
        state = torch.load(folder / STATE_NAME, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated zip, an unpickling error...
        raise CorruptCheckpoint(f"{folder / STATE_NAME}: unreadable ({err})") from err
    bad = _non_finite(state, "")
    if bad:
        raise CorruptCheckpoint(f"{folder / STATE_NAME}: {bad} holds NaN or Inf")
    return tensors, state


def load_checkpoint(folder, nets: dict[str, torch.nn.Module]) -> dict:
    """Check checkpoint `folder` (read_checkpoint), load every net of `nets` strictly from it and return its
    state dict."""
    tensors, state = read_checkpoint(folder, nets)
    for name, net in nets.items():
        net = unwrap(net)
        device = next(iter(net.state_dict().values())).device if net.state_dict() else "cpu"
        net.load_state_dict({k: v.to(device) for k, v in tensors[name].items()}, strict=True)
    return state


def set_aside(folder) -> Path:
    """Rename a corrupt checkpoint folder to <step>.corrupt (or .corrupt-N): no longer listed, pruned or resumed
    from, but kept for a look."""
    folder = Path(folder)
    target, n = folder.with_name(f"{folder.name}.corrupt"), 1
    while target.exists():
        n += 1
        target = folder.with_name(f"{folder.name}.corrupt-{n}")
    os.rename(folder, target)
    return target
