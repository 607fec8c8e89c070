"""Rendering the photo of a drawn street scene: per-class colours and textures, light, haze and a per-scene
colour cast. The photo is a function of the canvas (label map plus the shading and instance-colour buffers
filled while drawing it) and of the scene's lighting draw, so label -> photo is learnable but not trivial."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import gaussian_filter

from semsynth.data.street_canvas import LIGHT, ROAD, SKY, Canvas
from semsynth.data.street_scene import Scene

# photographic base colour of each train id (not the Cityscapes palette); jittered per scene
BASE_COLORS = np.array([
    (88, 86, 92), (150, 145, 140), (150, 140, 130), (165, 160, 145), (125, 110, 90), (120, 120, 125),
    (40, 40, 40), (200, 190, 60), (72, 105, 45), (115, 135, 65), (120, 160, 210), (100, 80, 80),
    (90, 70, 80), (100, 100, 110), (180, 180, 175), (200, 180, 50), (210, 210, 205), (50, 50, 60), (60, 60, 70),
], np.float32)
# texture strength per train id: fine grain (per pixel) and blotches (about 1/40 of the image height)
FINE = np.array([0.07, 0.06, 0.05, 0.08, 0.10, 0.03, 0.02, 0.02, 0.22, 0.18, 0.01, 0.04, 0.04, 0.02, 0.03, 0.03,
                 0.03, 0.03, 0.03], np.float32)
COARSE = np.array([0.05, 0.05, 0.06, 0.08, 0.05, 0.02, 0.0, 0.0, 0.25, 0.2, 0.05, 0.0, 0.0, 0.0, 0.02, 0.0, 0.0,
                   0.0, 0.0], np.float32)
TILE = 256


@lru_cache(maxsize=1)
def noise_tiles() -> tuple[np.ndarray, np.ndarray]:
    """Fixed float32 noise of unit spread: pixel grain [2 TILE, 4 TILE] (sliced, never gathered, up to 512 x 1024
    pictures) and smooth wrap-around blotches [TILE, TILE]."""
    rng = np.random.default_rng(20240613)
    fine = np.tile(rng.standard_normal((TILE, TILE)).astype(np.float32), (3, 5))
    smooth = gaussian_filter(rng.standard_normal((TILE, TILE)), sigma=3.0, mode="wrap")
    smooth = (smooth / smooth.std()).astype(np.float32)
    return fine, smooth


def render_photo(scene: Scene, cv: Canvas) -> np.ndarray:
    """uint8 [H, W, 3] photo of the canvas: a view of planar [3, H, W] memory (numpy is much faster on [H, W]
    planes than on a trailing axis of 3, and torch wants [3, H, W] anyway)."""
    light = scene.light
    fine_tile, smooth_tile = noise_tiles()
    oy, ox, sy, sx = (v % TILE for v in light.noise_offset)
    if cv.h + oy <= fine_tile.shape[0] and cv.w + ox <= fine_tile.shape[1]:
        fine = fine_tile[oy:oy + cv.h, ox:ox + cv.w]
    else:
        fine = fine_tile[np.ix_((np.arange(cv.h) + oy) % TILE, (np.arange(cv.w) + ox) % TILE)]
    # blotches live in relative coordinates, so they look alike at every size (two 1-d takes: 4x faster than np.ix_)
    smooth = smooth_tile.take((cv.ys * 96 + sy).astype(np.intp) % TILE, axis=0)
    smooth = smooth.take((cv.xs * 96 + sx).astype(np.intp) % TILE, axis=1)
    label = cv.label.astype(np.intp)  # take() with intp indices skips a conversion per call
    lum = FINE.take(label)                                   # lum = shade * (1 + FINE * fine + COARSE * smooth)
    lum *= fine
    lum += 1
    coarse = COARSE.take(label)
    coarse *= smooth
    lum += coarse
    lum *= cv.shade
    haze = np.divide(cv.depth, np.float32(-light.fog))       # haze = 0.85 (1 - exp(-depth / fog)), none in the sky
    np.exp(haze, out=haze)
    np.subtract(1, haze, out=haze)
    haze *= np.float32(0.85)
    haze[cv.label == SKY] = 0
    # glow (lane marks, lamps) is sparse: added at its pixels only, and only where it belongs
    lit = np.flatnonzero(cv.glow > 0)  # on a bool array: 10x faster than on the floats
    under = cv.label.ravel()[lit]
    lit = lit[(under == ROAD) | (under == LIGHT)]
    glow = cv.glow.ravel()[lit] * np.float32(255.0)

    # colour table (see Canvas): one sky colour per row (a vertical gradient), class colours, instance colours
    top, horizon = np.asarray(light.sky_top, np.float32), np.asarray(light.sky_horizon, np.float32)
    t = np.clip(cv.ys / max(scene.camera.horizon, 1e-3), 0, 1)[:, None] ** 0.8            # [H, 1]
    table = np.concatenate([top + (horizon - top) * t, BASE_COLORS * light.class_jitter,
                            np.asarray(cv.colors, np.float32).reshape(-1, 3)])
    gain = np.asarray(light.tint, np.float32) * np.float32(light.brightness)
    out = np.empty((3, cv.h, cv.w), np.uint8)
    mist = np.empty_like(lum)
    for c in range(3):
        img = table[:, c].take(cv.paint)
        img *= lum
        np.subtract(horizon[c], img, out=mist)   # img += (horizon - img) * haze
        mist *= haze
        img += mist
        img.ravel()[lit] += glow
        img *= gain[c]
        np.clip(img, 0, 255, out=img)
        out[c] = img
    return out.transpose(1, 2, 0)
