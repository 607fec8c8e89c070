"""Samples/s of the data readers at 256x512 through a DataLoader with 0 and 2 workers.

Prints numbers, asserts nothing. Target: >= 100 samples/s for synthetic-streets on 2 cores.
    python bench/data_throughput.py [--size 256x512] [--n 200]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from semsynth.classes import class_set_to_dict, get_class_set
from semsynth.data import load_dataset, parse_size


def throughput(dataset, workers: int, n: int, batch: int = 8) -> float:
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, num_workers=workers,
                                         sampler=range(min(n, len(dataset))))
    it = iter(loader)
    next(it)  # start-up (worker spawn) is not throughput
    start, seen = time.perf_counter(), batch
    for b in it:
        seen += len(b["name"])
    return (seen - batch) / (time.perf_counter() - start)


def write_folder(root: Path, size, n: int) -> None:
    """A plain-folder data set made from synthetic-streets scenes, stored as PNGs at `size`."""
    src = load_dataset("synthetic-streets", size=size, mode="paired", seed=123)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    cs = get_class_set("cityscapes")
    spec = class_set_to_dict(cs)
    (root / "classes.json").write_text(json.dumps(
        {"name": "streets", "classes": [{"name": nm, "color": c} for nm, c in zip(spec["names"], spec["colors"])]}))
    for i in range(n):
        item = src[i]
        photo = ((item["image"] + 1) * 127.5).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
        Image.fromarray(photo).save(root / "images" / f"{i:05d}.png")
        Image.fromarray(item["label"].numpy().astype(np.uint8)).save(root / "labels" / f"{i:05d}.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="256x512")
    ap.add_argument("--n", type=int, default=200, help="samples timed per configuration")
    args = ap.parse_args()
    size = parse_size(args.size)
    print(f"data throughput at {size[0]}x{size[1]}, torch threads {torch.get_num_threads()}")
    for workers in (0, 2):
        ds = load_dataset("synthetic-streets", size=size, mode="paired")
        print(f"  synthetic-streets  paired  workers={workers}: {throughput(ds, workers, args.n):7.1f} samples/s")
    with tempfile.TemporaryDirectory() as tmp:
        write_folder(Path(tmp), size, min(args.n, 100))
        for workers in (0, 2):
            ds = load_dataset("folder", root=tmp, size=size, mode="paired")
            print(f"  folder (PNG)       paired  workers={workers}: {throughput(ds, workers, args.n):7.1f} samples/s")


if __name__ == "__main__":
    main()
