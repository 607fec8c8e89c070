"""Time and peak RSS of one StyleGAN2 training iteration (G phase + D phase, no regularisers) on CPU, 1 thread:
the modulated conv always fused (semsynth before issue 15) vs chosen by use_fused_modconv (non-fused in training),
and the latter with channels_last nets and batches. Each (variant, round) is its own process, so ru_maxrss is that
variant's peak; variants are interleaved per round. Prints numbers.
    python bench/stylegan2_step.py [--preset tiny|auto] [--size 64] [--batch 4] [--rounds 3] [--steps 3]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

VARIANTS = ("fused", "chosen", "chosen+channels_last")
# tiny = the image task's tiny preset; auto = stylegan2-ada --cfg=auto at 64x64 (the comparison)
PRESETS = {"tiny": dict(z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=32),
           "auto": dict(z_dim=512, w_dim=512, mapping_layers=2, channel_base=16384, channel_max=512)}


def one_process(variant: str, preset: str, size: int, batch: int, steps: int) -> dict:
    import torch
    import torch.nn.functional as F

    from semsynth.models import layers
    from semsynth.models.stylegan2 import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig
    torch.set_num_threads(1)
    if variant == "fused":
        layers.use_fused_modconv = lambda batch: True
    p = PRESETS[preset]
    torch.manual_seed(0)
    G = Generator(GeneratorConfig(resolution=(size, size), **p))
    D = Discriminator(DiscriminatorConfig(resolution=(size, size), channel_base=p["channel_base"],
                                          channel_max=p["channel_max"]))
    fmt = torch.channels_last if variant.endswith("channels_last") else torch.contiguous_format
    G, D = G.to(memory_format=fmt), D.to(memory_format=fmt)
    opt_g, opt_d = (torch.optim.Adam(n.parameters(), lr=2e-3, betas=(0.0, 0.99)) for n in (G, D))
    real = torch.randn(batch, 3, size, size).contiguous(memory_format=fmt)
    times = []
    for step in range(steps + 1):  # the first iteration warms up
        t0 = time.perf_counter()
        z = torch.randn(batch, p["z_dim"])
        F.softplus(-D(G(z))).mean().backward()  # G phase
        opt_g.step(), G.zero_grad(set_to_none=True), D.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = G(torch.randn(batch, p["z_dim"]))
        (F.softplus(D(fake)).mean() + F.softplus(-D(real)).mean()).backward()  # D phase
        opt_d.step(), D.zero_grad(set_to_none=True)
        if step:
            times.append(time.perf_counter() - t0)
    return {"s": statistics.median(times), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_process(args.child, args.preset, args.size, args.batch, args.steps)))
        return
    results = {v: [] for v in args.variants}
    for r in range(args.rounds):
        for v in (args.variants if r % 2 == 0 else args.variants[::-1]):
            out = subprocess.run([sys.executable, __file__, "--child", v, "--preset", args.preset, "--size",
                                  str(args.size), "--batch", str(args.batch), "--steps", str(args.steps)],
                                 check=True, capture_output=True, text=True).stdout
            results[v].append(json.loads(out.strip().splitlines()[-1]))
            print(v, results[v][-1], flush=True)
    print(f"StyleGAN2 iteration, preset {args.preset}, {args.size}x{args.size}, batch {args.batch}, 1 thread, "
          f"medians over {args.rounds} processes:")
    for v, rs in results.items():
        print(f"  {v:22s} {statistics.median(r['s'] for r in rs):7.3f} s/iteration  "
              f"peak RSS {statistics.median(r['peak_mb'] for r in rs):7.0f} MB")


if __name__ == "__main__":
    main()
