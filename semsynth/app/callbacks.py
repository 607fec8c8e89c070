"""What the web app's buttons do, as pure functions of arrays and models (no Gradio here, so each is unit-tested).

The canvas is the model's size times an integer `scale`: painting at 32x64 pixels would be impossible. A painted
canvas becomes a label map in three steps: flatten it onto the ignore colour (erased = ignore), snap every pixel to
the nearest palette colour (ClassSet.quantize), and give each model pixel the majority class of its scale x scale
block. Brush edges are anti-aliased: a half-covered edge pixel is a blend of two palette colours whose nearest
colour can be a third class, so pixels that are not close to any palette colour take the class of the nearest pixel
that is ("stray classes" would otherwise appear as thin seams along every stroke).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from semsynth.classes import ClassSet
from semsynth.evaluation.metrics.layout import class_shares
from semsynth.inference.pipeline import Pipeline
from semsynth.inference.sampling import sample_layouts

SNAP_TOLERANCE = 24.0  # 0..255 units: a pixel this close to a palette colour is that colour (PNG/WebP noise, no blend)


def canvas_scale(size: tuple[int, int], target_width: int = 512) -> int:
    """The integer factor that makes a model-size canvas about `target_width` pixels wide (at least 1)."""
    return max(1, round(target_width / size[1]))


def flatten(image: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """uint8 [H, W, 3|4] -> [H, W, 3]: transparent pixels (erased, never painted) show `background`."""
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB or RGBA image [H, W, 3|4], got shape {image.shape}")
    if image.shape[2] == 3:
        return image
    alpha = image[..., 3:].astype(np.float32) / 255
    mixed = image[..., :3] * alpha + np.asarray(background, np.float32) * (1 - alpha)
    return mixed.round().astype(np.uint8)


def snap_to_palette(rgb: np.ndarray, classes: ClassSet, tolerance: float = SNAP_TOLERANCE) -> np.ndarray:
    """uint8 [H, W, 3] colours -> uint8 [H, W] ids: the nearest palette colour (ignore colour -> ignore) where it is
    within `tolerance`, else the class of the nearest pixel that is (blended brush edges)."""
    ids, _ = classes.quantize(rgb)
    snapped = classes.colorize(ids).astype(np.float32)
    close = ((rgb.astype(np.float32) - snapped) ** 2).sum(-1) <= tolerance ** 2
    if close.all() or not close.any():
        return ids
    nearest = ndimage.distance_transform_edt(~close, return_distances=False, return_indices=True)
    return ids[nearest[0], nearest[1]]


def majority_downsample(ids: np.ndarray, size: tuple[int, int], ignore_index: int) -> np.ndarray:
    """uint8 [H, W] ids -> [h, w]: the most frequent id of each block when H, W are multiples of h, w (a class beats
    ignore on a tie, so a thin stroke survives), else nearest-neighbour resampling (ids must never blend)."""
    h, w = size
    H, W = ids.shape
    if (H, W) == (h, w):
        return ids
    if H % h or W % w:
        return np.asarray(Image.fromarray(ids).resize((w, h), Image.NEAREST))
    sy, sx = H // h, W // w
    blocks = ids.reshape(h, sy, w, sx).transpose(0, 2, 1, 3).reshape(h * w, sy * sx).astype(np.int64)
    keys = np.where(blocks == ignore_index, 256, blocks)  # ignore sorts after every class id
    counts = np.zeros((h * w, 257), np.int32)
    np.add.at(counts, (np.arange(h * w)[:, None], keys), 1)
    best = counts.argmax(1)  # the lowest key on ties: a class before ignore
    return np.where(best == 256, ignore_index, best).astype(np.uint8).reshape(h, w)


def painting_to_ids(image: np.ndarray, classes: ClassSet, size: tuple[int, int]) -> np.ndarray:
    """The canvas as painted (uint8 [H, W, 3|4]) -> uint8 [h, w] ids at the model's `size`."""
    rgb = flatten(image, classes.ignore_color)
    return majority_downsample(snap_to_palette(rgb, classes), size, classes.ignore_index)


def ids_to_canvas(ids: np.ndarray, classes: ClassSet, scale: int) -> dict:
    """uint8 [h, w] ids -> an ImageEditor value: an opaque ignore-coloured background (what the eraser uncovers)
    under one RGBA layer with the layout's colours, each id a scale x scale block (ignore pixels left transparent),
    and their composite: the editor sends it back as it is until the first stroke, so "generate" right after
    "sample" or "upload" needs it."""
    big = np.repeat(np.repeat(np.asarray(ids), scale, 0), scale, 1)
    layer = np.zeros((*big.shape, 4), np.uint8)
    layer[..., :3] = classes.colorize(big)
    layer[..., 3] = np.where(big == classes.ignore_index, 0, 255)
    background = np.zeros((*big.shape, 4), np.uint8)
    background[..., :3] = classes.ignore_color
    background[..., 3] = 255
    composite = np.concatenate([flatten(layer, classes.ignore_color), background[..., 3:]], axis=2)
    return {"background": background, "layers": [layer], "composite": composite}


def blank_canvas(classes: ClassSet, size: tuple[int, int], scale: int) -> dict:
    return ids_to_canvas(np.full(size, classes.ignore_index, np.uint8), classes, scale)


def sample_ids(pipe: Pipeline, seed: int, truncation: float) -> np.ndarray:
    """One layout (uint8 [h, w] ids, in the layout model's class set) from the stage-1 model of `pipe`."""
    G = pipe.layout_generator
    if G is None:
        raise ValueError("no layout model: start the app with --layout RUN to sample layouts")
    ids, _ = sample_layouts(G, G.meta, n=1, seed=int(seed), truncation_psi=float(truncation))
    return ids[0].numpy().astype(np.uint8)


def upload_to_ids(pixels: np.ndarray, classes: ClassSet, size: tuple[int, int], is_id_map: bool) -> np.ndarray:
    """An uploaded id map (uint8 [H, W]) or colour-coded map ([H, W, 3]) -> uint8 [h, w] ids at the model's size."""
    ids = pixels if is_id_map else snap_to_palette(pixels, classes)
    classes.check_ids(ids, where="the uploaded id map")
    return majority_downsample(np.ascontiguousarray(ids, np.uint8), size, classes.ignore_index)


def style_tensor(rgb: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """uint8 [H, W, 3] style photo -> uint8 [3, h, w] at the model's size (antialiased, as the data sets resize)."""
    photo = Image.fromarray(rgb).resize((size[1], size[0]), Image.BICUBIC)
    return torch.from_numpy(np.asarray(photo).copy()).permute(2, 0, 1)


@dataclass
class Photos:
    model: str             # the SIS model's label on the page
    photos: list[np.ndarray]  # uint8 [H, W, 3], one per noise variant
    seconds: float         # wall time of this model's forwards
    styled: bool           # whether the style photo was used (only models with a style encoder take one)


def generate_photos(pipe: Pipeline, name: str, ids: np.ndarray, classes: ClassSet, seed: int, variants: int,
                    style: torch.Tensor | None = None) -> Photos:
    """`variants` photos of one layout (uint8 [h, w] ids in `classes`) from the SIS model of `pipe`; photo k uses
    noise seeded by (seed, k), so the same seed gives the same photos."""
    use_style = style is not None and pipe.style_encoder is not None
    start = time.perf_counter()
    out = pipe.synthesize(torch.from_numpy(ids.astype(np.int64))[None], seed=int(seed), variants=int(variants),
                          style=style if use_style else None, classes=classes)
    seconds = time.perf_counter() - start
    photos = [out.photos[0, k].permute(1, 2, 0).numpy() for k in range(out.photos.shape[1])]
    return Photos(model=name, photos=photos, seconds=seconds, styled=use_style)


def share_rows(ids: np.ndarray, classes: ClassSet) -> list[tuple[str, float]]:
    """(class name, share of labelled pixels) of every class present, largest first; none for an all-ignore map."""
    if (ids == classes.ignore_index).all():
        return []
    shares = class_shares(torch.from_numpy(ids.astype(np.int64)), classes.num_classes, classes.ignore_index)
    rows = [(classes.names[i], float(s)) for i, s in enumerate(shares) if s > 0]
    return sorted(rows, key=lambda row: -row[1])
