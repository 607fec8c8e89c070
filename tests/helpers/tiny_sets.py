"""Tiny in-memory data sets with the SegmentationDataset surface (.classes, .size, items) for task tests."""
from __future__ import annotations

import numpy as np
import torch

from semsynth.classes import ClassSet


def tiny_classes() -> ClassSet:
    return ClassSet(name="tiny", names=("sky", "building", "road", "car"),
                    colors=np.array([[70, 130, 180], [70, 70, 70], [128, 64, 128], [0, 0, 142]], np.uint8))


class TinyLabelSet(torch.utils.data.Dataset):
    """Street-like label maps: sky on top, building, road at the bottom, random horizon, a car, some ignore."""

    def __init__(self, n: int = 16, size=(32, 64), seed: int = 0, mode: str = "labels"):
        self.classes, self.size, self.name, self.mode = tiny_classes(), tuple(size), "tiny-streets", mode
        rng = np.random.default_rng(seed)
        H, W = size
        self.labels, self.images = [], []
        for _ in range(n):
            lab = np.full((H, W), 1, np.int64)
            sky, road = rng.integers(H // 6, H // 3), rng.integers(H // 2, 3 * H // 4)
            lab[:sky], lab[road:] = 0, 2
            x = rng.integers(0, W - 8)
            lab[road - 2: road + 2, x: x + 8] = 3
            lab[-1, :3] = 255
            self.labels.append(torch.from_numpy(lab))
            self.images.append(torch.from_numpy(self.classes.colorize(lab)).permute(2, 0, 1).float() / 127.5 - 1)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        item = {"name": str(i)}
        if self.mode in ("labels", "paired"):
            item["label"] = self.labels[i]
        if self.mode in ("images", "paired"):
            item["image"] = self.images[i]
        return item

    def batch(self, indices) -> dict:
        items = [self[i] for i in indices]
        return {k: torch.stack([it[k] for it in items]) for k in items[0] if k != "name"}
