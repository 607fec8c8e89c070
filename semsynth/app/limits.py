"""Upload limits of the web app: a file is refused by its size in bytes before it is opened and by the pixel count
its header claims before anything is decoded, so a few-KB decompression bomb (a 20000x20000 1-bit PNG) never
allocates its gigabyte. The messages name the file as the user uploaded it and end up on the page."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semsynth.data.base import GREY16, CorruptFileError, open_image, read_image


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 8 * 2**20       # 8 MiB: a 2048x4096 colour PNG of a street layout is far below this
    max_pixels: int = 4096 * 4096    # 16 Mpx: more than any layout or style photo the models take (<= 512x1024)


def check_upload(path, limits: UploadLimits, shown_name: str | None = None) -> None:
    """Raise ValueError naming the file when it is larger than `limits` in bytes or (by its header) in pixels."""
    path = Path(path)
    name = shown_name or path.name
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ValueError(f"{name}: the file has {size / 2**20:.1f} MiB; uploads are limited to "
                         f"{limits.max_bytes / 2**20:.0f} MiB")
    try:
        with open_image(path) as im:  # header only: nothing is decoded yet
            width, height = im.size
    except CorruptFileError as err:  # not an image, or a header past PIL's own limit: say it with the shown name
        raise ValueError(f"{name}: {str(err).removeprefix(f'{path}: ')}") from None
    if width * height > limits.max_pixels:
        raise ValueError(f"{name}: the image claims {width}x{height} pixels ({width * height / 1e6:.0f} Mpx); uploads "
                         f"are limited to {limits.max_pixels / 1e6:.0f} Mpx (a decompression bomb, or far larger than "
                         f"any layout)")


def is_id_map(path) -> bool:
    """Grey PNGs hold class ids, colour (RGB/palette) PNGs hold palette colours (as Pipeline.synthesize reads them)."""
    with open_image(Path(path)) as im:
        return im.mode in ("L", "I", *GREY16)


def read_checked(path, mode: str, limits: UploadLimits, shown_name: str | None = None) -> np.ndarray:
    """check_upload, then the pixels as uint8 ("L" [H, W] ids or "RGB" [H, W, 3])."""
    check_upload(path, limits, shown_name)
    return read_image(Path(path), mode)
