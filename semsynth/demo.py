"""The demo, in two modes. Bundled (the default): the small pretrained models shipped in the package
(semsynth/pretrained) generate, and the comparison report is written in about two minutes. --train: train every
model on synthetic-streets for a time budget (the suite), then run the same comparison; optionally export the
trained models as a bundle.

It lives at the package top, above the rooms it joins (train/ for the suite, evaluation/ for compare, pretrained/
for the bundle), so none of them imports another; cli/demo.py only parses the options."""
from __future__ import annotations

from pathlib import Path

import torch

from semsynth.evaluation.compare import run_compare
from semsynth.evaluation.protocol import check_inception
from semsynth.pretrained import bundle, export, recipe
from semsynth.train import suite

# Samples per set with the bundled models: the most that fits the demo's 2 minutes on 2 CPU cores. FID/KID make up
# most of the time (the Inception at 299x299 reads 5 x n images, 4 x n once the real statistics are cached). Measured
# 2026-11-28 on the shipped models (bundle v2), 2 threads, idle machine, empty real-statistics cache: n = 100 in
# 92 s; n = 500 takes about 6 minutes (the Inception reads 8 images/s; `semsynth demo --n 500`, or
# bench/quality.py --bundled, gives the standard-size figures).
BUNDLED_N = 100
TRAIN_N = 50     # in --train mode the training takes the minutes


def run_demo(out="demo-out", minutes: float = 5.0, size=None, n: int = TRAIN_N, seed: int = 0,
             device: str | None = None, preset: str = "tiny", fid: bool = True, export_pretrained=None,
             bundle_name: str = bundle.DEFAULT_BUNDLE) -> dict:
    """Train the suite (semsynth/train/suite.py) within `minutes`, then write the compare report to out/report.
    size None = 32x64 on CPU (enough steps in minutes to learn something), 128x256 on CUDA. fid: check the
    Inception weights before training (a missing or wrong file stops the demo in seconds) and report FID/KID;
    False = neither. preset "bundle": the bundled models' recipe (pretrained/recipe.py).
    export_pretrained: a folder to write the trained models into as bundle `bundle_name` (pretrained/export.py)."""
    if fid:
        check_inception()
    out = Path(out)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    size = size or ((128, 256) if device.startswith("cuda") else (32, 64))
    runs = suite.train_suite("synthetic-streets", out / "runs", size=size, minutes=minutes, seed=seed,
                             device=device, **recipe.suite_options(preset))
    if export_pretrained is not None:
        write_bundle(runs, export_pretrained, bundle_name)
    print("[demo] comparing")
    return run_compare("synthetic-streets", runs["layout"], [runs["sis-paired"], runs["sis-unpaired"]],
                       runs["image"], n, out / "report", split="val", seed=seed, device=device,
                       segmenter=runs["segmenter"], fid=fid)


def write_bundle(runs: dict, folder, name: str) -> dict:
    """Export the suite's models as a bundle and say how to ship it."""
    manifest = export.export_bundle(runs, folder, name)
    print(f"[demo] exported bundle {name!r} to {folder}: {len(manifest['files'])} files, "
          f"{manifest['total_bytes'] / 1e6:.1f} MB (manifest.json holds each file's SHA-256 and size)")
    warning = export.size_warning(manifest)
    if warning:
        print(f"[demo] warning: {warning}")
    print(f"[demo] to ship it: copy {folder} to semsynth/pretrained/{name}/ and add to BUNDLED in "
          f"semsynth/pretrained/registry.py:\n{export.registry_entry(manifest)}")
    return manifest


def run_bundled_demo(out="demo-out", n: int = BUNDLED_N, seed: int = 0, device: str | None = None,
                     fid: bool = True, name: str = bundle.DEFAULT_BUNDLE) -> dict:
    """The comparison report of bundle `name`'s models (every file SHA-256-checked first) into out/report."""
    if fid:
        check_inception()
    members = bundle.bundle_members(name)
    missing = sorted(set(bundle.MEMBERS) - set(members))
    if missing:
        raise ValueError(f"bundled model {name!r} lacks {missing}; the demo compares all of {list(bundle.MEMBERS)}")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"[demo] bundled models {name!r} (semsynth/pretrained/{name}); `semsynth demo --train` trains from scratch")
    return run_compare("synthetic-streets", members["layout"], [members["sis-paired"], members["sis-unpaired"]],
                       members["image"], n, Path(out) / "report", split="val", seed=seed, device=device,
                       segmenter=members["segmenter"], fid=fid)


def has_bundle(name: str = bundle.DEFAULT_BUNDLE) -> bool:
    """True when bundle `name` is recorded and its folder installed (its files are checked when it is loaded)."""
    return name in bundle.bundled_names() and (bundle.ROOT / name).is_dir()
