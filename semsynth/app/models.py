"""The models behind the web app: an optional layout model and one or more SIS models, each with its own lock.

A forward of a small generator holds a few hundred MB; two users pressing "generate" together on a big model could
exhaust memory. Gradio's queue already runs one event of a kind at a time; the lock per model also covers the
API and any future event that uses the same model, so one model never runs two forwards at once.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from semsynth.class_maps import require_table
from semsynth.classes import ClassSet
from semsynth.inference.pipeline import Pipeline
from semsynth.pretrained import DEFAULT_BUNDLE, bundle_members, bundled_names

NO_BUNDLED_MODELS = ("this install bundles no models: pass --sis RUN (and --layout RUN to sample layouts), e.g. "
                     "`semsynth app --layout runs/layout --sis runs/sis`")


def bundled_models(name: str = DEFAULT_BUNDLE) -> tuple[str | None, list[str]] | None:
    """(layout, [sis, ...]) that `semsynth app` opens without arguments: bundle `name`'s layout GAN and its paired and
    unpaired SIS models side by side (semsynth/pretrained); None when this install bundles no such models."""
    if name not in bundled_names():
        return None
    present = bundle_members(name)  # checks every file's SHA-256 first
    sis = [f"{name}:{member}" for member in ("sis-paired", "sis-unpaired") if member in present]
    if not sis:
        return None
    return (f"{name}:layout" if "layout" in present else None), sis


@dataclass
class SisModel:
    name: str            # shown on the page: "paired (runs/sis)"
    pipe: Pipeline       # its layout_generator is unused: layouts come from the canvas
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class AppModels:
    classes: ClassSet              # the canvas's class set: the layout model's, else the first SIS model's
    size: tuple[int, int]          # the canvas's model size (H, W): the first SIS model's
    sis: list[SisModel]
    layout: Pipeline | None = None  # a pipeline whose layout_generator samples layouts for the canvas
    layout_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def takes_style(self) -> bool:
        return any(model.pipe.style_encoder is not None for model in self.sis)


def sis_label(pipe: Pipeline, spec: str) -> str:
    """"paired (runs/sis)" / "unpaired (runs/usis)": the training mode is what tells two models apart on the page."""
    return f"{pipe.sis_generator.meta.get('mode', 'sis')} ({spec})"


def load_app_models(layout: str | None, sis: list[str], device: str = "cpu") -> AppModels:
    """Load every model once; every SIS model must take the canvas's class set (same set, or an id table)."""
    if not sis:
        raise ValueError(NO_BUNDLED_MODELS)
    first = Pipeline.from_pretrained(layout, sis[0], device=device)
    pipes = [first] + [Pipeline.from_pretrained(None, spec, device=device) for spec in sis[1:]]
    classes = first.layout_classes
    for pipe, spec in zip(pipes, sis):
        try:
            require_table(classes, pipe.classes)
        except ValueError as err:
            raise ValueError(f"{spec}: cannot take layouts in class set {classes.name!r} ({err})") from None
    sizes = {tuple(pipe.size) for pipe in pipes}
    if len(sizes) > 1:
        raise ValueError(f"the SIS models differ in size: {dict(zip(sis, (p.size for p in pipes)))}; "
                         "side by side needs one canvas size")
    models = [SisModel(name=sis_label(pipe, spec), pipe=pipe) for pipe, spec in zip(pipes, sis)]
    return AppModels(classes=classes, size=tuple(first.size), sis=models,
                     layout=first if layout is not None else None)
