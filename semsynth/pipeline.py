"""The two-stage pipeline: a layout generator (stage 1) feeding a layout-to-photo generator (stage 2)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from semsynth.classes import ClassSet, class_set_from_dict
from semsynth.data.base import read_image
from semsynth.data.labels import make_segmap, to_uint8
from semsynth.generate_layouts import sample_layouts, seeded_latents
from semsynth.models.io import load_model


def photo_seed(sample_seed: int, variant: int) -> int:
    """Seed of photo variant k of the sample with seed s (distinct from the layout noise seeded by s)."""
    return (sample_seed * 4099 + variant) * 2 + 1


@dataclass
class PipelineOutput:
    labels: torch.Tensor      # LongTensor [N, H, W] layouts (ids, 255 = ignore)
    colors: torch.Tensor      # uint8 [N, 3, H, W] colourised layouts
    photos: torch.Tensor      # uint8 [N, K, 3, H, W]: K photo variants per layout
    far_share: float = 0.0    # share of off-palette pixels when layouts came from colours (rgb mode / user PNGs)


class Pipeline:
    """Layout GAN -> SPADE/USIS. Build with `Pipeline.from_pretrained(layout_dir, sis_dir)`."""

    def __init__(self, layout_generator: torch.nn.Module | None, sis_generator: torch.nn.Module):
        self.layout_generator = layout_generator
        self.sis_generator = sis_generator
        self.classes: ClassSet = class_set_from_dict(sis_generator.meta["classes"])
        self.size = tuple(sis_generator.meta["size"])
        if layout_generator is not None:
            layout_classes = class_set_from_dict(layout_generator.meta["classes"])
            if layout_classes.names != self.classes.names:
                raise ValueError(
                    f"the layout generator's class set {layout_classes.name!r} ({layout_classes.num_classes} "
                    f"classes) differs from the SIS generator's class set {self.classes.name!r} "
                    f"({self.classes.num_classes} classes): train both on the same label space")

    @classmethod
    def from_pretrained(cls, layout_dir, sis_dir, device="cpu") -> "Pipeline":
        """layout_dir / sis_dir: run directories or exported model folders. `layout_dir=None` gives a pipeline
        that only synthesizes photos for given layouts."""
        layout = load_model(layout_dir, device, tasks=("layout",)) if layout_dir is not None else None
        sis = load_model(sis_dir, device, tasks=("sis",))
        return cls(layout, sis)

    @property
    def device(self) -> torch.device:
        return next(self.sis_generator.parameters()).device

    # ------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, n: int, seed: int = 0, truncation: float = 1.0, variants_per_layout: int = 1,
                 batch_size: int = 16) -> PipelineOutput:
        """n layouts from the layout generator (sample i uses seed + i), each turned into K photo variants."""
        if self.layout_generator is None:
            raise ValueError("this pipeline has no layout generator; use synthesize(label_maps)")
        G = self.layout_generator
        labels, far = sample_layouts(G, G.meta, n=n, seed=seed, truncation_psi=truncation, batch=batch_size)
        out = self.synthesize(labels, seed=seed, variants=variants_per_layout, batch_size=batch_size)
        out.far_share = far or 0.0
        return out

    @torch.no_grad()
    def synthesize(self, label_maps, seed: int = 0, variants: int = 1, batch_size: int = 16) -> PipelineOutput:
        """Photos for user layouts. `label_maps`: LongTensor [N, H, W] of ids, or a list of PNG paths holding
        id maps (8-bit grey) or colour-coded maps (RGB, snapped to the nearest palette colour). Photo k of
        layout i uses noise seeded by (seed + i, k), so chunked calls with seed + offset give the same photos."""
        labels, far = self._as_labels(label_maps)
        self.classes.check_ids(labels, where="layouts given to synthesize")
        labels = self._fit_size(labels)
        n = labels.shape[0]
        G = self.sis_generator
        z_dim = int(G.cfg.z_dim) if G.uses_noise else 0  # SPADE without VAE is deterministic: no z
        photos = torch.empty((n, variants, 3, *self.size), dtype=torch.uint8)
        for k in range(variants):
            for start in range(0, n, batch_size):
                idx = list(range(start, min(n, start + batch_size)))
                segmap = self.segmap(labels[idx].to(self.device))
                z = seeded_latents(z_dim, [photo_seed(seed + i, k) for i in idx]).to(self.device) if z_dim else None
                photos[idx, k] = to_uint8(G(segmap, z)).cpu()
        colors = self.classes.colorize(labels).permute(0, 3, 1, 2).contiguous()
        return PipelineOutput(labels=labels, colors=colors, photos=photos, far_share=far)

    # ------------------------------------------------------------------------------------------------
    def segmap(self, labels: torch.Tensor) -> torch.Tensor:
        """ids -> the SIS generator's input, built as in training (one-hot, don't-care channel when it had one);
        an instance-edge channel, which generated layouts lack, is left at zero."""
        meta = self.sis_generator.meta
        segmap = make_segmap(labels, self.classes.num_classes, self.classes.ignore_index,
                             use_dontcare=bool(meta.get("use_dontcare", False)))
        extra = int(self.sis_generator.cfg.label_channels) - segmap.shape[1]
        return F.pad(segmap, (0, 0, 0, 0, 0, extra)) if extra > 0 else segmap

    def _fit_size(self, labels: torch.Tensor) -> torch.Tensor:
        if tuple(labels.shape[-2:]) == self.size:
            return labels
        # nearest: ids must not blend
        return F.interpolate(labels[:, None].float(), size=self.size, mode="nearest")[:, 0].long()

    def _as_labels(self, label_maps) -> tuple[torch.Tensor, float]:
        if isinstance(label_maps, torch.Tensor):
            if label_maps.dim() == 2:
                label_maps = label_maps[None]
            return label_maps.long().cpu(), 0.0
        maps, fars = [], []
        for path in label_maps:
            path = Path(path)
            with Image.open(path) as im:
                is_id_map = im.mode in ("L", "I", "I;16")  # grey = ids; RGB/palette = colour-coded
            if is_id_map:
                ids, far = read_image(path, "L"), 0.0
            else:
                ids, far = self.classes.quantize(read_image(path, "RGB"))
            maps.append(torch.from_numpy(np.asarray(ids, np.int64)))
            fars.append(far)
        if len({m.shape for m in maps}) > 1:
            raise ValueError(f"layouts differ in size: {sorted({tuple(m.shape) for m in maps})}")
        return torch.stack(maps), float(np.mean(fars)) if fars else 0.0
