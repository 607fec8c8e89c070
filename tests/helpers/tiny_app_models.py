"""Tiny random models for the web app's tests and bench: a layout model, a paired SIS model with a style encoder
and an unpaired one, built (not trained) on TinyLabelSet's class set and exported as model folders. Also runnable:
`python -m tests.helpers.tiny_app_models OUT [--size 64x128] [--preset small]` writes them for bench/app_latency.py."""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from semsynth.train.tasks import layout, sis
from tests.helpers.tiny_sets import TinyLabelSet


def export_tiny_models(folder, size=(32, 64), preset: str = "tiny") -> dict[str, Path]:
    """{"layout", "paired", "unpaired"} -> exported model folders under `folder` (random weights, seed 0)."""
    folder = Path(folder)
    specs = {
        "layout": (layout, {"output": "labels"}, "labels"),
        "paired": (sis, {"mode": "paired", "use_vgg": False, "use_vae": True}, "paired"),
        "unpaired": (sis, {"mode": "unpaired"}, "unpaired"),
    }
    paths = {}
    for name, (task_module, overrides, data_mode) in specs.items():
        torch.manual_seed(0)
        cfg = task_module.Config(**{**task_module.PRESETS[preset]["task"], **overrides})
        task = task_module.build(cfg, TinyLabelSet(n=2, size=size, mode=data_mode))
        for net in task.nets.values():
            net.eval()
        task.export(folder / name)
        paths[name] = folder / name
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--size", default="32x64")
    parser.add_argument("--preset", default="tiny")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    for name, path in export_tiny_models(args.out, (h, w), args.preset).items():
        print(name, path)
