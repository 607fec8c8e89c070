"""Milliseconds of modulated conv in its two forms (fused: one grouped conv with per-sample weights; non-fused:
scale x, one shared-weight conv, demodulate), forward without autograd and forward+backward, at the layer sizes of
the StyleGAN2 tiny / small presets and the official-parity fixture. 1 thread, fp32, CPU; forms interleaved,
median of --repeats. Prints a table; the rule in semsynth/models/layers.py use_fused_modconv cites it.
    python bench/modconv.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from semsynth.models.layers import modulated_conv2d, setup_filter

# (name, channels, H=W, up): tiny = channel_max 32 at 64x64; small = 256 channels up to 32x32, 128 at 64x64;
# the fixture = 8 channels at 16x16 (tests/convert/test_stylegan2_ada.py G_KWARGS)
LAYERS = [("tiny 64", 32, 64, 1), ("tiny 32->64 up", 32, 32, 2), ("small 16", 256, 16, 1), ("small 32", 256, 32, 1),
          ("small 64", 128, 64, 1), ("small 32->64 up", 128, 32, 2), ("fixture 16", 8, 16, 1)]


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 4, 8])
    args = ap.parse_args()
    torch.set_num_threads(1)
    f = setup_filter()
    print(f"{'layer':18s} {'N':>3s}  {'fwd fused':>10s} {'non-fused':>10s}  {'fwd+bwd fused':>14s} {'non-fused':>10s}")
    for name, c, size, up in LAYERS:
        for n in args.batches:
            g = torch.Generator().manual_seed(0)
            x = torch.randn(n, c, size, size, generator=g, requires_grad=True)
            weight = torch.randn(c, c, 3, 3, generator=g, requires_grad=True)
            styles = torch.randn(n, c, generator=g, requires_grad=True)

            def fwd(fused):
                with torch.no_grad():
                    modulated_conv2d(x, weight, styles, up=up, padding=1, resample_filter=f, fused=fused)

            def fwd_bwd(fused):
                modulated_conv2d(x, weight, styles, up=up, padding=1, resample_filter=f, fused=fused).sum().backward()

            res = {k: [] for k in ("ff", "fn", "bf", "bn")}
            for fn in (fwd, fwd_bwd):  # warm-up
                fn(True), fn(False)
            for _ in range(args.repeats):  # interleaved
                res["ff"] += timed(lambda: fwd(True), 1)
                res["fn"] += timed(lambda: fwd(False), 1)
                res["bf"] += timed(lambda: fwd_bwd(True), 1)
                res["bn"] += timed(lambda: fwd_bwd(False), 1)
            m = {k: statistics.median(v) for k, v in res.items()}
            print(f"{name:18s} {n:3d}  {m['ff']:10.2f} {m['fn']:10.2f}  {m['bf']:14.2f} {m['bn']:10.2f}", flush=True)


if __name__ == "__main__":
    main()
