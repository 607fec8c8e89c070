"""Images/s and peak memory of one SIS training step (G phase + D phase, and the segmenter phase of the
unpaired task when semsynth/train/tasks/usis.py exists) on random label maps and photos.

CUDA (skipped with a message without it): 256x512, batch 8, the "paper" preset, in fp32, bf16 autocast,
bf16 + channels_last, and bf16 + channels_last + torch.compile. CPU: 64x128, the "small" preset, fp32.
Prints numbers, asserts nothing.
    python bench/train_sis.py [--steps 5] [--cpu-batch 4] [--use-vgg] [--skip-compile]
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import resource
import time

import torch

from semsynth.classes import get_class_set
from semsynth.train.tasks import sis


class RandomScenes(torch.utils.data.Dataset):
    """Random label maps (blocks of Cityscapes train ids) and photos: throughput does not depend on content."""

    def __init__(self, size, mode: str, n: int = 16):
        self.classes, self.size, self.mode, self.name = get_class_set("cityscapes"), tuple(size), mode, "random"
        g = torch.Generator().manual_seed(0)
        H, W = self.size
        blocks = torch.randint(0, self.classes.num_classes, (n, H // 8, W // 8), generator=g)
        self.labels = blocks.repeat_interleave(8, 1).repeat_interleave(8, 2)
        self.images = torch.rand(n, 3, H, W, generator=g) * 2 - 1

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"label": self.labels[i], "image": self.images[i], "name": f"random{i}"}


def make_task(cfg: sis.Config, size, device, channels_last: bool, compile_nets: bool):
    data = RandomScenes(size, cfg.mode)
    task = sis.build(cfg, data)
    for key, net in task.nets.items():
        net.to(device)
        if channels_last:
            net.to(memory_format=torch.channels_last)
    opts = task.optimizers()
    if compile_nets:
        task.nets = {k: torch.compile(v) for k, v in task.nets.items()}
    return task, opts, data


def train_step(task, opts, batch, device, use_bf16: bool) -> None:
    owned = task.optimizer_nets()
    for phase in task.phases():
        for name, net in task.nets.items():
            net.requires_grad_(name in owned[phase.optimizer])
        opts[phase.optimizer].zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss, _ = task.loss(phase.name, batch)
        loss.backward()
        opts[phase.optimizer].step()


def measure(cfg: sis.Config, size, batch_size: int, device, steps: int, use_bf16=False, channels_last=False,
            compile_nets=False) -> tuple[float, float]:
    """(images/s, peak memory MiB: CUDA max allocated, or the process's peak RSS on CPU)."""
    torch.manual_seed(0)
    task, opts, data = make_task(cfg, size, device, channels_last, compile_nets)
    idx = list(range(batch_size))
    batch = {"label": torch.stack([data[i % len(data)]["label"] for i in idx]).to(device),
             "image": torch.stack([data[i % len(data)]["image"] for i in idx]).to(device)}
    if channels_last:
        batch["image"] = batch["image"].contiguous(memory_format=torch.channels_last)
    warmup = 3 if compile_nets else 1
    for _ in range(warmup):
        train_step(task, opts, batch, device, use_bf16)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        train_step(task, opts, batch, device, use_bf16)
    if device.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2 ** 20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return steps * batch_size / (time.perf_counter() - start), peak


def configs(preset: str, use_vgg: bool) -> dict[str, sis.Config]:
    base = sis.Config(**{**sis.PRESETS[preset]["task"], "use_vgg": use_vgg})
    out = {"paired (G+D)": base}
    if importlib.util.find_spec("semsynth.train.tasks.usis") is not None:
        out["unpaired (G+D+S)"] = dataclasses.replace(base, mode="unpaired", family="oasis",
                                                      num_upsampling_layers="normal", use_vgg=False)
    else:
        print("  (semsynth.train.tasks.usis not present: unpaired step not measured)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per configuration")
    ap.add_argument("--cuda-batch", type=int, default=8)
    ap.add_argument("--cpu-batch", type=int, default=4)
    ap.add_argument("--use-vgg", action="store_true", help="include the VGG loss (needs the local weights)")
    ap.add_argument("--skip-compile", action="store_true")
    args = ap.parse_args()

    if torch.cuda.is_available():
        dev = torch.device("cuda")
        print(f"CUDA {torch.cuda.get_device_name()}: 256x512, batch {args.cuda_batch}, preset paper")
        for name, cfg in configs("paper", args.use_vgg).items():
            variants = [("fp32", {}), ("bf16", dict(use_bf16=True)),
                        ("bf16+channels_last", dict(use_bf16=True, channels_last=True))]
            if not args.skip_compile:
                variants.append(("bf16+channels_last+compile",
                                 dict(use_bf16=True, channels_last=True, compile_nets=True)))
            for label, kw in variants:
                torch.cuda.empty_cache()
                ips, peak = measure(cfg, (256, 512), args.cuda_batch, dev, args.steps, **kw)
                print(f"  {name:18s} {label:28s} {ips:8.2f} images/s  peak {peak:8.0f} MiB")
    else:
        print("CUDA not available: skipping the 256x512 GPU measurements")

    dev = torch.device("cpu")
    print(f"CPU ({torch.get_num_threads()} threads): 64x128, batch {args.cpu_batch}, preset small, fp32")
    for name, cfg in configs("small", args.use_vgg).items():
        ips, peak = measure(cfg, (64, 128), args.cpu_batch, dev, args.steps)
        print(f"  {name:18s} fp32 {ips:8.2f} images/s  peak RSS {peak:8.0f} MiB")


if __name__ == "__main__":
    main()
