"""Cityscapes (gtFine) in its official layout: raw label ids 0..33 mapped to the 19 train ids, optional instance
edges (SPADE's extra input channel)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from semsynth.classes import get_class_set
from semsynth.data.base import read_image
from semsynth.data.files import FileDataset, FileSide, needed_sides, pair_scenes, require_dir

SPLITS = ("train", "val", "test")
LAYOUT = """root/
  leftImg8bit/{train,val,test}/<city>/<city>_<seq>_<frame>_leftImg8bit.png     8-bit RGB photos
  gtFine/{train,val,test}/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png       8-bit raw label ids 0..33
  gtFine/{train,val,test}/<city>/<city>_<seq>_<frame>_gtFine_instanceIds.png    16-bit instance ids (edges only)"""
IMAGE_ENDING = "_leftImg8bit.png"
LABEL_ENDING = "_gtFine_labelIds.png"
INSTANCE_ENDING = "_gtFine_instanceIds.png"
RAW_IDS = range(34)  # labelIds 0..33 (-1 "license plate" is never written to the PNGs)


class Cityscapes(FileDataset):
    """Cityscapes fine annotations. Items carry "label" in the 19 train ids (255 = ignore) and, with
    `use_instance_edges=True`, "edges" float[1, H, W]: 1 where a pixel's instance id differs from a 4-neighbour's,
    computed after the resize/crop/flip shared with the label (as SPADE computes them)."""

    def __init__(self, root=None, split: str = "train", size=(256, 512), mode: str = "paired", seed: int = 0,
                 use_instance_edges: bool = False, **options):
        if root is None:
            raise ValueError(f"cityscapes needs root=<folder>; expected layout:\n{LAYOUT}")
        if split not in SPLITS:
            raise ValueError(f"cityscapes: unknown split {split!r}; choose from {list(SPLITS)}")
        root = require_dir(root, "data set root", "cityscapes", LAYOUT)
        need_images, need_labels = needed_sides(mode)
        images = labels = None
        if need_images:
            images = FileSide(require_dir(root / "leftImg8bit" / split, f"{split} photo", "cityscapes", LAYOUT),
                              (IMAGE_ENDING,), depth=1)
        if need_labels:
            labels = FileSide(require_dir(root / "gtFine" / split, f"{split} label", "cityscapes", LAYOUT),
                              (LABEL_ENDING,), depth=1)
        scenes = pair_scenes(images, labels, "cityscapes")
        self.use_instance_edges = use_instance_edges  # items also carry "edges" float[1, H, W]
        self.instance_paths: list[Path] = []
        if use_instance_edges and need_labels:
            for scene in scenes:
                path = scene.label.with_name(scene.stem + INSTANCE_ENDING)
                if not path.is_file():
                    raise FileNotFoundError(f"cityscapes: use_instance_edges=True but label {scene.label} has no "
                                            f"instance map; expected {path}")
                self.instance_paths.append(path)
        super().__init__(scenes, get_class_set("cityscapes"), RAW_IDS, size=size, mode=mode, seed=seed, **options)

    def load_extras(self, index: int) -> dict[str, np.ndarray]:
        if not self.instance_paths:
            return {}
        path = self.instance_paths[index]
        instances = read_image(path, "I").astype(np.int32)  # 16-bit PNG: labelId or labelId * 1000 + k
        label_path = self.scenes[index].label
        with Image.open(label_path) as im:  # header only: the label itself is decoded by load_label
            label_hw = (im.height, im.width)
        if instances.shape != label_hw:
            raise ValueError(f"instance map {path} is {instances.shape[0]}x{instances.shape[1]} but its label "
                             f"{label_path} is {label_hw[0]}x{label_hw[1]} (HxW); they must be the same size")
        return {"edges": instances}

    def finish_extra(self, key: str, arr: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(instance_edges(arr))[None]  # [1, H, W]


def instance_edges(instances: np.ndarray) -> np.ndarray:
    """float32 [H, W]: 1 on both sides of every boundary between different instance ids (4-neighbourhood)."""
    edge = np.zeros(instances.shape, bool)
    dx = instances[:, 1:] != instances[:, :-1]
    dy = instances[1:, :] != instances[:-1, :]
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    return edge.astype(np.float32)
