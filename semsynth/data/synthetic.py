"""`synthetic-streets`: procedural street scenes in Cityscapes' 19 train ids, rendered on the fly at any size.

Scene `i` of a split is a pure function of (seed, split, i): it is sampled from its own numpy Generator, then
drawn directly at the requested size (geometry is in relative coordinates, so a scene looks the same at every
size). Photos for `unpaired` mode come from a separate seed space, so no photo shows a layout of the set.
"""
from __future__ import annotations

import numpy as np

from semsynth.classes import get_class_set
from semsynth.data.base import SegmentationDataset
from semsynth.data.street_canvas import Canvas
from semsynth.data.street_draw import draw_scene
from semsynth.data.street_photo import render_photo
from semsynth.data.street_scene import sample_scene, with_fixed_appearance

SPLITS = {"train": 0, "val": 1, "test": 2}           # split -> seed-space code (disjoint scene seeds)
DEFAULT_NUM_SCENES = {"train": 10000, "val": 500, "test": 500}
_SALT = 0x5EC7  # keeps these seeds apart from other users of default_rng([seed, ...])
_LAYOUT_SPACE, _PHOTO_SPACE = 0, 1
APPEARANCES = ("varied", "fixed")


def render_scene(seed: int, split: str, index: int, size=(256, 512), space: int = _LAYOUT_SPACE,
                 photo: bool = True, appearance: str = "varied") -> tuple[np.ndarray, np.ndarray | None]:
    """(label uint8 [H, W] train ids, photo uint8 [H, W, 3] or None when `photo` is False) of one scene; the
    same arguments give the same arrays bit for bit in any process. `appearance` "fixed" gives the scene the
    light and colours every scene shares (same layout as "varied")."""
    if appearance not in APPEARANCES:
        raise ValueError(f"unknown appearance {appearance!r} for synthetic-streets; choose from {list(APPEARANCES)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} for synthetic-streets; choose from {list(SPLITS)}")
    if int(seed) < 0 or int(index) < 0:
        raise ValueError(f"synthetic-streets seeds and scene indices must be >= 0, got seed {seed}, index {index}")
    h, w = (int(s) for s in size)
    rng = np.random.default_rng([_SALT, int(seed), SPLITS[split], space, int(index)])
    scene = sample_scene(rng)
    if appearance == "fixed":
        scene = with_fixed_appearance(scene)
    canvas = Canvas(h, w)
    draw_scene(scene, canvas)
    return canvas.label, (render_photo(scene, canvas) if photo else None)


class SyntheticStreets(SegmentationDataset):
    """Procedural street scenes (road, sidewalks, facades, sky, trees, poles, signs, lights, cars, people...).

    root: unused (the set is embedded). num_scenes: scenes per split, default 10000 for train and 500 for
    val/test. appearance: "varied" (default: each scene draws its own light, tint, fog and object colours, so a
    photo is not a function of its layout) or "fixed" (every scene shares one appearance; only texture grain
    varies; for studying or testing label -> photo without that ambiguity). skip_corrupt: accepted like every
    reader's (nothing here can be corrupt). Other options must be None (they belong to file-based readers).
    """

    def __init__(self, root=None, split: str = "train", size=(256, 512), mode: str = "paired", seed: int = 0,
                 num_scenes: int | None = None, augment: bool = False, skip_corrupt: bool = False,
                 appearance: str = "varied", **ignored_none):
        unknown = {k: v for k, v in ignored_none.items() if v is not None}
        if unknown:
            raise ValueError(f"synthetic-streets does not take option(s) {sorted(unknown)}; it takes num_scenes, "
                             f"augment, appearance, skip_corrupt")
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r} for synthetic-streets; choose from {list(SPLITS)}")
        if int(seed) < 0:
            raise ValueError(f"synthetic-streets seed must be >= 0, got {seed}")
        super().__init__(get_class_set("cityscapes"), size=size, mode=mode, seed=seed, augment=augment,
                         skip_corrupt=skip_corrupt)
        if appearance not in APPEARANCES:
            raise ValueError(f"unknown appearance {appearance!r} for synthetic-streets; choose from "
                             f"{list(APPEARANCES)}")
        self.split = split
        self.appearance = appearance
        self._num_scenes = DEFAULT_NUM_SCENES[split] if num_scenes is None else int(num_scenes)
        if self._num_scenes < 1:
            raise ValueError(f"num_scenes must be >= 1, got {num_scenes}")

    @property
    def num_scenes(self) -> int:
        return self._num_scenes

    def _scene(self, index: int) -> tuple[int, int]:
        """Dataset index -> (seed space, scene number). Indices past num_scenes name unpaired photo scenes."""
        if index >= self._num_scenes:
            return _PHOTO_SPACE, index - self._num_scenes
        return _LAYOUT_SPACE, index

    def scene_name(self, index: int) -> str:
        space, number = self._scene(index)
        kind = "photo-" if space == _PHOTO_SPACE else ""
        return f"synthetic-{self.split}-s{self.seed}-{kind}{number:06d}"

    def unpaired_partner(self, index: int) -> int:
        # the photo of scene `index` from the photo seed space: never the photo of any layout of this set
        return self._num_scenes + index

    def load_pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        space, number = self._scene(index)
        return render_scene(self.seed, self.split, number, self.size, space, appearance=self.appearance)

    def load_label(self, index: int) -> np.ndarray:
        space, number = self._scene(index)
        return render_scene(self.seed, self.split, number, self.size, space, photo=False)[0]

    def load_image(self, index: int) -> np.ndarray:
        return self.load_pair(index)[1]
