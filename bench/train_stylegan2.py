"""Training-step throughput and peak memory of the StyleGAN2 layout task (G, D and lazy R1 phases).

CUDA: 256x512, batch 16, fp32 vs bf16 autocast, each with and without torch.compile (skipped with a message
when CUDA is absent). CPU: the tiny preset at 32x64. Prints numbers; asserts nothing.

    python bench/train_stylegan2.py [--steps 32] [--batch 16] [--size 256x512] [--output labels|rgb]
"""
from __future__ import annotations

import argparse
import resource
import time

import torch

from semsynth.classes import get_class_set
from semsynth.models.io import unwrap
from semsynth.train.tasks import layout


class RandomLayouts:
    """Just the data-set surface the task reads: .classes, .size, .name."""

    def __init__(self, size):
        self.classes, self.size, self.name = get_class_set("cityscapes"), tuple(size), "random"

    def batch(self, n, device):
        return {"label": torch.randint(0, self.classes.num_classes, (n, *self.size), device=device)}


def train_steps(task, batch: dict, steps: int, device: str, precision: str) -> None:
    opts = task.optimizers()
    owned = task.optimizer_nets()
    for step in range(steps):
        for phase in task.phases():
            if step % phase.interval:
                continue
            for name, net in task.nets.items():
                net.requires_grad_(name in owned[phase.optimizer])
            opts[phase.optimizer].zero_grad(set_to_none=True)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss, _ = task.loss(phase.name, batch)
            loss.backward()
            opts[phase.optimizer].step()


def measure(preset: str, size, batch_size: int, steps: int, warmup: int, device: str, precision: str,
            compile_nets: bool, output: str) -> dict:
    torch.manual_seed(0)
    data = RandomLayouts(size)
    task = layout.build(layout.Config(**{**layout.PRESETS[preset]["task"], "output": output}), data)
    for key in ("G", "D"):
        task.nets[key] = task.nets[key].to(device)
        if compile_nets:
            task.nets[key] = torch.compile(task.nets[key])
    batch = data.batch(batch_size, device)
    train_steps(task, batch, warmup, device, precision)  # warm-up: compilation, cuDNN autotuning, allocator
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    train_steps(task, batch, steps, device, precision)  # includes one lazy-R1 phase per 16 steps
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux ru_maxrss is KiB
    params = {k: sum(p.numel() for p in unwrap(v).parameters()) for k, v in task.nets.items()}
    return {"images_per_s": batch_size * steps / seconds, "s_per_step": seconds / steps, "peak_gib": peak,
            "params": params}


def report(label: str, r: dict, device: str) -> None:
    mem = "peak CUDA memory" if device == "cuda" else "peak process RSS"
    print(f"{label:<36} {r['images_per_s']:9.1f} img/s  {r['s_per_step'] * 1000:8.1f} ms/step  "
          f"{mem} {r['peak_gib']:.2f} GiB  (G {r['params']['G']:,} / D {r['params']['D']:,} params)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="256x512", help="CUDA resolution HxW")
    ap.add_argument("--batch", type=int, default=16, help="CUDA batch")
    ap.add_argument("--preset", default="paper", help="CUDA task preset (tiny | small | paper)")
    ap.add_argument("--steps", type=int, default=32, help="timed steps (CUDA)")
    ap.add_argument("--output", default="labels", choices=["labels", "rgb"], help="layout output")
    ap.add_argument("--cpu-steps", type=int, default=16, help="timed steps of the tiny CPU run")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, output={args.output}")

    r = measure("tiny", (32, 64), 8, args.cpu_steps, 2, "cpu", "fp32", False, args.output)
    report("CPU tiny 32x64 batch 8 fp32", r, "cpu")

    if not torch.cuda.is_available():
        print("CUDA not available: skipping the 256x512 GPU measurements")
        return
    print(f"GPU: {torch.cuda.get_device_name()}")
    for precision in ("fp32", "bf16"):
        for compile_nets in (False, True):
            extra = " +compile" if compile_nets else ""
            label = f"CUDA {args.preset} {size[0]}x{size[1]} b{args.batch} {precision}{extra}"
            try:
                report(label, measure(args.preset, size, args.batch, args.steps, 4, "cuda", precision,
                                      compile_nets, args.output), "cuda")
            except Exception as err:  # a bench reports what failed and goes on with the other settings
                print(f"{label:<36} failed: {type(err).__name__}: {str(err).splitlines()[0][:200]}")
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
