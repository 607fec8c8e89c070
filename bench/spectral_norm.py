"""Time, page faults and peak RSS of one SPADE G forward+backward under three spectral norms: semsynth's
(semsynth/models/spectral_norm.py), torch's parametrization and torch's hook (the official codes' choice); and
semsynth's with a channels_last G and input.

Each (variant, round) runs in its own process, so ru_maxrss is that variant's peak; variants are interleaved per
round. Defaults: 128x256, 36 label channels, ngf 64, batch 1, batch norm, 1 thread (issue 15). Prints numbers.
    python bench/spectral_norm.py [--rounds 3] [--steps 3] [--size 128 256] [--ngf 64]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

VARIANTS = ("semsynth", "torch-parametrization", "torch-hook", "semsynth+channels_last")


def one_process(variant: str, size, ngf: int, steps: int) -> dict:
    import torch

    import semsynth.models.spade as spade
    torch.set_num_threads(1)
    if variant == "torch-parametrization":
        spade.spectral_norm = torch.nn.utils.parametrizations.spectral_norm
    elif variant == "torch-hook":
        spade.spectral_norm = torch.nn.utils.spectral_norm
    torch.manual_seed(0)
    G = spade.SPADEGenerator(spade.SPADEGeneratorConfig(label_channels=36, ngf=ngf, resolution=tuple(size))).train()
    seg = torch.zeros(1, 36, *size).scatter_(1, torch.randint(0, 36, (1, 1, *size)), 1.0)
    if variant.endswith("channels_last"):
        G, seg = G.to(memory_format=torch.channels_last), seg.contiguous(memory_format=torch.channels_last)
    times, faults = [], []
    for step in range(steps + 1):  # the first step warms up allocator and kernels
        f0, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
        G(seg).square().mean().backward()
        G.zero_grad(set_to_none=True)
        if step:
            times.append(time.perf_counter() - t0)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    return {"s": statistics.median(times), "faults": statistics.median(faults),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--size", type=int, nargs=2, default=[128, 256])
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_process(args.child, args.size, args.ngf, args.steps)))
        return
    results = {v: [] for v in args.variants}
    for r in range(args.rounds):
        order = args.variants if r % 2 == 0 else args.variants[::-1]
        for v in order:
            out = subprocess.run([sys.executable, __file__, "--child", v, "--steps", str(args.steps), "--size",
                                  *map(str, args.size), "--ngf", str(args.ngf)], check=True, capture_output=True,
                                 text=True).stdout
            results[v].append(json.loads(out.strip().splitlines()[-1]))
            print(v, results[v][-1], flush=True)
    print(f"SPADE G fwd+bwd {args.size[0]}x{args.size[1]}, ngf {args.ngf}, 36 ch, medians over {args.rounds} "
          "processes:")
    for v, rs in results.items():
        print(f"  {v:22s} {statistics.median(r['s'] for r in rs):7.3f} s/step  "
              f"{statistics.median(r['faults'] for r in rs):9.0f} minor faults/step  "
              f"peak RSS {statistics.median(r['peak_mb'] for r in rs):7.0f} MB")


if __name__ == "__main__":
    main()
