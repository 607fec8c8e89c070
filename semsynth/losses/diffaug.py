"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"): the same kind of
random transform on every discriminator input, real and fake, built from differentiable tensor operations so the
generator's gradient passes through it. On small data sets (CamVid: 367 photos) D otherwise memorises the reals
within a few thousand images.

Transforms, as the authors' DiffAugment_pytorch.py (images in [-1, 1]):
  color        brightness + U(-0.5, 0.5); saturation: (x - channel mean) * U(0, 2); contrast: (x - mean) * U(0.5, 1.5)
  translation  shift by up to 1/8 of each side, zero padding
  cutout       one zeroed rectangle of half each side at a random centre
Label maps (one-hot or colour-coded layouts) take only translation and cutout: colour would change what a class
is. Where D sees a (label map, photo) pair, one draw moves both by the same shift and cuts the same rectangle;
colour touches only the photo. Randomness comes from `generator` (CPU), or from torch's global RNG when None
(the training engine seeds and checkpoints it).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

TRANSFORMS = ("color", "translation", "cutout")
LABEL_TRANSFORMS = ("translation", "cutout")  # what a label map may take
PHOTO_POLICY = "color,translation,cutout"     # `--augment diffaug` on photos (image, sis)
LABEL_POLICY = "translation,cutout"           # `--augment diffaug` on layouts
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def parse_policy(text: str, allowed: tuple[str, ...] = TRANSFORMS, where: str = "diffaug") -> tuple[str, ...]:
    """"color,translation" -> ("color", "translation"); "" = off. Raises on a transform not in `allowed`."""
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [t for t in names if t not in allowed]
    if bad:
        raise ValueError(f"{where}: DiffAugment policy {text!r} has {bad}; choose a comma list of {list(allowed)}")
    return names


def draw(n: int, size: tuple[int, int], policy: tuple[str, ...], generator: torch.Generator | None = None) -> dict:
    """Every random number of one augmentation of n pictures of `size` (H, W), on the CPU."""
    H, W = size
    params = {}
    for name in policy:
        if name == "color":
            params["color"] = torch.rand(3, n, generator=generator)  # brightness, saturation, contrast
        elif name == "translation":
            sh, sw = int(H * TRANSLATION_RATIO + 0.5), int(W * TRANSLATION_RATIO + 0.5)
            params["translation"] = (torch.randint(-sh, sh + 1, (n,), generator=generator),
                                     torch.randint(-sw, sw + 1, (n,), generator=generator))
        elif name == "cutout":
            ch, cw = int(H * CUTOUT_RATIO + 0.5), int(W * CUTOUT_RATIO + 0.5)
            params["cutout"] = (torch.randint(0, H + (1 - ch % 2), (n,), generator=generator),
                                torch.randint(0, W + (1 - cw % 2), (n,), generator=generator))
        else:
            raise ValueError(f"unknown DiffAugment transform {name!r}; choose from {list(TRANSFORMS)}")
    return {"policy": tuple(policy), **params}


def color(x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Brightness, saturation, contrast of photos [N, 3, H, W] from uniforms r [3, N]."""
    r = r.to(x.device, x.dtype)[:, :, None, None, None]  # [3, N, 1, 1, 1]
    x = x + (r[0] - 0.5)
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * (r[1] * 2) + mean
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) * (r[2] + 0.5) + mean


def translate(x: torch.Tensor, shift: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """x [N, C, H, W] shifted by (dy, dx) [N] each, zeros moving in: gather from a 1-pixel zero border."""
    N, _, H, W = x.shape
    dy, dx = (s.to(x.device)[:, None, None] for s in shift)
    b, gy, gx = torch.meshgrid(torch.arange(N, device=x.device), torch.arange(H, device=x.device),
                               torch.arange(W, device=x.device), indexing="ij")
    gy = (gy + dy + 1).clamp(0, H + 1)
    gx = (gx + dx + 1).clamp(0, W + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)  # [N, H+2, W+2, C]
    return padded[b, gy, gx].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, centre: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """x [N, C, H, W] times a mask that is 0 on a (H/2, W/2) rectangle around `centre` [N] (clipped at borders)."""
    N, _, H, W = x.shape
    ch, cw = int(H * CUTOUT_RATIO + 0.5), int(W * CUTOUT_RATIO + 0.5)
    cy, cx = (c.to(x.device)[:, None, None] for c in centre)
    b, gy, gx = torch.meshgrid(torch.arange(N, device=x.device), torch.arange(ch, device=x.device),
                               torch.arange(cw, device=x.device), indexing="ij")
    gy = (gy + cy - ch // 2).clamp(0, H - 1)
    gx = (gx + cx - cw // 2).clamp(0, W - 1)
    mask = torch.ones(N, H, W, device=x.device, dtype=x.dtype)
    mask[b, gy, gx] = 0
    return x * mask[:, None]


def apply(params: dict, photo: torch.Tensor | None = None, label: torch.Tensor | None = None):
    """(photo, label) after the augmentation `params` (from `draw`): spatial transforms identical on both, colour on
    the photo only. Either may be None (and stays None)."""
    for name in params["policy"]:
        if name == "color":
            photo = None if photo is None else color(photo, params["color"])
            continue
        op = translate if name == "translation" else cutout
        photo = None if photo is None else op(photo, params[name])
        label = None if label is None else op(label, params[name])
    return photo, label


def diff_augment(photo: torch.Tensor | None = None, label: torch.Tensor | None = None,
                 policy: tuple[str, ...] = (), generator: torch.Generator | None = None):
    """One fresh augmentation of a batch: (photo, label), each [N, C, H, W] or None; policy () = identity."""
    if not policy:
        return photo, label
    ref = photo if photo is not None else label
    if photo is not None and label is not None and \
            (photo.shape[0], *photo.shape[2:]) != (label.shape[0], *label.shape[2:]):
        raise ValueError(f"photo {tuple(photo.shape)} and label {tuple(label.shape)} must share N, H, W")
    return apply(draw(ref.shape[0], tuple(ref.shape[-2:]), policy, generator), photo, label)
