"""The two-stage pipeline: a layout generator (stage 1) feeding a layout-to-photo generator (stage 2).

The two may speak different class sets where semsynth/class_maps.py has an id table between them (e.g. a layout
GAN trained on Cityscapes' 19 train ids in front of NVIDIA's SPADE, which takes the 35 raw ids): layouts are
mapped into the SIS model's ids just before its input is built. Without a table the pipeline refuses.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from semsynth.class_maps import id_table, map_labels, require_table
from semsynth.classes import ClassSet, class_set_from_dict, get_class_set
from semsynth.data.base import GREY16, open_image, read_image
from semsynth.data.labels import boundary_edges, from_uint8, make_segmap, to_uint8
from semsynth.inference.compiled import prepare, should_compile
from semsynth.inference.sampling import sample_layouts, seeded_latents
from semsynth.models.io import ENCODER_FOLDER, load_model, model_folder
from semsynth.pretrained.bundle import is_bundled_spec, resolve_model, split_spec


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
    """Layout GAN -> SPADE/USIS. Build with `Pipeline.from_pretrained(layout_dir, sis_dir)` or
    `Pipeline.from_pretrained("synthetic-streets-64x128")` (a bundled name)."""

    def __init__(self, layout_generator: torch.nn.Module | None, sis_generator: torch.nn.Module,
                 style_encoder: torch.nn.Module | None = None):
        self.layout_generator = layout_generator
        self.sis_generator = sis_generator
        self.style_encoder = style_encoder  # SPADE's VAE encoder when the SIS model was trained with use_vae
        self.classes: ClassSet = class_set_from_dict(sis_generator.meta["classes"])
        self.size = tuple(sis_generator.meta["size"])
        self.layout_classes = self.classes  # the ids `generate` draws layouts in
        if layout_generator is not None:
            layout_classes = class_set_from_dict(layout_generator.meta["classes"])
            if id_table(layout_classes, self.classes) is None:
                raise ValueError(
                    f"the layout generator's class set {layout_classes.name!r} ({layout_classes.num_classes} "
                    f"classes) differs from the SIS generator's class set {self.classes.name!r} "
                    f"({self.classes.num_classes} classes) and no id table maps one to the other "
                    f"(semsynth/class_maps.py): train both on the same label space")
            self.layout_classes = layout_classes

    @classmethod
    def from_pretrained(cls, layout_dir, sis_dir=None, device="cpu", *, sis: str = "paired") -> "Pipeline":
        """layout_dir / sis_dir: run directories, exported model folders or bundled names (semsynth/pretrained,
        `NAME[:MEMBER]`). `Pipeline.from_pretrained("synthetic-streets-64x128")` loads a bundle's layout GAN and
        its SIS model chosen by `sis` ("paired" or "unpaired"). `layout_dir=None` gives a pipeline that only
        synthesizes photos for given layouts."""
        if sis not in ("paired", "unpaired"):
            raise ValueError(f"sis must be 'paired' or 'unpaired', got {sis!r}")
        if sis_dir is None:
            if not is_bundled_spec(layout_dir):
                raise ValueError("give sis_dir (a SIS run directory or model folder), or a bundled model name as "
                                 "layout_dir")
            sis_dir = split_spec(layout_dir)[0]
        layout_dir = resolve_model(layout_dir, "layout")
        sis_dir = resolve_model(sis_dir, f"sis-{sis}")
        layout = load_model(layout_dir, device, tasks=("layout",)) if layout_dir is not None else None
        sis = load_model(sis_dir, device, tasks=("sis",))
        encoder_dir = model_folder(sis_dir) / ENCODER_FOLDER
        encoder = load_model(encoder_dir, device, tasks=("sis-encoder",)) if encoder_dir.is_dir() else None
        return cls(layout, sis, encoder)

    def accelerate(self, compile: str = "auto", precision: str = "fp32", n: int = 1, variants: int = 1,
                   log=print) -> dict[str, torch.nn.Module]:
        """Run the generators through torch.compile and/or bf16 autocast (semsynth/inference/compiled.py) for a job
        of n layouts x `variants` photos: `compile` "auto" compiles a network only when that many samples repay
        its compile time. Returns {name: network} for compiled.compile_seconds."""
        nets = {}
        if self.layout_generator is not None:
            self.layout_generator = nets["layout G"] = prepare(
                self.layout_generator, "layout G", precision=precision, log=log,
                compile=should_compile(compile, self.layout_generator.meta.get("arch"), n))
        self.sis_generator = nets["SIS G"] = prepare(
            self.sis_generator, "SIS G", precision=precision, log=log,
            compile=should_compile(compile, self.sis_generator.meta.get("arch"), n * variants))
        return nets

    @property
    def device(self) -> torch.device:
        return next(self.sis_generator.parameters()).device

    # ------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, n: int, seed: int = 0, truncation: float = 1.0, variants_per_layout: int = 1,
                 batch_size: int = 16, style=None) -> PipelineOutput:
        """n layouts from the layout generator (sample i uses seed + i), each turned into K photo variants
        (in the look of `style`, as in `synthesize`)."""
        if self.layout_generator is None:
            raise ValueError("this pipeline has no layout generator; use synthesize(label_maps)")
        G = self.layout_generator
        labels, far = sample_layouts(G, G.meta, n=n, seed=seed, truncation_psi=truncation, batch=batch_size)
        out = self.synthesize(labels, seed=seed, variants=variants_per_layout, batch_size=batch_size, style=style,
                              classes=self.layout_classes)
        out.far_share = far or 0.0
        return out

    @torch.no_grad()
    def synthesize(self, label_maps, seed: int = 0, variants: int = 1, batch_size: int = 16,
                   style=None, classes: ClassSet | str | None = None) -> PipelineOutput:
        """Photos for user layouts. `label_maps`: LongTensor [N, H, W] of ids, or a list of PNG paths holding
        id maps (8-bit grey) or colour-coded maps (RGB, snapped to the nearest palette colour). Photo k of
        layout i uses noise seeded by (seed + i, k), so chunked calls with seed + offset give the same photos.

        `style` (SIS models trained with use_vae): photos whose look the results take, as SPADE's style-guided
        synthesis: one photo for every layout or one per layout, as float [(N,) 3, H, W] in [-1, 1], uint8, or
        image paths. Variant 0 uses the encoder's mean for the style photo, later variants sample around it.

        `classes`: the class set the layouts are drawn in (a name or a ClassSet; default: the SIS model's own). Ids,
        palette and the returned labels/colors are in it; the SIS model gets them mapped into its class set."""
        source = self.classes if classes is None else get_class_set(classes) if isinstance(classes, str) else classes
        require_table(source, self.classes)  # before any file is read
        labels, far = self._as_labels(label_maps, source)
        source.check_ids(labels, where="layouts given to synthesize")
        labels = self._fit_size(labels)
        model_labels = map_labels(labels, source, self.classes)
        n = labels.shape[0]
        G = self.sis_generator
        z_dim = int(G.cfg.z_dim) if G.uses_noise else 0  # SPADE without VAE is deterministic: no z
        styles = self.encode_style(style, n) if style is not None else None
        photos = torch.empty((n, variants, 3, *self.size), dtype=torch.uint8)
        for k in range(variants):
            for start in range(0, n, batch_size):
                idx = list(range(start, min(n, start + batch_size)))
                segmap = self.segmap(model_labels[idx].to(self.device))
                z = seeded_latents(z_dim, [photo_seed(seed + i, k) for i in idx]).to(self.device) if z_dim else None
                if styles is not None:
                    mu, std = (t[idx].to(self.device) for t in styles)
                    z = mu if k == 0 else mu + std * z
                photos[idx, k] = to_uint8(G(segmap, z)).cpu()
        colors = source.colorize(labels).permute(0, 3, 1, 2).contiguous()
        return PipelineOutput(labels=labels, colors=colors, photos=photos, far_share=far)

    @torch.no_grad()
    def encode_style(self, style, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, std) [n, z_dim] of the VAE encoder for one style photo (repeated) or n of them."""
        if self.style_encoder is None:
            raise ValueError("this SIS model has no style encoder: style-guided synthesis needs one trained with "
                             "use_vae (semsynth train sis --mode paired --use-vae)")
        if isinstance(style, (str, Path)):
            style = [style]
        if isinstance(style, (list, tuple)):
            style = torch.stack([torch.from_numpy(read_image(Path(path), "RGB")).permute(2, 0, 1) for path in style])
        if style.dim() == 3:
            style = style[None]
        if style.dim() != 4 or style.shape[1] != 3:
            raise ValueError(f"style photos must be [N, 3, H, W] or [3, H, W], got shape {tuple(style.shape)}")
        if style.dtype == torch.uint8:
            style = from_uint8(style)
        if len(style) not in (1, n):
            raise ValueError(f"give one style photo or one per layout ({n}), got {len(style)}")
        mu, logvar = self.style_encoder(style.float().to(self.device))
        mu, std = mu.cpu(), torch.exp(0.5 * logvar).cpu()
        return (mu.expand(n, -1), std.expand(n, -1)) if len(style) == 1 else (mu, std)

    # ------------------------------------------------------------------------------------------------
    def segmap(self, labels: torch.Tensor) -> torch.Tensor:
        """ids (the SIS model's class set) -> its input, built as in training (one-hot, don't-care channel when it
        had one). Layouts carry no instances: the instance-edge channel is the class boundaries when the model
        folder says "edges_without_instances": "label-boundaries" (converted SPADE models: what Cityscapes'
        instanceIds give where a class has no instances), else it is left at zero (semsynth-trained models)."""
        meta = self.sis_generator.meta
        edges = None
        if meta.get("use_instance_edges") and meta.get("edges_without_instances") == "label-boundaries":
            edges = boundary_edges(labels)
        segmap = make_segmap(labels, self.classes.num_classes, self.classes.ignore_index,
                             use_dontcare=bool(meta.get("use_dontcare", False)), edges=edges)
        extra = int(self.sis_generator.cfg.label_channels) - segmap.shape[1]
        return F.pad(segmap, (0, 0, 0, 0, 0, extra)) if extra > 0 else segmap

    def _fit_size(self, labels: torch.Tensor) -> torch.Tensor:
        if tuple(labels.shape[-2:]) == self.size:
            return labels
        # nearest: ids must not blend
        return F.interpolate(labels[:, None].float(), size=self.size, mode="nearest")[:, 0].long()

    def _as_labels(self, label_maps, classes: ClassSet) -> tuple[torch.Tensor, float]:
        if isinstance(label_maps, torch.Tensor):
            if label_maps.dim() == 2:
                label_maps = label_maps[None]
            return label_maps.long().cpu(), 0.0
        maps, fars = [], []
        for path in label_maps:
            path = Path(path)
            with open_image(path) as im:  # a missing file, a non-image or a bomb: an error naming the file
                is_id_map = im.mode in ("L", "I", *GREY16)  # grey = ids; RGB/palette = colour-coded
            if is_id_map:
                ids, far = read_image(path, "L"), 0.0
            else:
                ids, far = classes.quantize(read_image(path, "RGB"))
            maps.append(torch.from_numpy(np.asarray(ids, np.int64)))
            fars.append(far)
        if len({m.shape for m in maps}) > 1:
            raise ValueError(f"layouts differ in size: {sorted({tuple(m.shape) for m in maps})}")
        return torch.stack(maps), float(np.mean(fars)) if fars else 0.0
