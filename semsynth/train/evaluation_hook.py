"""Metrics during training (`semsynth train TASK --eval-every KIMG`): what each task measures on `eval_n` samples
of its current model against the real statistics of its training split.

The numbers follow the protocol of `semsynth evaluate` and `compare` (semsynth/evaluation/protocol.py): real
features come from the same cache under the same keys (a data set's fingerprint + the Inception weights' hash),
and KID uses the same subset rule. Measured against the training split, as StyleGAN and OASIS do during training:
the number tracks the model over time; the final comparison belongs to `compare` on a held-out split.

METRICS is the one table: task -> class whose constructor reads the real reference once (rank 0, at the start
of the run) and whose call measures a Task: {"js", "boundary_ratio", "isolated_ratio", "kid", "kid_std", "fid",
"miou"}, each where the task has it. The engine calls `check` before training on every rank and `Evaluator` on rank 0.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from semsynth.classes import class_set_to_dict
from semsynth.data import load_dataset
from semsynth.data.labels import colorize_batch, from_uint8
from semsynth.evaluation import protocol
from semsynth.evaluation.metrics import inception
from semsynth.evaluation.metrics.fid import fid_from_features
from semsynth.evaluation.metrics.images import as_batches, as_label_batches
from semsynth.evaluation.metrics.layout import class_counts, js_divergence, neighbour_fractions
from semsynth.evaluation.metrics.miou import ConfusionMatrix
from semsynth.inference.sampling import sample_images, sample_layouts
from semsynth.inference.segment import load_segmenter, segment
from semsynth.models.io import unwrap
from semsynth.train.config import RunConfig, task_config_obj
from semsynth.train.tasks import task_module

INCEPTION_METRICS = ("kid", "fid")
WITH_INCEPTION = ("auto", "kid", "fid")  # --eval-metric js | miou measure without Inception: 100x cheaper on CPU
LOWER_IS_BETTER = {"kid": True, "fid": True, "js": True, "miou": False}
AUTO_ORDER = ("kid", "js", "miou")  # --eval-metric auto: the first of these the task measures in this run


def due(every_kimg: float, nimg_before: int, nimg: int) -> bool:
    """True when a step from `nimg_before` to `nimg` images crossed a multiple of `every_kimg` thousand."""
    if every_kimg <= 0:
        return False
    period = round(every_kimg * 1000, 6)  # 16.1 * 1000 is 16100.000000000002 in floats
    return int(nimg // period) > int(nimg_before // period)


# -- real reference -----------------------------------------------------------------------------------------------
@dataclass
class Settings:
    """What every task's metrics share: sample count, seed of the samples, batch, device, and the optional
    networks (the Inception extractor, None when its weights are missing; the segmenter of the sis task)."""
    n: int
    seed: int
    batch: int
    device: torch.device
    extractor: torch.nn.Module | None
    fid: bool                          # also FID (only when it picks model-best: its 2048x2048 sqrtm is not free)
    segmenter: torch.nn.Module | None = None


def real_split(run: RunConfig, mode: str, n: int, options: dict | None = None):
    """(data set, fingerprint, count) of the first n items of the run's training split, read without augmentation.
    The fingerprint is the one `evaluate` and `compare` give the same set, so they share cached real features."""
    d = run.data
    options = dict(d.options if options is None else options)
    dataset = load_dataset(d.name, root=d.root, split=d.split, size=d.size, mode=mode, seed=run.train.seed,
                           **options)
    count = min(n, len(dataset))
    side = "label" if mode == "labels" else "image"
    fingerprint = protocol.dataset_fingerprint(dataset, d.name, root=d.root, split=d.split, size=d.size,
                                               seed=run.train.seed, limit=count, side=side, options=d.options)
    return dataset, fingerprint, count


def chunks(n: int, batch: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, batch):
        yield start, min(n, start + batch)


def kid_and_fid(real_feats: np.ndarray, fake_feats: np.ndarray, fid: bool) -> dict[str, float]:
    k = protocol.kid(real_feats, fake_feats)
    out = {"kid": float(k["kid_mean"]), "kid_std": float(k["kid_std"])}
    if fid:
        out["fid"] = float(fid_from_features(real_feats, fake_feats))
    return out


def inception_names(s: Settings) -> list[str]:
    """The Inception metrics a run measures: none without the weights, FID only when it picks model-best."""
    return [] if s.extractor is None else ["kid", "fid"] if s.fid else ["kid"]


def features_of(images: torch.Tensor, s: Settings) -> np.ndarray:
    return np.concatenate([s.extractor(part).cpu().numpy().astype(np.float32) for part in images.split(s.batch)])


# -- the tasks ----------------------------------------------------------------------------------------------------
class LayoutMetrics:
    """Layouts: class-share JS divergence (bits), boundary and isolated-pixel ratios (each fraction as
    `neighbour_fractions` defines it for `evaluate layout` and the compare report, generated / real: 1 is right,
    below 1 too blocky, above 1 too fragmented) and label-map KID (colourised maps through Inception, the
    "layout-features" of `compare`)."""

    def __init__(self, run: RunConfig, s: Settings):
        dataset, fingerprint, count = real_split(run, "labels", s.n)
        self.classes = dataset.classes
        c, ignore = self.classes.num_classes, self.classes.ignore_index
        batches = list(as_label_batches(dataset, s.batch, count))
        self.real_shares = sum(class_counts(labels, c, ignore).sum(0) for labels in batches)
        self.real_fractions = neighbour_fractions(batches, ignore)  # as the compare report and evaluate layout
        self.real_feats = None
        if s.extractor is not None:
            key = protocol.real_key("layout-features", {**fingerprint, **protocol.classes_fingerprint(self.classes)},
                                    s.extractor)
            colours = (colorize_batch(labels, self.classes) for labels in as_label_batches(dataset, s.batch, count))
            self.real_feats = protocol.real_features(colours, s.extractor, key, batch=s.batch, device=s.device)

    @staticmethod
    def names(s: Settings) -> list[str]:
        return ["js", "boundary_ratio", "isolated_ratio"] + inception_names(s)

    def __call__(self, task, s: Settings) -> dict[str, float]:
        cfg = task.cfg
        meta = {"task": "layout", "output": cfg.output, "void_class": cfg.use_void_class,
                "classes": class_set_to_dict(self.classes)}
        G = unwrap(task.sampling_net())
        c, ignore = self.classes.num_classes, self.classes.ignore_index
        counts, generated, feats = np.zeros(c, np.int64), [], []
        for start, stop in chunks(s.n, s.batch):  # sample i comes from seed + i, as `semsynth sample` draws it
            labels, _ = sample_layouts(G, meta, stop - start, seed=s.seed + start, batch=s.batch)
            counts += class_counts(labels, c, ignore).sum(0)
            generated.append(labels)
            if s.extractor is not None:
                feats.append(features_of(colorize_batch(labels, self.classes), s))
        out = {"js": js_divergence(self.real_shares, counts) if counts.sum() else 1.0}
        try:
            fractions = neighbour_fractions(generated, ignore)
        except ValueError:  # every generated pixel is ignore (void): no neighbours to count
            fractions = {"boundary_fraction": 0.0, "isolated_fraction": 0.0}
        for kind in ("boundary", "isolated"):  # generated / real: 1 is right, above 1 too fragmented
            out[f"{kind}_ratio"] = fractions[f"{kind}_fraction"] / max(self.real_fractions[f"{kind}_fraction"], 1e-12)
        if s.extractor is not None:
            out.update(kid_and_fid(self.real_feats, np.concatenate(feats), s.fid))
        return out


class ImageMetrics:
    """Photos of the single-stage generator: KID (and FID when it picks model-best) against the real photos."""

    def __init__(self, run: RunConfig, s: Settings):
        self.real_feats = real_photo_features(run, s) if s.extractor is not None else None

    @staticmethod
    def names(s: Settings) -> list[str]:
        return inception_names(s)

    def __call__(self, task, s: Settings) -> dict[str, float]:
        if s.extractor is None:
            return {}
        G = unwrap(task.sampling_net())
        feats = [features_of(sample_images(G, stop - start, seed=s.seed + start, batch=s.batch), s)
                 for start, stop in chunks(s.n, s.batch)]
        return kid_and_fid(self.real_feats, np.concatenate(feats), s.fid)


class SISMetrics:
    """Photos made from real layouts of the training split (the same n layouts and noise at every evaluation):
    KID against the real photos, and the proxy mIoU of `--eval-segmenter` on them against their layouts."""

    def __init__(self, run: RunConfig, s: Settings):
        module = task_module(run.task)
        cfg = task_config_obj(run.task, run.task_config)
        options = {**run.data.options, **module.data_options(cfg)}  # e.g. the instance edges SPADE may read
        self.layouts, _, _ = real_split(run, module.data_mode(cfg), s.n, options)  # the generator inputs
        self.real_feats = real_photo_features(run, s) if s.extractor is not None else None
        self.fixed = None  # the generator inputs, drawn at the first evaluation (their z size is the task's)

    @staticmethod
    def names(s: Settings) -> list[str]:
        return inception_names(s) + (["miou"] if s.segmenter is not None else [])

    def __call__(self, task, s: Settings) -> dict[str, float]:
        if self.fixed is None:
            self.fixed = task.fixed_inputs(self.layouts, s.n, torch.Generator().manual_seed(s.seed))
        fixed = self.fixed
        n = len(fixed["label"])
        feats, cm = [], None
        if s.segmenter is not None:
            cm = ConfusionMatrix(self.layouts.classes.num_classes, self.layouts.classes.ignore_index)
        for start, stop in chunks(n, s.batch):
            part = {k: v[start:stop].to(s.device) for k, v in fixed.items()}
            photos = sis_photos(task, part)
            if s.extractor is not None:
                feats.append(features_of(photos, s))
            if cm is not None:
                cm.update(segment(s.segmenter, from_uint8(photos), batch=s.batch), part["label"].cpu())
        out = kid_and_fid(self.real_feats, np.concatenate(feats), s.fid) if s.extractor is not None else {}
        if cm is not None:
            out["miou"] = float(cm.compute()["miou"])
        return out


def sis_photos(task, fixed: dict) -> torch.Tensor:
    """uint8 [N, 3, H, W] photos of a sis task: the right half of its sample pictures (spade.py and usis.py
    document `sample` as "colourised layout | photo")."""
    pictures = task.sample(fixed).cpu()
    H, W = fixed["label"].shape[-2:]
    if tuple(pictures.shape[1:]) != (3, H, 2 * W):
        raise ValueError(f"task {task.name!r}: sample() gave {tuple(pictures.shape)}, expected [N, 3, {H}, {2 * W}] "
                         f"(layout | photo)")
    return pictures[..., W:].contiguous()


def real_photo_features(run: RunConfig, s: Settings) -> np.ndarray:
    """Inception features of the first n photos of the training split, through the cache `evaluate kid` uses."""
    dataset, fingerprint, count = real_split(run, "images", s.n)
    key = protocol.real_key("features", fingerprint, s.extractor)
    return protocol.real_features(as_batches(dataset, s.batch, count), s.extractor, key, batch=s.batch, limit=count,
                                  device=s.device)


METRICS = {"layout": LayoutMetrics, "sis": SISMetrics, "image": ImageMetrics}
CHOICES = {"layout": ("kid", "fid", "js"), "sis": ("kid", "fid", "miou"), "image": ("kid", "fid")}


# -- set-up -------------------------------------------------------------------------------------------------------
def check(run: RunConfig) -> None:
    """Raise before training (on every rank, before any process group) for an --eval-* setting that cannot run:
    a task without metrics, a metric the task lacks, mIoU without a segmenter, a missing segmenter, a wrongly
    hashed Inception file, and --eval-metric kid|fid without the Inception weights (searched as `evaluate` does)."""
    tc = run.train
    if not tc.eval_every:
        return
    if run.task not in METRICS:
        raise ValueError(f"--eval-every: the {run.task} task has no metrics during training; tasks with metrics: "
                         f"{sorted(METRICS)}")
    if tc.eval_metric != "auto" and tc.eval_metric not in CHOICES[run.task]:
        raise ValueError(f"--eval-metric {tc.eval_metric}: the {run.task} task measures "
                         f"{'|'.join(CHOICES[run.task])}")
    if tc.eval_segmenter is not None:
        if run.task != "sis":
            raise ValueError(f"--eval-segmenter is for the sis task (proxy mIoU of its photos), not {run.task}")
        load_segmenter(tc.eval_segmenter)  # a missing or unreadable segmenter fails now, not after an hour
    elif tc.eval_metric == "miou":
        raise ValueError("--eval-metric miou needs a segmenter: --eval-segmenter RUN (train one with "
                         "`semsynth train segmenter`)")
    if tc.eval_metric not in WITH_INCEPTION:
        return
    try:  # a file named by $SEMSYNTH_INCEPTION with a wrong hash is an error for auto too
        protocol.check_inception()
    except inception.InceptionWeightsNotFound as err:
        if tc.eval_metric in INCEPTION_METRICS:
            raise FileNotFoundError(f"--eval-metric {tc.eval_metric} needs the FID Inception weights: {err}") from None


def chosen_metric(run: RunConfig, measured: list[str]) -> str | None:
    """The metric that picks model-best: --eval-metric, or for auto the first of AUTO_ORDER measured here."""
    if run.train.eval_metric != "auto":
        return run.train.eval_metric
    return next((m for m in AUTO_ORDER if m in measured), None)


class Evaluator:
    """The task's metrics on the current model: built once on rank 0 (loads Inception unless --eval-metric is js
    or miou, and the segmenter; reads the real reference), then called at every evaluation. `metric` is what picks model-best (None: nothing to
    pick by, e.g. the image task without Inception weights)."""

    def __init__(self, run: RunConfig, device: torch.device, batch: int):
        tc = run.train
        extractor = None
        try:
            extractor = inception.load_inception(device=device) if tc.eval_metric in WITH_INCEPTION else None
        except inception.InceptionWeightsNotFound as err:
            if tc.eval_metric in INCEPTION_METRICS:
                raise
            print(f"warning: --eval-every: KID/FID skipped ({str(err).splitlines()[0]})", file=sys.stderr)
        segmenter = load_segmenter(tc.eval_segmenter, device=device) if tc.eval_segmenter else None
        self.settings = Settings(n=tc.eval_n, seed=tc.seed, batch=batch, device=device, extractor=extractor,
                                 fid=tc.eval_metric == "fid", segmenter=segmenter)
        self.measure = METRICS[run.task](run, self.settings)
        self.metric = chosen_metric(run, self.measure.names(self.settings))
        if self.metric is None:
            print(f"warning: --eval-every: the {run.task} task has nothing to measure in this run (no Inception "
                  f"weights{', no --eval-segmenter' if run.task == 'sis' else ''}): no model-best", file=sys.stderr)

    @torch.no_grad()
    def __call__(self, task) -> dict[str, float]:
        return {k: float(v) for k, v in self.measure(task, self.settings).items()}


# -- the best model -----------------------------------------------------------------------------------------------
@dataclass
class Best:
    """The best value of the chosen metric so far and where it was measured; part of the checkpoint state."""
    metric: str | None = None
    value: float | None = None
    step: int | None = None
    kimg: float | None = None

    def improves(self, metric: str, value: float) -> bool:
        if not np.isfinite(value):
            return False
        if self.metric != metric or self.value is None:
            return True
        return value < self.value if LOWER_IS_BETTER[metric] else value > self.value

    def state_dict(self) -> dict:
        return {"metric": self.metric, "value": self.value, "step": self.step, "kimg": self.kimg}

    @classmethod
    def from_state(cls, state: dict | None) -> "Best":
        state = state or {}
        return cls(state.get("metric"), state.get("value"), state.get("step"), state.get("kimg"))
