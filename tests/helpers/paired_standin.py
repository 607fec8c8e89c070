"""A small paired stand-in data set (labels of rectangles; photos = per-class colour + texture + noise) for the
SIS tests, independent of semsynth.data.synthetic."""
from __future__ import annotations

import numpy as np
import torch

from semsynth.classes import ClassSet, generated_palette


class PairedStandIn(torch.utils.data.Dataset):
    """Scene i: a few random axis-aligned rectangles of classes 0..C-1 on class 0; photo colour per class, with a
    class-specific stripe texture and a little noise; optional ignore (255) rectangle."""

    def __init__(self, n: int = 8, size=(32, 64), num_classes: int = 5, seed: int = 0, mode: str = "paired",
                 with_ignore: bool = False):
        self.size = tuple(size)
        self.mode = mode
        self.name = "paired-stand-in"
        self.classes = ClassSet(name="standin", names=tuple(f"c{i}" for i in range(num_classes)),
                                colors=generated_palette(num_classes, seed=1))
        palette = np.random.default_rng(1234).uniform(-0.8, 0.8, size=(num_classes, 3))  # same for every seed
        rng = np.random.default_rng(seed)
        H, W = self.size
        yy, xx = np.mgrid[0:H, 0:W]
        self.items = []
        for i in range(n):
            label = np.zeros((H, W), np.int64)
            for _ in range(4):
                c = int(rng.integers(1, num_classes))
                y0, x0 = int(rng.integers(0, H - 4)), int(rng.integers(0, W - 4))
                h, w = int(rng.integers(4, H // 2 + 1)), int(rng.integers(4, W // 2 + 1))
                label[y0:y0 + h, x0:x0 + w] = c
            texture = 0.15 * np.sin((xx * (1 + label % 3) + yy * (label % 2)) * 0.8)
            image = palette[label].transpose(2, 0, 1) + texture[None] + rng.normal(0, 0.03, (3, H, W))
            if with_ignore:
                label[:4, :8] = 255
            self.items.append({"label": torch.from_numpy(label),
                               "image": torch.from_numpy(np.clip(image, -1, 1)).float(), "name": f"scene{i}"})

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return dict(self.items[i])


def collate(items: list[dict]) -> dict:
    return {"label": torch.stack([it["label"] for it in items]), "image": torch.stack([it["image"] for it in items])}
