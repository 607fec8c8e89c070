"""The raster a synthetic street scene is drawn into, and the pinhole camera that places things on it.

Geometry is in relative screen units so a scene looks the same at every size: y runs 0..1 down the image
height and x runs 0..2 across the width (the 1:2 street aspect; other aspects stretch). World units are
metres: X to the right, Y up, Z forward, camera at (0, cam_height, 0) looking along +Z.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# Cityscapes train ids (semsynth.classes, "cityscapes")
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY = range(11)
PERSON, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE = range(11, 19)
NUM_CLASSES = 19
FAR = 1.0e4  # depth of the sky, metres


@dataclass(frozen=True)
class Camera:
    horizon: float      # y of the horizon, 0..1 of the image height
    vanish_x: float     # x of the vanishing point, 0..2
    focal: float        # focal length in image heights
    height: float       # camera height above the road, metres

    def x(self, X, Z):
        """Screen x of world points (floats or arrays)."""
        return self.vanish_x + self.focal * X / Z

    def y(self, Y, Z):
        """Screen y of world points (floats or arrays)."""
        return self.horizon + self.focal * (self.height - Y) / Z


@dataclass
class Canvas:
    """Per-pixel buffers filled far to near.

    `paint` indexes the photo's colour table: H sky colours (one per row, a gradient), then the scene colour of
    each class (`class_paint(cls)`), then the instance colours registered with `color(rgb)` (car bodies...).
    """
    h: int
    w: int
    label: np.ndarray = field(init=False)    # uint8 [H, W] train ids
    depth: np.ndarray = field(init=False)    # float32 [H, W] metres along Z (FAR for sky)
    shade: np.ndarray = field(init=False)    # float32 [H, W] multiplicative light (windows, shadows, sun side)
    glow: np.ndarray = field(init=False)     # float32 [H, W] additive white, 0..1: lane marks (kept on road
                                             # pixels only) and lamps (kept on traffic-light pixels only)
    paint: np.ndarray = field(init=False)    # intp [H, W] colour-table index (see above)
    colors: list = field(default_factory=list)  # RGB triples 0..255 of instance parts (car bodies, shirts...)

    def __post_init__(self):
        self.label = np.full((self.h, self.w), SKY, np.uint8)
        self.depth = np.full((self.h, self.w), FAR, np.float32)
        self.shade = np.ones((self.h, self.w), np.float32)
        self.glow = np.zeros((self.h, self.w), np.float32)
        self.paint = np.broadcast_to(np.arange(self.h, dtype=np.intp)[:, None], (self.h, self.w)).copy()
        self._row_centres = np.arange(self.h, dtype=np.float32) + np.float32(0.5)   # [H] in pixels
        self._col_centres = np.arange(self.w, dtype=np.float32) + np.float32(0.5)   # [W] in pixels
        self.ys = ((np.arange(self.h, dtype=np.float32) + 0.5) / self.h)          # [H] pixel centres, 0..1
        self.xs = ((np.arange(self.w, dtype=np.float32) + 0.5) / self.w * 2.0)    # [W] pixel centres, 0..2

    def class_paint(self, cls):
        """`paint` index of the scene colour of class(es) `cls`."""
        return self.h + cls

    def color(self, rgb) -> int:
        """Register an instance colour (RGB 0..255) and return its `paint` index."""
        self.colors.append(rgb)
        return self.h + NUM_CLASSES + len(self.colors) - 1

    def box(self, x0: float, x1: float, y0: float, y1: float):
        """Pixel slices covering the relative box and the box-local coordinates (bx [1, w], by [h, 1]) in 0..1 of
        the pixel centres; None when the box misses the image or is under a pixel."""
        px0, px1 = x0 * self.w / 2.0, x1 * self.w / 2.0
        py0, py1 = y0 * self.h, y1 * self.h
        if px1 - px0 < 0.6 or py1 - py0 < 0.6:
            return None
        c0, c1 = max(0, math.floor(px0)), min(self.w, math.ceil(px1))
        r0, r1 = max(0, math.floor(py0)), min(self.h, math.ceil(py1))
        if c0 >= c1 or r0 >= r1:
            return None
        bx = ((self._col_centres[c0:c1] - np.float32(px0)) * np.float32(1.0 / (px1 - px0)))[None, :]
        by = ((self._row_centres[r0:r1] - np.float32(py0)) * np.float32(1.0 / (py1 - py0)))[:, None]
        if bx.shape[1] == 1:  # thinner than a pixel: the one column is all object
            bx = np.full_like(bx, 0.5)
        return (slice(r0, r1), slice(c0, c1)), bx, by

    def draw(self, where, mask: np.ndarray | None, cls: int, depth: float, paint: int | None = None,
             shade=1.0) -> None:
        """Put class `cls` at depth `depth` on the pixels of `mask` (broadcast over the slices `where`; None = all of
        them) in colour `paint` (None = the class colour); near over far is the caller's job: objects are drawn far
        to near."""
        paint = self.h + cls if paint is None else paint
        if mask is None:  # plain assignment: cheaper than masked copies
            self.label[where], self.depth[where], self.paint[where], self.shade[where] = cls, depth, paint, shade
            return
        np.copyto(self.label[where], cls, where=mask)
        np.copyto(self.depth[where], depth, where=mask)
        np.copyto(self.paint[where], paint, where=mask)
        np.copyto(self.shade[where], shade, where=mask, casting="same_kind")
