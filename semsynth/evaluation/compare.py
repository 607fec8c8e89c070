"""Two-stage (layout GAN -> SIS) against single-stage (StyleGAN2 on photos), measured the same way.

Rows: generated layouts vs real layouts (layout FID on colourised maps, KID, class-share JS divergence),
each two-stage pipeline's photos vs real photos (FID, KID, mIoU of a segmenter against the layouts they came
from), single-stage photos vs real photos (FID, KID). Every row uses the same real set, resolution, sample
count and Inception weights.

Every row with Inception features also gets precision, recall, density and coverage (protocol.prdc, k = 3): FID
alone cannot tell a collapsed generator from a poor one.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from semsynth.data import load_dataset
from semsynth.data.labels import colorize_batch, to_uint8
from semsynth.evaluation import protocol
from semsynth.evaluation.curves import run_curves
from semsynth.evaluation.metrics import inception as inception_module
from semsynth.evaluation.metrics.features import extract_features
from semsynth.evaluation.metrics.fid import fid_from_features
from semsynth.evaluation.metrics.kid import default_subset_size
from semsynth.evaluation.metrics.layout import class_shares, js_divergence, neighbour_fractions, neighbour_ratios
from semsynth.evaluation.metrics.miou import ConfusionMatrix
from semsynth.evaluation.protocol import kid, real_features, real_key
from semsynth.evaluation.plots import SIDE_BY_SIDE_N
from semsynth.evaluation.report import write_report
from semsynth.inference.compiled import compile_seconds, prepare, should_compile
from semsynth.inference.pipeline import Pipeline
from semsynth.inference.sampling import sample_images
from semsynth.inference.segment import load_segmenter, segment
from semsynth.inference.visualize import save_grid, save_label_png, save_png
from semsynth.models.io import load_model

GRID_N = 16  # samples per grid in the HTML report
PRDC_KEYS = ("precision", "recall", "density", "coverage")  # on the same Inception features as FID/KID
SAMPLES = "samples"  # every generated set as PNGs, under the report folder: `evaluate verify` recomputes from them


def real_set(data: str, root, split: str, size, n: int, seed: int):
    """The first n (label, photo) pairs of a split at `size` -> (LongTensor [n, H, W], uint8 [n, 3, H, W], the
    data set)."""
    dataset = load_dataset(data, root=root, split=split, size=size, mode="paired", seed=seed)
    if len(dataset) < n:
        raise ValueError(f"{data} {split} holds {len(dataset)} scenes, fewer than --n {n}")
    labels, photos = [], []
    for i in tqdm(range(n), desc=f"real {split} set", leave=False):
        item = dataset[i]
        labels.append(item["label"])
        photos.append(to_uint8(item["image"]))
    return torch.stack(labels), torch.stack(photos), dataset


def _resize_photos(photos: torch.Tensor, size) -> torch.Tensor:
    if tuple(photos.shape[-2:]) == tuple(size):
        return photos
    x = F.interpolate(photos.float(), size=tuple(size), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8)


class FeatureBank:
    """Inception features of each compared set; the real sets' through the real-statistics cache. `extractor` is
    None (and `skipped` says why) when FID/KID are off or the weights are missing."""

    def __init__(self, inception, device, batch: int, enabled: bool = True, cache_dir=None, compile: bool = False):
        self.batch, self.device, self.cache_dir = batch, device, cache_dir
        self.extractor, self.skipped = None, None
        self.keys = []  # cache keys of the real statistics used (the report's provenance cites them)
        if not enabled:
            self.skipped = "FID/KID not computed (--no-fid)"
            return
        try:
            self.extractor = inception_module.accelerate(inception_module.load_inception(inception, device=device),
                                                         compile=compile)
        except inception_module.InceptionWeightsNotFound as err:
            if inception is not None:  # a file the user named must exist; only the default search may come up empty
                raise
            self.skipped = str(err)

    def _batches(self, images: torch.Tensor):
        return (images[i:i + self.batch] for i in range(0, len(images), self.batch))

    def __call__(self, images: torch.Tensor):
        return extract_features(self._batches(images), self.extractor, device=self.device)

    def real(self, kind: str, images: torch.Tensor, fingerprint: dict):
        """Features of a real set, from the cache when this set (by `fingerprint`) was measured before."""
        self.keys.append(real_key(kind, fingerprint, self.extractor))
        return real_features(self._batches(images), self.extractor, self.keys[-1], device=self.device,
                             cache_dir=self.cache_dir)


def _gan_row(name: str, against: str, bank: FeatureBank, real_feats, fake_images) -> dict:
    row = {"name": name, "against": against, "fid": None, "kid_mean": None, "kid_std": None,
           "js_divergence": None, "miou": None, **dict.fromkeys(PRDC_KEYS)}
    if bank.extractor is not None:
        fake_feats = bank(fake_images)
        row["fid"] = float(fid_from_features(real_feats, fake_feats))
        k = kid(real_feats, fake_feats)
        row["kid_mean"], row["kid_std"] = float(k["kid_mean"]), float(k["kid_std"])
        if min(len(real_feats), len(fake_feats)) > protocol.PRDC_K:  # fewer samples have no k-th neighbour: "–"
            pr = protocol.prdc(real_feats, fake_feats, device=bank.device)
            row.update({key: float(pr[key]) for key in PRDC_KEYS})
    return row


def run_compare(data: str, layout_run, sis_runs: list, image_run, n: int, out, *, root=None,
                split: str = "val", seed: int = 0, truncation: float = 1.0, batch: int = 16, device="cpu",
                inception=None, segmenter=None, fid: bool = True, cache_dir=None,
                trust_torchscript: bool = False, segmenter_sha256: str | None = None, compile: str = "auto",
                precision: str = "fp32") -> dict:
    """Compute every row, write report.{json,md,html} and sample grids into `out`, return the report dict.
    fid False: no FID/KID (the report says so). cache_dir: real-statistics cache (None = the default).
    compile / precision: torch.compile ("auto" | "on" | "off") and autocast ("fp32" | "bf16") of the generators and
    the segmenter (semsynth/inference/compiled.py); the Inception is compiled too but always runs fp32. The
    report's "compile" block holds the compile seconds, kept apart from the metrics."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not sis_runs:
        raise ValueError("compare needs at least one --sis run")
    nets = {}  # name -> network, for the compile seconds

    def speed_up(name: str, net, samples: int):
        nets[name] = prepare(net, name, compile=should_compile(compile, getattr(net, "meta", {}).get("arch"), samples),
                             precision=precision)
        return nets[name]

    layout_generator = speed_up("layout G", load_model(layout_run, device, tasks=("layout",)), n)  # shared by all
    pipelines = [Pipeline(layout_generator, speed_up(f"SIS G {i}", load_model(s, device, tasks=("sis",)), n))
                 for i, s in enumerate(sis_runs)]
    size = pipelines[0].size
    for s, p in zip(sis_runs, pipelines):
        if p.size != size:
            raise ValueError(f"SIS run {s} makes {p.size} photos, the first makes {size}: compare needs one size")
    real_labels, real_photos, dataset = real_set(data, root, split, size, n, seed)
    classes = dataset.classes
    if classes.names != pipelines[0].classes.names:
        raise ValueError(f"data set {data!r} uses class set {classes.name!r}, the models use "
                         f"{pipelines[0].classes.name!r}")
    images_featured = n * (3 + len(sis_runs) + (image_run is not None))  # real photos and layouts, every fake set
    bank = FeatureBank(inception, device, batch, enabled=fid, cache_dir=cache_dir,
                       compile=should_compile(compile, inception_module.ARCH, images_featured))
    nets["Inception"] = getattr(bank.extractor, "backbone", None)  # stand-ins in tests have none
    grids, sample_sets = {}, []  # sample_sets: the folders `evaluate verify` reads

    def keep(stem: str, kind: str, images=None, labels=None):
        """Write a generated set as PNGs into out/samples/ (folders relative to `out`) for `evaluate verify`."""
        entry = {"kind": kind}
        for what, tensor, save in (("images", images, save_png), ("labels", labels, save_label_png)):
            if tensor is not None:
                folder = f"{SAMPLES}/{stem}_{what}"
                for i, item in enumerate(tensor):
                    save(item, out / folder / f"{i:05d}.png")
                entry[what] = folder
        sample_sets.append(entry)

    def grid(title: str, images: torch.Tensor, stem: str):
        save_grid(images[:GRID_N], out / f"{stem}.png", nrow=4)
        grids[title] = f"{stem}.png"

    real_colors = colorize_batch(real_labels, classes)
    grid("real layouts", real_colors, "real_layouts")
    grid("real photos", real_photos, "real_photos")
    real_photo_feats = real_layout_feats = None
    if bank.extractor is not None:
        def fingerprint(side):
            return protocol.dataset_fingerprint(dataset, data, root=root, split=split, size=size, seed=seed, limit=n,
                                                side=side)
        real_photo_feats = bank.real("features", real_photos, fingerprint("image"))  # the key `evaluate kid` uses
        real_layout_feats = bank.real("layout-features", real_colors,
                                      {**fingerprint("label"), **protocol.classes_fingerprint(classes)})

    rows = []
    # stage 1: layouts, generated once and shared by every two-stage row
    first = pipelines[0].generate(n, seed=seed, truncation=truncation, batch_size=batch)
    fake_labels, fake_colors = first.labels, first.colors
    grid("generated layouts", fake_colors, "generated_layouts")
    row = _gan_row("generated layouts", "real layouts", bank, real_layout_feats, fake_colors)
    real_shares = class_shares(real_labels, classes.num_classes, classes.ignore_index)
    fake_shares = class_shares(fake_labels, classes.num_classes, classes.ignore_index)
    row["js_divergence"] = float(js_divergence(real_shares, fake_shares))
    real_fractions = neighbour_fractions(real_labels, classes.ignore_index)
    fake_fractions = neighbour_fractions(fake_labels, classes.ignore_index)
    row.update(neighbour_ratios(real_fractions, fake_fractions))  # speckle: generated / real, 1 = as real maps
    rows.append(row)
    layout_statistics = {"class_shares": {"real": real_shares.tolist(), "generated": fake_shares.tolist()},
                         **{k: {"real": real_fractions[k], "generated": fake_fractions[k]} for k in real_fractions}}
    samples = {"generated layout": _hwc(fake_colors[:SIDE_BY_SIDE_N])}  # the side-by-side plot: one column per model
    keep("generated_layouts", "layouts", labels=fake_labels)

    seg_model, seg_info = _load_segmenter(segmenter, real_photos, real_labels, classes, batch, device,
                                          speed_up=lambda net: speed_up("segmenter", net, n * (1 + len(sis_runs))),
                                          trust_torchscript=trust_torchscript, sha256=segmenter_sha256)
    for s, pipe in zip(sis_runs, pipelines):
        label = pipe.sis_generator.meta.get("mode", "sis")
        photos = first.photos[:, 0] if pipe is pipelines[0] else pipe.synthesize(
            fake_labels, seed=seed, batch_size=batch).photos[:, 0]
        grid(f"two-stage photos ({label})", photos, f"two_stage_{label}_{len(rows)}")
        samples[_unique(f"{label} SIS", samples)] = _hwc(photos[:SIDE_BY_SIDE_N])
        row = _gan_row(f"two-stage photos ({label} SIS)", "real photos", bank, real_photo_feats, photos)
        if seg_model is not None:
            iou = _iou(seg_model, photos, fake_labels, classes, batch)
            row["miou"], row["per_class_iou"] = iou["miou"], iou["per_class_iou"]
        rows.append(row)
        keep(f"two_stage_{label}_{len(rows) - 1}", "photos", images=photos,
             labels=None if seg_model is None else fake_labels)

    if image_run is not None:
        G = speed_up("image G", load_model(image_run, device, tasks=("image",)), n)
        photos = _resize_photos(sample_images(G, n=n, seed=seed, truncation_psi=truncation, batch=batch), size)
        grid("single-stage photos", photos, "single_stage")
        rows.append(_gan_row("single-stage photos (StyleGAN2)", "real photos", bank, real_photo_feats, photos))
        keep("single_stage", "photos", images=photos)

    warning = protocol.sample_size_warning(n, n) if bank.extractor is not None else None
    report = {
        "data": data, "split": split, "n": n, "seed": seed, "resolution": list(size), "truncation": truncation,
        "fid_protocol": ({"skipped": bank.skipped} if bank.extractor is None else
                         {"weights_sha256": bank.extractor.weights_sha256, "kid_subsets": protocol.KID_SUBSETS,
                          "kid_subset_size": default_subset_size(n, n), "prdc_k": protocol.PRDC_K}),
        "segmenter": seg_info,
        "rows": rows,
        "compile": {"mode": compile, "precision": precision, "seconds": compile_seconds(nets)},
        "warnings": [warning] if warning else [],
        "protocol": protocol.protocol_block(
            inputs={"command": "compare", "data": data, "root": str(Path(root).resolve()) if root else None,
                    "split": split, "size": list(size), "n": n, "seed": seed,
                    "inception": str(Path(inception).resolve()) if inception else None,
                    "samples": sample_sets},
            real=protocol.real_inputs(data, root=root, split=split, size=size, seed=seed), n_real=n, n_fake=n,
            seeds={"data": seed, "samples": seed}, extractor=bank.extractor, fid_skipped=bank.skipped,
            stats_keys=bank.keys, truncation=truncation,
            kid={"kid_subsets": protocol.KID_SUBSETS, "kid_subset_size": default_subset_size(n, n)}
            if bank.extractor is not None else None,
            segmenter=protocol.segmenter_provenance(segmenter, seg_info["miou_real"]) if seg_model is not None
            else None),
    }
    report.update(classes=list(classes.names), layout_statistics=layout_statistics,
                  side_by_side={"columns": list(samples), "samples": list(range(len(samples["generated layout"]))),
                                "seed": seed},
                  curves=_curves({"layout": layout_run, **dict(zip(list(samples)[1:], sis_runs)),
                                  "image": image_run, "segmenter": segmenter}))
    write_report(report, out, grids, samples)
    return report


def _hwc(images: torch.Tensor):
    """uint8 [N, 3, H, W] -> numpy [N, H, W, 3], as the plots take images."""
    return images.permute(0, 2, 3, 1).contiguous().cpu().numpy()


def _unique(name: str, taken) -> str:
    """`name`, or `name 2`, `name 3`, ... when two stage-2 models share a label (two paired runs, say)."""
    i, candidate = 1, name
    while candidate in taken:
        i += 1
        candidate = f"{name} {i}"
    return candidate


def _curves(runs: dict) -> dict:
    """Role -> {"run", "kimg", "values"} for each given run folder that holds a stats.jsonl."""
    out = {}
    for role, run in runs.items():
        curves = run_curves(run) if run is not None else None
        if curves is not None:
            out[role] = {"run": str(run), **curves}
    return out


def _iou(seg_model, photos_uint8, labels, classes, batch) -> dict:
    """{"miou", "per_class_iou", ...} of the segmenter's predictions on photos against the layouts."""
    cm = ConfusionMatrix(classes.num_classes, classes.ignore_index)
    pred = segment(seg_model, photos_uint8.float() / 127.5 - 1, batch=batch)
    cm.update(pred, labels)
    return cm.compute()


def _load_segmenter(segmenter, real_photos, real_labels, classes, batch, device, speed_up=lambda net: net, **trust):
    if segmenter is None:
        return None, {"skipped": "no --segmenter given (train one with `semsynth train segmenter`)"}

    model = speed_up(load_segmenter(segmenter, device=device, **trust))
    iou = _iou(model, real_photos, real_labels, classes, batch)
    return model, {"path": str(segmenter), "miou_real": float(iou["miou"]), "per_class_iou_real": iou["per_class_iou"]}
