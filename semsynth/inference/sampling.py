"""Turn a trained layout or image generator into outputs: label maps (ids) or uint8 photos.

Every sample i is drawn from its own seed (seed + i) with constant noise, so it never depends on the batch
size or on which other samples were drawn with it (EDM's StackedRandomGenerator idea).
"""
from __future__ import annotations

import torch

from semsynth.classes import ClassSet, class_set_from_dict
from semsynth.data.labels import logits_to_ids, rgb_to_ids, to_uint8
from semsynth.models.io import load_model


def load_generator(path, device="cpu") -> tuple[torch.nn.Module, dict]:
    """(G in eval mode, its meta dict) from a run or model folder written by a layout or image task."""
    G = load_model(path, device=device, tasks=("layout", "image"))
    return G, G.meta


def classes_of(meta: dict) -> ClassSet:
    if "classes" not in meta:
        raise ValueError("model config.json has no 'classes': it is not a layout generator")
    return class_set_from_dict(meta["classes"])


def seeded_latents(z_dim: int, seeds: list[int]) -> torch.Tensor:
    """[len(seeds), z_dim] standard normal; row i depends only on seeds[i]."""
    return torch.stack([torch.randn(z_dim, generator=torch.Generator().manual_seed(int(s))) for s in seeds])


@torch.no_grad()
def _run(G: torch.nn.Module, n: int, seed: int, truncation_psi: float, batch: int, convert) -> list:
    if n < 1 or batch < 1:
        raise ValueError(f"n and batch must be >= 1, got n={n}, batch={batch}")
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()  # running BN statistics (DCGAN) and no w_avg updates
    try:
        outs = []
        for start in range(0, n, batch):
            seeds = list(range(seed + start, seed + min(n, start + batch)))
            z = seeded_latents(G.z_dim, seeds).to(device)
            outs.append(convert(G(z, truncation_psi=truncation_psi, noise_mode="const")))
        return outs
    finally:
        G.train(was_training)


def sample_layouts(G: torch.nn.Module, meta: dict, n: int, seed: int = 0, truncation_psi: float = 1.0,
                   batch: int = 16) -> tuple[torch.Tensor, float | None]:
    """n label maps from a layout generator -> (LongTensor [n, H, W] ids, far_share).

    labels output: argmax of the class logits (far_share None; a void channel -> ignore).
    rgb output: nearest palette colour; far_share is
    the share of pixels more than 40 (0..255 units) from every palette colour (ignore colour -> ignore id).
    """
    output = meta.get("output")
    if meta.get("task") != "layout" or output not in ("labels", "rgb"):
        raise ValueError(f"expected a layout generator (task 'layout', output labels|rgb), got task="
                         f"{meta.get('task')!r}, output={output!r}")
    classes = classes_of(meta)
    if output == "labels":
        void = classes.num_classes if meta.get("void_class") else None
        convert = lambda x: logits_to_ids(x, void, classes.ignore_index).cpu()  # noqa: E731
        return torch.cat(_run(G, n, seed, truncation_psi, batch, convert)), None
    parts = _run(G, n, seed, truncation_psi, batch, lambda x: rgb_to_ids(x, classes))
    ids = torch.cat([p[0] for p in parts])
    far = sum(p[1] * len(p[0]) for p in parts) / len(ids)  # every map has H*W pixels: weight by map count
    return ids, far


def sample_images(G: torch.nn.Module, n: int, seed: int = 0, truncation_psi: float = 1.0,
                  batch: int = 16) -> torch.Tensor:
    """n photos from an image generator -> uint8 [n, 3, H, W]."""
    return torch.cat(_run(G, n, seed, truncation_psi, batch, lambda x: to_uint8(x).cpu()))
