"""Samples/s of the data readers at 256x512 through a DataLoader with 0 and 2 workers.

Two item formats: "compact" (uint8 labels and photos, widened on the device; what `semsynth train` loads) and
"plain" (LongTensor labels, float photos: what `dataset[i]` gives). Prints numbers, asserts nothing.
Target: >= 100 samples/s for synthetic-streets with 2 workers on 2 cores. Each configuration runs --repeat times and
prints the median and the best run: on a shared machine, interference from other work only ever lowers a run.
    python bench/data_throughput.py [--size 256x512] [--n 200] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from semsynth.classes import class_set_to_dict, get_class_set
from semsynth.data import CompactItems, load_dataset, parse_size
from semsynth.data.workers import init_worker


def throughput(dataset, workers: int, n: int, batch: int = 8) -> float:
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, num_workers=workers,
                                         sampler=range(min(n, len(dataset))), worker_init_fn=init_worker)
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
    ap.add_argument("--n", type=int, default=200, help="samples timed per run")
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration")
    args = ap.parse_args()
    size = parse_size(args.size)
    print(f"data throughput at {size[0]}x{size[1]}, torch threads {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as tmp:
        write_folder(Path(tmp), size, min(args.n, 100))
        for label, name, options in (("synthetic-streets", "synthetic-streets", {}),
                                     ("folder (PNG)", "folder", {"root": tmp})):
            for compact in (True, False):
                for workers in (0, 2):
                    rates = []
                    for _ in range(args.repeat):
                        ds = load_dataset(name, size=size, mode="paired", **options)
                        rates.append(throughput(CompactItems(ds) if compact else ds, workers, args.n))
                    print(f"  {label:18s} {'compact' if compact else 'plain':7s} workers={workers}: median "
                          f"{statistics.median(rates):6.1f}  best {max(rates):6.1f} samples/s")


if __name__ == "__main__":
    main()
