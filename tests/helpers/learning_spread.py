"""Print every learning test's figures over seeds and torch thread counts, and their spread:

    python -m tests.helpers.learning_spread --seeds 0 1 2 3 4 --threads 1 2 [--only paired layout-dcgan ...]

Each test's bounds are set from this table (the worst run clears each bound by >= 20 % of the gap between the
baseline and the learned value) and the table's range is written in the test's docstring. Float results differ
between CPUs, BLAS kernels and thread counts, and a GAN run amplifies any difference much as another seed does, so
the spread over seeds stands in for the spread over machines.
"""
from __future__ import annotations

import argparse
import importlib
import time

import torch

# name -> (test module, keyword arguments of its `measure`)
MEASURES = {
    "segmenter": ("tests.train.test_segmenter_learning", {}),
    "usis": ("tests.train.test_usis_learning", {}),
    "paired": ("tests.train.test_sis_paired_learning", {}),
    "layout-stylegan2": ("tests.train.test_layout_learning", {"arch": "stylegan2", "output": "labels"}),
    "layout-dcgan": ("tests.train.test_layout_learning", {"arch": "dcgan", "output": "labels"}),
    "layout-rgb": ("tests.train.test_layout_learning", {"arch": "stylegan2", "output": "rgb"}),
    "layout-clean": ("tests.train.test_layout_clean_learning", {"setting": "tiny"}),
    "layout-clean-old": ("tests.train.test_layout_clean_learning", {"setting": "old"}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", nargs="+", choices=sorted(MEASURES), default=sorted(MEASURES))
    args = parser.parse_args()
    for name in args.only:
        module, kwargs = MEASURES[name]
        measure = importlib.import_module(module).measure
        rows = []
        for threads in args.threads:
            torch.set_num_threads(threads)
            for seed in args.seeds:
                start = time.time()
                figures = measure(seed, **kwargs)
                rows.append(figures)
                print(f"{name} seed {seed} threads {threads} ({time.time() - start:.0f} s): "
                      + ", ".join(f"{k} {v:.4f}" for k, v in figures.items()), flush=True)
        for key in rows[0]:
            values = [r[key] for r in rows]
            print(f"{name} {key}: min {min(values):.4f} max {max(values):.4f} over {len(values)} runs", flush=True)


if __name__ == "__main__":
    main()
