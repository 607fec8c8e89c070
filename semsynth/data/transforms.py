"""Paired geometry: resize (nearest for ids, antialiased for photos), crop and flip applied identically to both."""
from __future__ import annotations

import numpy as np
from PIL import Image


def _cover_size(src_hw: tuple[int, int], dst_hw: tuple[int, int]) -> tuple[int, int]:
    """Smallest (h, w) with the source aspect ratio that covers dst."""
    sh, sw = src_hw
    dh, dw = dst_hw
    scale = max(dh / sh, dw / sw)
    return max(dh, round(sh * scale)), max(dw, round(sw * scale))


def resize_label(label: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    if label.shape == tuple(hw):
        return label
    # nearest: label ids must never blend
    return np.array(Image.fromarray(label).resize((hw[1], hw[0]), Image.NEAREST))


def resize_image(image: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    if image.shape[:2] == tuple(hw):
        return image
    return np.array(Image.fromarray(image).resize((hw[1], hw[0]), Image.BICUBIC, reducing_gap=None))


def paired_transform(label: np.ndarray | None, image: np.ndarray | None, size: tuple[int, int],
                     rng: np.random.Generator | None = None, flip: bool = False
                     ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Resize to cover `size` keeping the aspect ratio, then crop to `size` (random when `rng` is given, centre
    otherwise) and flip horizontally with probability 1/2 when `flip`. Label and image get the same geometry.
    Arrays that need none of this come back as they are (possibly non-contiguous); the others come back contiguous."""
    src = (label if label is not None else image).shape[:2]
    if label is not None and image is not None and label.shape[:2] != image.shape[:2]:
        raise ValueError(f"label {label.shape[:2]} and image {image.shape[:2]} sizes differ")
    ch, cw = _cover_size(src, size)
    if label is not None:
        label = resize_label(label, (ch, cw))
    if image is not None:
        image = resize_image(image, (ch, cw))
    dh, dw = size
    if rng is not None:
        top, left = int(rng.integers(0, ch - dh + 1)), int(rng.integers(0, cw - dw + 1))
    else:
        top, left = (ch - dh) // 2, (cw - dw) // 2
    do_flip = flip and rng is not None and bool(rng.integers(0, 2))
    out = []
    for arr in (label, image):
        if arr is not None and (arr.shape[:2] != (dh, dw) or do_flip):  # else the array as it came, any layout
            arr = arr[top:top + dh, left:left + dw]
            if do_flip:
                arr = arr[:, ::-1]
            arr = np.ascontiguousarray(arr)
        out.append(arr)
    return out[0], out[1]
