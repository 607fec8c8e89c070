"""When does `--compile` pay off for inference? Compile seconds vs seconds saved per sample, on this machine.

For each network (random weights, eval mode, the sizes of the tiny/small presets) at batch --batch: the eager
seconds per sample (median of --reps forwards after a warm-up), the compile seconds (torch.compile with
dynamic=False, its first forward included, as `--compile` reports it), the compiled seconds per sample, the
largest output difference, and the break-even sample count = compile s / (eager - compiled) s per sample.
These numbers fill semsynth/inference/compiled.py BREAK_EVEN. Inductor's caches are disabled so every compile is
cold, as a user's first run is. `--inception` also times the FID Inception eager, TorchScript-frozen
(torch.jit.freeze + optimize_for_inference), channels_last and compiled. Asserts nothing.

    python bench/compile_break_even.py [--threads 2] [--batch 16] [--reps 5] [--cases sg2-tiny-32x64,...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TORCHINDUCTOR_FORCE_DISABLE_CACHES", "1")  # cold compiles, as on a user's first run

import torch  # noqa: E402

from semsynth.models import dcgan, spade, stylegan2  # noqa: E402


def stylegan2_case(size, z_dim, channel_base, channel_max, mapping_layers, out_channels):
    G = stylegan2.Generator(stylegan2.GeneratorConfig(z_dim=z_dim, w_dim=z_dim, mapping_layers=mapping_layers,
                                                      resolution=size, out_channels=out_channels,
                                                      channel_base=channel_base, channel_max=channel_max))
    return "stylegan2-generator", G, lambda n: ((torch.randn(n, z_dim),), {"noise_mode": "const"})


def spade_case(size, ngf, spade_hidden, label_channels=20):
    G = spade.SPADEGenerator(spade.SPADEGeneratorConfig(label_channels=label_channels, ngf=ngf, resolution=size,
                                                        spade_hidden=spade_hidden))

    def inputs(n):
        ids = torch.randint(0, label_channels, (n, *size))
        return (torch.nn.functional.one_hot(ids, label_channels).permute(0, 3, 1, 2).float(),), {}
    return "spade-generator", G, inputs


def dcgan_case(size, ngf, z_dim=100):
    G = dcgan.Generator(dcgan.GeneratorConfig(z_dim=z_dim, resolution=size, out_channels=20, ngf=ngf))
    return "dcgan-generator", G, lambda n: ((torch.randn(n, z_dim),), {})


CASES = {  # the tiny / small presets of semsynth/train/tasks (layout: 20 logit channels, image: RGB)
    "sg2-tiny-32x64": lambda: stylegan2_case((32, 64), 32, 512, 32, 2, 20),
    "sg2-small-64x128": lambda: stylegan2_case((64, 128), 256, 8192, 256, 4, 3),
    "spade-tiny-32x64": lambda: spade_case((32, 64), 4, 16),
    "spade-small-64x128": lambda: spade_case((64, 128), 16, 64),
    "dcgan-32x64": lambda: dcgan_case((32, 64), 32),
}


def seconds(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@torch.no_grad()
def measure(net, inputs, batch: int, reps: int) -> dict:
    net.eval()
    args, kwargs = inputs(batch)
    eager_out = net(*args, **kwargs)  # warm-up
    eager = seconds(lambda: net(*args, **kwargs), reps) / batch
    compiled = torch.compile(net, dynamic=False)
    start = time.perf_counter()
    out = compiled(*args, **kwargs)
    compile_s = time.perf_counter() - start
    fast = seconds(lambda: compiled(*args, **kwargs), reps) / batch
    saved = eager - fast
    return {"eager": eager, "compiled": fast, "compile_s": compile_s, "speedup": eager / fast,
            "max_diff": float((out - eager_out).abs().max()),
            "break_even": compile_s / saved if saved > 0 else float("inf")}


@torch.no_grad()
def inception_variants(batch: int, reps: int, compile_too: bool) -> None:
    """Eager / frozen TorchScript / channels_last / compiled FID Inception, per image, at 299x299."""
    from semsynth.evaluation.metrics.inception import _is_torchscript, _jit_load, module_from_torchscript, \
        resolve_weights
    from semsynth.evaluation.metrics.inception_net import FIDInceptionV3
    try:
        path, _ = resolve_weights()
    except FileNotFoundError as err:
        print(f"inception: skipped ({str(err).splitlines()[0]})")
        return
    net = module_from_torchscript(path) if _is_torchscript(path) else FIDInceptionV3()
    x = torch.randn(batch, 3, 299, 299)
    reference = net(x)
    variants = {"eager module": lambda: net}
    if _is_torchscript(path):
        variants["torchscript"] = lambda: _jit_load(path, "cpu").eval()
        variants["torchscript frozen+optimized"] = lambda: torch.jit.optimize_for_inference(
            torch.jit.freeze(_jit_load(path, "cpu").eval()))
    variants["channels_last"] = lambda: net.to(memory_format=torch.channels_last)
    if compile_too:
        variants["torch.compile"] = lambda: torch.compile(net, dynamic=False)
    for name, make in variants.items():
        start = time.perf_counter()
        model = make()
        xin = x.to(memory_format=torch.channels_last) if name == "channels_last" else x
        out = model(xin)  # first call: compiles / optimizes
        setup = time.perf_counter() - start
        per_image = seconds(lambda: model(xin), reps) / batch
        diff = float((out.reshape(reference.shape) - reference).abs().max())
        print(f"inception {name:<30} setup {setup:6.1f} s  {per_image * 1e3:7.1f} ms/img  max diff {diff:.1e}",
              flush=True)
        net.to(memory_format=torch.contiguous_format)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16, help="the default --batch of sample/generate/compare")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of: {', '.join(CASES)}")
    ap.add_argument("--inception", action="store_true", help="also time the FID Inception variants")
    ap.add_argument("--inception-compile", action="store_true", help="... torch.compile among them (minutes)")
    ap.add_argument("--no-layout-optimization", action="store_true",
                    help="inductor keeps the eager memory layout (torch._inductor.config.layout_optimization)")
    args = ap.parse_args()
    if args.no_layout_optimization:
        from torch._inductor import config as inductor_config
        inductor_config.layout_optimization = False
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {args.batch}, cold compiles")
    print(f"{'network':<20} {'arch':<20} {'eager ms/s':>10} {'compiled':>9} {'speedup':>7} {'compile s':>9} "
          f"{'break-even':>10} {'max diff':>9}")
    for case in args.cases.split(","):
        torch.manual_seed(0)
        arch, net, inputs = CASES[case]()
        r = measure(net, inputs, args.batch, args.reps)
        print(f"{case:<20} {arch:<20} {r['eager'] * 1e3:10.2f} {r['compiled'] * 1e3:9.2f} {r['speedup']:7.2f} "
              f"{r['compile_s']:9.1f} {r['break_even']:10.0f} {r['max_diff']:9.1e}", flush=True)
    if args.inception:
        inception_variants(min(args.batch, 8), args.reps, args.inception_compile)


if __name__ == "__main__":
    main()
