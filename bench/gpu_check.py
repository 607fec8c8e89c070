"""Every CUDA path of semsynth in one command, for the first GPU the project gets (under 8 minutes on one H100/H200):
bf16 autocast, channels_last, torch.compile, 1-process NCCL DDP through the engine, the uint8 -> float widening of
`expand_items` on the device, the CUDA columns of bench/train_sis.py, bench/train_stylegan2.py and bench/fid.py,
bench/versus_official.py on CUDA (fp32, bf16 autocast, torch.compile; the official side only with --official-root),
and a short paired SIS + layout training at 128x256 on synthetic-streets (`--train-minutes` each).

Prints ONE table (check | status | seconds | figure); each check runs on its own, so one failure does not stop the
others. Exit status 1 if any check failed. Without CUDA every row reads "skipped: no CUDA" and the exit status is 0.
Full bench outputs and run folders go under --out. Paste the table into README.md ("GPU check") when first run.

    PYTHONPATH=. python bench/gpu_check.py [--out /tmp/semsynth-gpu-check] [--train-minutes 1] [--budget-minutes 8]
        [--official-root DIR]   (the clones bench/versus_official.py compares against; without it: semsynth only)
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
SMALL_SIZE = "128x256"
DEADLINE = float("inf")  # time.time() by which the checks must end (set from --budget-minutes)


# -- helpers ------------------------------------------------------------------------------------------------------
def train(out: Path, task: str, *options: str) -> dict:
    """`semsynth train TASK` in this process on synthetic-streets; returns the last stats.jsonl line."""
    from semsynth.cli.main import main
    argv = ["train", task, "--data", "synthetic-streets", "--device", "cuda", "--workers", "2", "--out", str(out),
            "--sample-every", "0", "--log-every", "5", *options]
    if main(argv) != 0:
        raise RuntimeError(f"semsynth {' '.join(argv)} failed (see stderr above)")
    last = json.loads((out / "stats.jsonl").read_text().splitlines()[-1])
    bad = [k for k, v in last.items() if isinstance(v, float) and v != v]
    if bad:
        raise RuntimeError(f"non-finite {bad} in {out / 'stats.jsonl'}")
    return last


def rate(stats: dict) -> str:
    return f"step {stats['step']}, {stats['img_per_s']:.1f} img/s"


def tiny_sis(out: Path, *options: str) -> dict:
    return train(out, "sis", "--mode", "paired", "--preset", "tiny", "--size", "32x64", "--steps", "10", *options)


def bench(out: Path, script: str, timeout: float, *args: str) -> str:
    """Run bench/SCRIPT with `args`; its output goes to OUT/SCRIPT.log; the figure is its CUDA lines."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    timeout = max(10.0, min(timeout, DEADLINE - time.time()))  # never far past the whole check's budget
    proc = subprocess.run([sys.executable, str(REPO / "bench" / script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)
    log = out / f"{Path(script).stem}.log"
    log.write_text(proc.stdout + proc.stderr)
    lines = [line.strip() for line in proc.stdout.splitlines()  # the CUDA rows; CPU rows report peak RSS
             if ("cuda" in line.lower() or "images/s" in line or "img/s" in line) and "RSS" not in line]
    failed = [line for line in lines if "failed" in line]
    if proc.returncode or failed:
        raise RuntimeError(f"exit {proc.returncode}; {(failed or proc.stderr.splitlines()[-1:] or ['?'])[0][:160]} "
                           f"(full output: {log})")
    return " | ".join(" ".join(line.split()) for line in lines)[:400] + f" (full output: {log})"


# -- the checks ---------------------------------------------------------------------------------------------------
def check_bf16(out: Path) -> str:
    return "tiny paired SIS, " + rate(tiny_sis(out / "bf16", "--precision", "bf16"))


def check_channels_last(out: Path) -> str:
    return "tiny paired SIS bf16, " + rate(tiny_sis(out / "channels_last", "--precision", "bf16",
                                                    "--channels-last"))


def check_compile(out: Path) -> str:
    # 20 steps: the lazy R1 phase (every 16) runs uncompiled next to the compiled G and D phases
    layout = train(out / "compile-layout", "layout", "--preset", "tiny", "--size", "32x64", "--steps", "20",
                   "--precision", "bf16", "--channels-last", "--compile")
    sis = tiny_sis(out / "compile-sis", "--precision", "bf16", "--compile")
    return f"layout {rate(layout)}; sis {rate(sis)} (bf16, first steps include compiling)"


def check_ddp(out: Path) -> str:
    """The engine's DDP path (DDP wrappers, no_sync, SyncBatchNorm, all-gathered RNG states) in one NCCL process:
    torchrun with one process would not use DDP at all (WORLD_SIZE 1), and NCCL refuses two ranks on one GPU."""
    import socket

    import torch.distributed as dist

    from semsynth.train.config import build_run_config
    from semsynth.train.distributed import DistInfo
    from semsynth.train.engine import Trainer

    class OneProcessGroup(DistInfo):
        @property
        def enabled(self) -> bool:
            return True

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    try:
        torch.cuda.set_device(0)
        run = build_run_config("sis", preset="tiny", size=(32, 64), task_overrides={"mode": "paired"},
                               train_overrides={"total_steps": 6, "device": "cuda", "num_workers": 0,
                                                "sample_every": 0, "log_every": 2}, out=out / "ddp")
        trainer = Trainer(run, OneProcessGroup(device=torch.device("cuda", 0)))
        trainer.train(resume=False)
        sync_bn = sum(isinstance(m, torch.nn.SyncBatchNorm) for net in trainer.unwrapped.values() for m in net.modules())
        wrapped = sorted(trainer.ddp)
    finally:
        dist.destroy_process_group()
    if not wrapped:
        raise RuntimeError("no net was wrapped in DistributedDataParallel")
    return f"tiny paired SIS, 6 steps: DDP on {wrapped}, {sync_bn} SyncBatchNorm layers"


def check_expand_items(out: Path) -> str:
    from semsynth.data import CompactItems, expand_items, load_dataset
    from semsynth.train.engine import batch_to_device
    size = tuple(int(v) for v in SMALL_SIZE.split("x"))
    data = load_dataset("synthetic-streets", size=size, mode="paired", num_scenes=16)
    raw = next(iter(torch.utils.data.DataLoader(CompactItems(data), batch_size=16)))
    want = expand_items(raw)
    dev = torch.device("cuda")
    batch_to_device(raw, dev, channels_last=True)  # warm-up
    torch.cuda.synchronize()
    start = time.perf_counter()
    got = batch_to_device(raw, dev, channels_last=True)
    torch.cuda.synchronize()
    ms = (time.perf_counter() - start) * 1000
    if got["label"].dtype != torch.long or got["image"].dtype != torch.float32:
        raise RuntimeError(f"widened to {got['label'].dtype} / {got['image'].dtype}")
    if not got["image"].is_contiguous(memory_format=torch.channels_last):
        raise RuntimeError("photos are not channels_last after batch_to_device(channels_last=True)")
    if not (torch.equal(got["label"].cpu(), want["label"]) and torch.allclose(got["image"].cpu(), want["image"])):
        raise RuntimeError("widening on the device differs from expand_items on the CPU")
    return f"batch 16 x {SMALL_SIZE}: copy + widen {ms:.1f} ms, identical to the CPU widening"


def check_bench_sis(out: Path) -> str:
    # paper preset at 256x512; its compile column is left to the torch.compile check (compiling two 90M-parameter
    # SPADE/OASIS generators would take most of the budget)
    return bench(out, "train_sis.py", 180, "--steps", "3", "--cuda-batch", "4", "--cpu-batch", "2",
                 "--skip-compile")


def check_bench_stylegan2(out: Path) -> str:
    return bench(out, "train_stylegan2.py", 150, "--preset", "small", "--size", SMALL_SIZE, "--batch", "16",
                 "--steps", "8", "--cpu-steps", "2")


def check_bench_fid(out: Path) -> str:
    return bench(out, "fid.py", 90, "--n", "64", "--batch", "32", "--size", SMALL_SIZE, "--device", "cuda")


def versus_official_command(official_root: str | None) -> list[str]:
    """bench/versus_official.py on CUDA: 3 interleaved pairs per step, the bf16 and compiled variants; the peak-RSS
    row is CPU-only. Without --official-root its official column stays empty (semsynth's side still runs)."""
    args = ["--device", "cuda", "--pairs", "3", "--bf16", "--compile", "--steps", "train,infer,spade,fid"]
    return args + (["--official-root", official_root] if official_root else [])


def check_versus_official(out: Path, official_root: str | None) -> str:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    timeout = max(10.0, min(300.0, DEADLINE - time.time()))
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "versus_official.py"),
                           *versus_official_command(official_root), "--json", str(out / "versus_official.json")],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    log = out / "versus_official.log"
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        raise RuntimeError(f"exit {proc.returncode}; {(proc.stderr.splitlines()[-1:] or ['?'])[0][:160]} "
                           f"(full output: {log})")
    return versus_official_figure(proc.stdout, official_root) + f" (table: {log})"


def versus_official_figure(table_text: str, official_root: str | None) -> str:
    """The table rows of bench/versus_official.py in one line: `step: semsynth seconds xratio`."""
    rows = [line.strip("| ").split(" | ") for line in table_text.splitlines()
            if line.startswith("| ") and "---" not in line][1:]
    side = "" if official_root else "semsynth only (no --official-root); "
    return side + "; ".join(f"{r[0]}: {r[2]}" + (f" x{r[3]}" if r[3] != "–" else "") for r in rows)[:600]


def check_train(out: Path, minutes: float) -> str:
    vgg = []
    try:
        from semsynth.losses.perceptual import find_vgg19_weights
        find_vgg19_weights()
    except FileNotFoundError:
        vgg = ["--no-use-vgg"]  # the GPU machine may lack the weights; the VGG path is then not timed
    common = ["--preset", "small", "--size", SMALL_SIZE, "--steps", "1000000", "--time-limit-minutes", str(minutes),
              "--checkpoint-every", "1000000"]
    sis = train(out / "train-sis", "sis", "--mode", "paired", *common, *vgg)
    layout = train(out / "train-layout", "layout", *common)
    return (f"{minutes:g} min each, small, bf16: paired SIS{' (no VGG weights)' if vgg else ''} {rate(sis)}; "
            f"layout {rate(layout)}")


# -- running ------------------------------------------------------------------------------------------------------
def checks(args) -> list:
    return [("bf16 autocast", check_bf16), ("channels_last", check_channels_last), ("torch.compile", check_compile),
            ("DDP, 1 process, NCCL", check_ddp), ("expand_items on the device", check_expand_items),
            ("bench/versus_official.py CUDA", lambda out: check_versus_official(out, args.official_root)),
            (f"training {SMALL_SIZE}, synthetic-streets", lambda out: check_train(out, args.train_minutes)),
            ("bench/fid.py CUDA", check_bench_fid), ("bench/train_stylegan2.py CUDA", check_bench_stylegan2),
            ("bench/train_sis.py CUDA", check_bench_sis)]


def run_checks(args) -> list[tuple[str, str, float, str]]:
    rows = []
    if not torch.cuda.is_available():
        return [(name, "skipped: no CUDA", 0.0, "") for name, _ in checks(args)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    global DEADLINE
    deadline = DEADLINE = time.time() + args.budget_minutes * 60
    for name, fn in checks(args):
        if time.time() > deadline:
            rows.append((name, "skipped: time budget", 0.0, f"--budget-minutes {args.budget_minutes} spent"))
            continue
        start = time.time()
        log = out / f"{len(rows):02d}-{name.split()[0].replace('/', '_')}.log"
        try:  # the runs' own prints go to a log file: the table stays the only output
            with open(log, "w") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
                figure, status = fn(out), "ok"
        except Exception as err:  # one failing path must not hide the others
            first = str(err).splitlines()[0] if str(err) else ""
            figure, status = f"{type(err).__name__}: {first}"[:300] + f" (log: {log})", "FAIL"
        rows.append((name, status, time.time() - start, figure))
        torch.cuda.empty_cache()
    return rows


def table(rows, device: str) -> str:
    lines = [f"GPU check on {device}, torch {torch.__version__}", "",
             "| check | status | seconds | figure |", "|---|---|---|---|"]
    lines += [f"| {name} | {status} | {seconds:.0f} | {figure} |" for name, status, seconds, figure in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/semsynth-gpu-check", help="folder for run folders and bench outputs")
    ap.add_argument("--train-minutes", type=float, default=1.0, help="time limit of each of the two trainings")
    ap.add_argument("--budget-minutes", type=float, default=7.5, help="checks not started by then are skipped")
    ap.add_argument("--official-root", default=None, help="folder with the official clones for "
                    "bench/versus_official.py (stylegan2-ada-pytorch/, SPADE/); without it only semsynth's side runs")
    args = ap.parse_args(argv)
    rows = run_checks(args)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA device"
    print(table(rows, device), flush=True)
    return 1 if any(status == "FAIL" for _, status, _, _ in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
