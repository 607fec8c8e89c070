"""Write a bundle from a trained suite: each run's exported model (only what inference needs: G_ema or the
segmenter, never D or an optimizer) as fp16 safetensors + its config.json, and manifest.json with every file's
SHA-256 and size.

fp16 halves the bytes the package carries; the loader (semsynth.models.io.from_pretrained) copies the tensors into
the fp32 model it builds, so inference runs in fp32. A weight beyond fp16's range would become Inf and is refused
here, not discovered by a user.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file

from semsynth.file_hash import sha256_file
from semsynth.io_atomic import atomic_write
from semsynth.models.io import (CONFIG_NAME, DISCRIMINATOR_FOLDER, WEIGHTS_NAME, load_finite, model_folder,
                                read_meta)
from semsynth.pretrained.bundle import MEMBERS

LIMIT_BYTES = 15_000_000  # package data budget of all bundled files together
MANIFEST = "manifest.json"


def half_tensors(tensors: dict[str, torch.Tensor], where: Path) -> dict[str, torch.Tensor]:
    """Floating tensors as fp16 (integer buffers unchanged); a value fp16 cannot hold is an error naming it."""
    out = {}
    for name, t in tensors.items():
        if t.is_floating_point():
            t = t.to(torch.float16)
            if not bool(torch.isfinite(t).all()):
                raise ValueError(f"{where}: tensor {name!r} holds values beyond fp16's range (|x| > 65504)")
        out[name] = t.contiguous()
    return out


def export_model_folder(source, dest) -> list[Path]:
    """Copy one model folder (and its sub-models, e.g. a SIS encoder; never a discriminator) with fp16 weights.
    Returns the files written."""
    source, dest = Path(source), Path(dest)
    written = []
    for config in sorted(source.rglob(CONFIG_NAME)):
        sub = config.parent.relative_to(source)
        if DISCRIMINATOR_FOLDER in sub.parts:
            continue
        meta = read_meta(config.parent)
        weights = config.parent / WEIGHTS_NAME
        tensors = half_tensors(load_finite(weights), weights)
        target = dest / sub
        target.mkdir(parents=True, exist_ok=True)
        atomic_write(target / WEIGHTS_NAME, lambda p: save_file(tensors, p, metadata={"format": "pt"}))
        meta = {**meta, "weights_dtype": "float16"}
        atomic_write(target / CONFIG_NAME, lambda p: Path(p).write_text(json.dumps(meta, indent=2) + "\n"))
        written += [target / CONFIG_NAME, target / WEIGHTS_NAME]
    if not written:
        raise FileNotFoundError(f"{source} holds no model ({CONFIG_NAME} + {WEIGHTS_NAME})")
    return written


def export_bundle(runs: dict, out, name: str) -> dict:
    """Write runs[member] (run directories or model folders; members of bundle.MEMBERS) into `out`/<member>/
    and `out`/manifest.json; returns the manifest. `out` is replaced as a whole."""
    unknown = sorted(set(runs) - set(MEMBERS))
    if unknown:
        raise ValueError(f"cannot bundle {unknown}: a bundle holds {list(MEMBERS)}")
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)  # a bundle holds exactly this export: no file of an older one may stay
    files = []
    for member in MEMBERS:
        if member in runs:
            files += export_model_folder(model_folder(runs[member]), out / member)
    entries = {f.relative_to(out).as_posix(): {"sha256": sha256_file(f), "bytes": f.stat().st_size} for f in files}
    total = sum(e["bytes"] for e in entries.values())
    manifest = {"name": name, "files": entries, "total_bytes": total, "limit_bytes": LIMIT_BYTES,
                "sources": {member: str(Path(run).resolve()) for member, run in runs.items()}}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def size_warning(manifest: dict) -> str | None:
    """One line when the bundle exceeds the package-data budget, else None."""
    total = manifest["total_bytes"]
    if total <= LIMIT_BYTES:
        return None
    return (f"bundle {manifest['name']!r} is {total / 1e6:.1f} MB, over the {LIMIT_BYTES / 1e6:.0f} MB package-data "
            "budget: train narrower models (semsynth demo --train --preset bundle)")


def registry_entry(manifest: dict) -> str:
    """The lines to paste into semsynth/pretrained/registry.py's BUNDLED for this bundle."""
    lines = [f"    {manifest['name']!r}: {{"]
    lines += [f"        {rel!r}: {entry['sha256']!r}," for rel, entry in sorted(manifest["files"].items())]
    return "\n".join(lines + ["    },"])
