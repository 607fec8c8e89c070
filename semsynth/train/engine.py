"""The training loop: one function every task runs through (see semsynth/train/task.py for the contract).

run_training(run) builds the data set and the task, then walks the task's phases step by step: requires_grad
switching, bf16 autocast on CUDA, DDP with no_sync for the nets a phase does not train, a non-finite-gradient guard,
EMA of the generator, and rank-0 I/O (checkpoints, exported model, sample grids, stats.jsonl, TensorBoard, and with
--eval-every the task's metrics and RUN/model-best: semsynth/train/evaluation_hook.py).
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from semsynth.data import load_dataset
from semsynth.data.base import CompactItems, SegmentationDataset, expand_items
from semsynth.data.workers import init_worker
from semsynth.inference.visualize import save_grid
from semsynth.io_atomic import atomic_write, atomic_write_text
from semsynth.models.io import unwrap
from semsynth.models.meta import building_on_meta
from semsynth.train import checkpoint as ckpt
from semsynth.train import evaluation_hook
from semsynth.train import run_dir as run_folder
from semsynth.train.config import RunConfig, config_differences, task_config_obj
from semsynth.train.distributed import (DistInfo, all_gather_object, barrier, broadcast_flag, init_distributed,
                                        shutdown)
from semsynth.train.ema import ema_beta, update_ema
from semsynth.train.init_from import init_nets
from semsynth.train.sampler import DataPosition, ResumableSampler, endless_batches
from semsynth.train.tasks import task_module


# -- building -----------------------------------------------------------------------------------------------------
def reader_options(run: RunConfig, module, cfg) -> dict:
    """The data options of `run` plus those the task's config sets (e.g. instance edges); a clash is an error."""
    options = module.data_options(cfg)
    clash = sorted(set(options) & set(run.data.options))
    if clash:
        raise ValueError(f"data option(s) {clash} are set by the {run.task} task's config; set them there")
    return {**run.data.options, **options}


def build_dataset(run: RunConfig, module, cfg):
    d = run.data
    return load_dataset(d.name, root=d.root, split=d.split, size=d.size, mode=module.data_mode(cfg),
                        seed=run.train.seed, augment=d.augment, skip_corrupt=d.skip_corrupt,
                        **reader_options(run, module, cfg))


def check_files(module, cfg) -> None:
    """The task's local files (e.g. VGG-19 weights) exist; FileNotFoundError naming the one missing otherwise."""
    module.check_files(cfg)


def build_task(run: RunConfig, dataset=None, files: bool = True, on_meta: bool = False):
    """(task module, task Config, dataset, Task) with the nets on the CPU (on the meta device with on_meta, for a
    dry run); raises before any work on a bad config. The task's files are checked first (files=True), so a missing
    weight file stops the run before the data set is read."""
    module = task_module(run.task)
    cfg = task_config_obj(run.task, run.task_config)
    if files:
        check_files(module, cfg)
    dataset = build_dataset(run, module, cfg) if dataset is None else dataset
    module.validate(cfg, dataset)
    torch.manual_seed(run.train.seed)  # same initial weights on every rank and every rerun
    with building_on_meta() if on_meta else contextlib.nullcontext():
        task = module.build(cfg, dataset)
    check_task(task)
    return module, cfg, dataset, task


def check_task(task) -> None:
    owned = task.optimizer_nets()
    for opt_name, keys in owned.items():
        missing = [k for k in keys if k not in task.nets]
        if missing:
            raise ValueError(f"task {task.name!r}: optimizer {opt_name!r} names nets {missing} not in task.nets "
                             f"{sorted(task.nets)}")
    for phase in task.phases():
        if phase.optimizer not in owned:
            raise ValueError(f"task {task.name!r}: phase {phase.name!r} uses optimizer {phase.optimizer!r}; "
                             f"optimizer_nets() has {sorted(owned)}")
        if phase.interval < 1:
            raise ValueError(f"task {task.name!r}: phase {phase.name!r} has interval {phase.interval}, expected >= 1")
    if task.ema_source is not None and task.ema_source not in task.nets:
        raise ValueError(f"task {task.name!r}: ema_source {task.ema_source!r} is not in task.nets {sorted(task.nets)}")


def parameter_table(nets: dict[str, torch.nn.Module]) -> str:
    rows = [(name, sum(p.numel() for p in unwrap(net).parameters()),
             sum(p.numel() for p in unwrap(net).parameters() if p.requires_grad)) for name, net in nets.items()]
    width = max([len("network")] + [len(r[0]) for r in rows])
    lines = [f"{'network':<{width}}  {'parameters':>12}  {'trainable':>12}"]
    lines += [f"{name:<{width}}  {total:>12,}  {trainable:>12,}" for name, total, trainable in rows]
    lines.append(f"{'total':<{width}}  {sum(r[1] for r in rows):>12,}  {sum(r[2] for r in rows):>12,}")
    return "\n".join(lines)


# -- helpers ------------------------------------------------------------------------------------------------------
def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def rng_state(device: torch.device) -> dict:
    _, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos), "has_gauss": int(has_gauss),
                       "cached": float(cached)}}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    version, keys, gauss = state["python"]
    random.setstate((version, tuple(keys), gauss))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def to_device(obj, device: torch.device, channels_last: bool = False):
    if isinstance(obj, torch.Tensor):
        obj = obj.to(device, non_blocking=True)
        if channels_last and obj.dim() == 4 and obj.is_floating_point():
            obj = obj.contiguous(memory_format=torch.channels_last)
        return obj
    if isinstance(obj, dict):
        return {k: to_device(v, device, channels_last) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device, channels_last) for v in obj)
    return obj


def batch_to_device(batch: dict, device: torch.device, channels_last: bool = False) -> dict:
    """A loader batch on `device` with the usual types: compact uint8 items are widened after the copy, which
    moves a quarter of the bytes."""
    return to_device(expand_items(to_device(batch, device)), device, channels_last)


def grads_finite(params: list[torch.nn.Parameter]) -> bool:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return True
    return bool(torch.stack([torch.isfinite(g).all() for g in grads]).all())  # one device sync per phase


def check_world_size(batch: int, world_size: int) -> None:
    if batch % world_size:
        raise ValueError(f"batch {batch} is not divisible by the world size {world_size} (WORLD_SIZE); choose a "
                         f"multiple of {world_size}")


def has_batchnorm(net: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules())


def cpu_threads(num_workers: int, local_processes: int) -> int:
    """Torch threads per training process on CPU: the cores left after the DataLoader workers, shared by the
    processes on this machine. OpenMP threads that outnumber free cores spin-wait, and small convs then run
    10x slower or worse (measured here: 12 s vs 0.7 s per tiny SPADE step on 2 cores)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, local_processes) - num_workers)


def stats_step(line: str) -> float:
    """The step of a stats.jsonl line; infinity for a torn or foreign line (so a resume drops it)."""
    try:
        return float(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return float("inf")


def use_bf16(precision: str, device: torch.device) -> bool:
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


# -- the loop -----------------------------------------------------------------------------------------------------
class Trainer:
    """State of one run on one rank. `run_training` is the entry point; the class only keeps the loop readable."""

    def __init__(self, run: RunConfig, info: DistInfo, dataset=None, built=None):
        tc = run.train
        self.run, self.tc, self.info = run, tc, info
        self.run_dir = Path(run.out)
        check_world_size(tc.batch, info.world_size)
        self.batch_per_rank = tc.batch // info.world_size
        self.module, self.cfg, self.dataset, self.task = built or build_task(run, dataset)
        if len(self.dataset) // info.world_size < self.batch_per_rank:
            raise ValueError(f"data set {run.data.name!r} has {len(self.dataset)} items, fewer than one batch of "
                             f"{self.batch_per_rank} per rank x {info.world_size} ranks")
        task, dev = self.task, info.device
        if dev.type == "cpu":  # only ever lower the thread count: a caller's smaller setting stands
            torch.set_num_threads(min(torch.get_num_threads(), cpu_threads(tc.num_workers, info.world_size)))
        self.owned = task.optimizer_nets()
        self.trained = sorted({k for keys in self.owned.values() for k in keys})
        for name, net in task.nets.items():
            net.to(dev)
            if tc.channels_last:
                net.to(memory_format=torch.channels_last)
        if task.ema_source is not None:
            task.nets["G_ema"] = copy.deepcopy(unwrap(task.nets[task.ema_source])).eval().requires_grad_(False)
        if info.enabled and dev.type == "cuda":  # SyncBatchNorm is CUDA-only; on CPU each rank keeps its own stats
            for name in self.trained:
                if has_batchnorm(task.nets[name]):
                    task.nets[name] = torch.nn.SyncBatchNorm.convert_sync_batchnorm(task.nets[name])
        self.unwrapped = {name: net for name, net in task.nets.items()}  # unwrapped nets: what checkpoints hold
        self.optimizers = task.optimizers()
        if set(self.optimizers) != set(self.owned):
            raise ValueError(f"task {task.name!r}: optimizers() gives {sorted(self.optimizers)} but optimizer_nets() "
                             f"gives {sorted(self.owned)}")
        self.ddp: dict[str, DistributedDataParallel] = {}
        self.plain: dict[str, torch.nn.Module] = {}     # trained nets, DDP-wrapped under torchrun
        self.compiled: dict[str, torch.nn.Module] = {}  # the same through torch.compile (when tc.compile)
        for name in self.trained:
            net = task.nets[name].requires_grad_(True)
            if info.enabled:
                net = self.ddp[name] = DistributedDataParallel(
                    net, device_ids=[dev.index] if dev.type == "cuda" else None)
            self.plain[name] = net
            self.compiled[name] = torch.compile(net) if tc.compile else net
        task.nets.update(self.compiled)
        self.sampler = ResumableSampler(self.dataset, info.world_size, info.rank, tc.seed)
        items = CompactItems(self.dataset) if isinstance(self.dataset, SegmentationDataset) else self.dataset
        self.loader = torch.utils.data.DataLoader(
            items, batch_size=self.batch_per_rank, sampler=self.sampler, num_workers=tc.num_workers,
            drop_last=True, pin_memory=dev.type == "cuda", generator=torch.Generator(), worker_init_fn=init_worker)
        self.step, self.nimg, self.bad_streak, self.skipped = 0, 0, 0, 0
        self.position = DataPosition()
        self.fixed = None
        self.writer = None
        self.last_checkpoint: Path | None = None
        self.autocast = use_bf16(tc.precision, dev)
        self.evaluator: evaluation_hook.Evaluator | None = None  # rank 0 of a run with --eval-every
        self.best = evaluation_hook.Best()  # of the metric that picks model-best; checkpointed
        self.eval_clock, self.eval_warned = time.time(), False  # end of the last evaluation; cost warning given

    # -- run directory --------------------------------------------------------------------------------------------
    def prepare_run_dir(self, resume: bool, overwrite: bool = False) -> None:
        """Check the run folder against the mode (resume: same config; overwrite: anything; else: new or empty),
        then write config.json. The folder is the run's home: a resumed copy or moved folder records its own
        path as `out`, whatever the saved config.json said."""
        config_path = self.run_dir / "config.json"
        if resume and overwrite:
            raise ValueError(f"--resume continues the run in {self.run_dir} and --overwrite deletes it: choose one")
        if resume:
            if not config_path.is_file():
                raise FileNotFoundError(f"cannot resume: {config_path} does not exist")
            saved = RunConfig.from_json(config_path)
            diffs = config_differences(saved, self.run)
            if diffs:
                raise ValueError(f"cannot resume {self.run_dir} with a different config (only the run length, time "
                                 f"limit and worker count may change): " + "; ".join(diffs))
            if self.info.is_main and Path(saved.out).resolve() != self.run_dir.resolve():
                print(f"{config_path} names the run folder {saved.out}; this run's folder is {self.run_dir} "
                      f"(copied or moved): writing there and recording it in config.json", file=sys.stderr)
        elif not overwrite:
            run_folder.check_fresh(self.run_dir)
        barrier(self.info)
        if self.info.is_main:
            if resume:
                for path in ckpt.remove_stale(self.run_dir):
                    print(f"removed incomplete checkpoint {path}", file=sys.stderr)
            if overwrite:
                for path in run_folder.remove_outputs(self.run_dir):
                    print(f"--overwrite: removed {path}", file=sys.stderr)
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(config_path, self.run.to_json())
        barrier(self.info)

    def open_logs(self) -> None:
        """TensorBoard writer and stats.jsonl, both cut back to the current step (a resumed run rewrites the
        steps after its checkpoint; a line torn by a kill mid-append is dropped)."""
        if not self.info.is_main:
            return
        stats = self.run_dir / "stats.jsonl"
        if stats.is_file():
            kept = [line for line in stats.read_text().splitlines() if stats_step(line) <= self.step]
            atomic_write_text(stats, "".join(line + "\n" for line in kept))
        # imported here for start-up time: tensorboard (and protobuf) only when a run opens its logs, not for
        # `semsynth --help` or a dry run
        from torch.utils.tensorboard import SummaryWriter
        self.writer = SummaryWriter(str(self.run_dir / "tb"), purge_step=self.step + 1 if self.step else None)

    def state(self) -> dict:
        return {"step": self.step, "nimg": self.nimg, "epoch": self.position.epoch,
                "consumed": self.position.consumed, "bad_streak": self.bad_streak, "skipped": self.skipped,
                "world_size": self.info.world_size,
                "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
                "task": self.task.state_dict(), "eval_best": self.best.state_dict(),
                "rng": all_gather_object(self.info, rng_state(self.info.device))}

    def save(self) -> None:
        state = self.state()  # every rank takes part in gathering the RNG states
        barrier(self.info)
        if self.info.is_main:
            self.last_checkpoint = ckpt.save_checkpoint(self.run_dir, self.step, self.unwrapped, state,
                                                        self.tc.keep_checkpoints)
            self.export()
        barrier(self.info)

    def init_from(self, path) -> None:
        """Fresh run, --init-from: the nets start from a model folder's weights; G_ema starts as the new G."""
        loaded = init_nets(self.unwrapped, self.task.ema_source, path)
        if "G_ema" in self.unwrapped and self.task.ema_source in loaded:
            self.unwrapped["G_ema"].load_state_dict(unwrap(self.unwrapped[self.task.ema_source]).state_dict())
        if self.info.is_main:
            fresh = sorted(set(self.trained) - set(loaded))
            print(f"--init-from {path}: " + ", ".join(f"{k} <- {v}" for k, v in sorted(loaded.items()))
                  + (f"; fresh: {', '.join(fresh)}" if fresh else ""))

    def restore(self) -> bool:
        """Load the newest usable checkpoint; False when there is none. Corrupt ones (checkpoint.read_checkpoint)
        are reported, skipped and renamed to <step>.corrupt, so nothing resumes from damaged or NaN weights and
        nothing is deleted."""
        folders = ckpt.list_checkpoints(self.run_dir)
        if not folders:
            return False
        folder, state, rejected = None, None, []
        for candidate in reversed(folders):
            try:
                state = ckpt.load_checkpoint(candidate, self.unwrapped)
            except ckpt.CorruptCheckpoint as err:
                rejected.append(f"{candidate.name}: {err}")
                if self.info.is_main:
                    print(f"warning: checkpoint {candidate} is unusable: {err}", file=sys.stderr)
                continue
            folder = candidate
            break
        if folder is None:
            raise RuntimeError(f"cannot resume {self.run_dir}: none of its checkpoints is usable ("
                               + "; ".join(rejected) + "); pass --overwrite to start the run again")
        barrier(self.info)  # every rank has read its checkpoint before rank 0 renames the bad ones
        if self.info.is_main and rejected:
            aside = [ckpt.set_aside(bad) for bad in folders if int(bad.name) > int(folder.name)]
            print(f"falling back to checkpoint {folder}, the newest usable one; the corrupt ones are kept as "
                  + ", ".join(str(p) for p in aside), file=sys.stderr)
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        self.task.load_state_dict(state.get("task", {}))
        self.best = evaluation_hook.Best.from_state(state.get("eval_best"))
        self.step, self.nimg = int(state["step"]), int(state["nimg"])
        self.bad_streak, self.skipped = int(state["bad_streak"]), int(state["skipped"])
        # global batch k of an epoch holds the same items for any number of ranks (sampler.py), so the data
        # order continues; the per-rank RNG streams cannot be split or merged and start afresh
        self.position = DataPosition(int(state["epoch"]), int(state["consumed"]))
        if int(state["world_size"]) == self.info.world_size:
            set_rng_state(state["rng"][self.info.rank], self.info.device)
        else:
            print(f"checkpoint {folder} was written by {state['world_size']} ranks, this run has "
                  f"{self.info.world_size}: the data order continues, random streams (noise, latents) restart",
                  file=sys.stderr)
            seed_everything(self.tc.seed + self.info.rank + 7919 * self.step)
        self.last_checkpoint = folder
        if self.info.is_main:
            print(f"resuming {self.run_dir} from step {self.step} ({folder.name})", file=sys.stderr)
        return True

    def export(self, name: str = "model", note: dict | None = None) -> None:
        """Write RUN/<name>/ (model/, model-best/) through a temp folder: readers see the old export or the new one,
        never a mix. `note`: written beside the weights as eval.json (model-best: which value made it best)."""
        final, tmp, old = self.run_dir / name, self.run_dir / f".{name}-tmp", self.run_dir / f".{name}-old"
        for leftover in (tmp, old):  # from a crash during an earlier export
            if leftover.exists():
                shutil.rmtree(leftover)
        self.task.export(tmp)
        if note is not None:
            (tmp / "eval.json").write_text(json.dumps(note, indent=2) + "\n")
        if final.exists():
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old)
        else:
            os.rename(tmp, final)

    def save_samples(self) -> None:
        if not self.info.is_main:
            return
        devices = [self.info.device] if self.info.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # sampling must not move the training RNG
            images = self.task.sample(to_device(self.fixed, self.info.device))
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"task {self.task.name!r}: sample() must return uint8 [N, 3, H, W], got "
                             f"{images.dtype} {tuple(images.shape)}")
        atomic_write(self.run_dir / "samples" / f"{self.step:08d}.png",
                     lambda tmp: save_grid(images, tmp, nrow=min(8, len(images))))

    # -- one step -------------------------------------------------------------------------------------------------
    def run_phase(self, phase, batch) -> tuple[bool, dict[str, float]]:
        trained = self.owned[phase.optimizer]
        for name, net in self.unwrapped.items():
            if name != "G_ema":
                net.requires_grad_(name in trained)
        opt = self.optimizers[phase.optimizer]
        opt.zero_grad(set_to_none=True)
        dev = self.info.device
        # torch.compile cannot double-backward (R1, path length): lazy-regularisation phases run uncompiled
        self.task.nets.update(self.compiled if phase.interval == 1 else self.plain)
        with contextlib.ExitStack() as stack:
            for name, ddp in self.ddp.items():
                if name not in trained:
                    stack.enter_context(ddp.no_sync())  # e.g. the G phase never all-reduces D
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=self.autocast):
                loss, scalars = self.task.loss(phase.name, batch)
            try:
                loss.backward()
            except RuntimeError as err:
                if self.tc.compile and "double backward" in str(err):
                    raise RuntimeError(f"phase {phase.name!r} needs double backward, which torch.compile does not "
                                       f"support: give it an interval > 1 (lazy regularisation) or train without "
                                       f"--compile ({err})") from err
                raise
        params = [p for name in trained for p in self.unwrapped[name].parameters()]
        ok = grads_finite(params)  # gradients are all-reduced, so every rank decides the same
        if ok:
            opt.step()
        return ok, {f"{phase.name}/{k}" if "/" not in k else k: float(v) for k, v in scalars.items()}

    def train_step(self, batch) -> dict[str, float]:
        scalars, bad_phases = {}, []
        for phase in self.task.phases():
            if self.step % phase.interval:
                continue
            ok, s = self.run_phase(phase, batch)
            scalars.update(s)
            if not ok:
                bad_phases.append(phase.name)
        if bad_phases:
            self.skipped += 1
            self.bad_streak += 1
            if self.bad_streak >= self.tc.max_bad_steps:
                where = f"; the last good checkpoint is {self.last_checkpoint}" if self.last_checkpoint else ""
                raise RuntimeError(f"stopping: {self.bad_streak} consecutive steps with non-finite gradients "
                                   f"(phases {bad_phases} at step {self.step}; max_bad_steps="
                                   f"{self.tc.max_bad_steps}){where}")
        else:
            self.bad_streak = 0
        if self.task.ema_source is not None:
            beta = ema_beta(self.tc.batch, self.nimg, self.tc.ema_halflife_kimg, self.tc.ema_rampup)
            update_ema(self.unwrapped["G_ema"], self.unwrapped[self.task.ema_source], beta)
        self.step += 1
        self.nimg += self.tc.batch
        return scalars

    # -- logging --------------------------------------------------------------------------------------------------
    def log(self, sums: dict[str, float], counts: dict[str, int], seconds: float, images: int,
            waited: float = 0.0) -> None:
        """One stats.jsonl line and TensorBoard scalars; `waited`: seconds the loop waited for the data loader
        (logged as data_wait_share, the part of the interval the model had no batch)."""
        if not self.info.is_main:
            return
        record = {"step": self.step, "kimg": self.nimg / 1000, "seconds": round(seconds, 3),
                  "img_per_s": round(images / max(seconds, 1e-9), 2),
                  "data_wait_share": round(min(1.0, waited / max(seconds, 1e-9)), 4), "skipped_steps": self.skipped,
                  "bad_streak": self.bad_streak, **{k: sums[k] / counts[k] for k in sums}}
        self.write_stats(record)

    def write_stats(self, record: dict) -> None:
        """Append one stats.jsonl line and its numbers (all but the step) to TensorBoard at the current step."""
        with open(self.run_dir / "stats.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        for k, v in record.items():
            if k != "step":
                self.writer.add_scalar(k, v, self.step)
        self.writer.flush()

    # -- metrics during training ----------------------------------------------------------------------------------
    def start_evaluation(self) -> None:
        """Rank 0 of a run with --eval-every: load the metric networks and read the real reference once."""
        if not (self.tc.eval_every and self.info.is_main):
            return
        self.evaluator = evaluation_hook.Evaluator(self.run, self.info.device, self.batch_per_rank)
        if self.best.metric not in (None, self.evaluator.metric):
            print(f"warning: model-best was chosen by {self.best.metric}, this run measures "
                  f"{self.evaluator.metric}: model-best follows {self.evaluator.metric} from now on", file=sys.stderr)
            self.best = evaluation_hook.Best()

    def evaluate(self) -> float:
        """The task's metrics on rank 0 while the other ranks wait: a stats.jsonl line of eval/<metric> (also in
        TensorBoard) with its cost (eval/seconds; eval/time_share of the time since the last evaluation, one
        warning above 10 %), and model-best/ re-exported when the chosen metric improved on the best so far.
        Returns the seconds spent."""
        start = time.time()
        if self.info.is_main:
            devices = [self.info.device] if self.info.device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):  # evaluating must not move the training RNG
                metrics = self.evaluator(self.task)
            seconds = time.time() - start
            share = seconds / max(time.time() - self.eval_clock, 1e-9)
            self.write_stats({"step": self.step, "kimg": self.nimg / 1000, **{f"eval/{k}": v for k, v in
                              metrics.items()}, "eval/seconds": round(seconds, 3), "eval/time_share": round(share, 4)})
            if share > 0.1 and not self.eval_warned:
                self.eval_warned = True
                print(f"warning: evaluating took {seconds:.1f} s, {100 * share:.0f} % of the time since the last "
                      f"evaluation: raise --eval-every or lower --eval-n to keep it under 10 %", file=sys.stderr)
            metric = self.evaluator.metric
            if metric in metrics and self.best.improves(metric, metrics[metric]):
                self.best = evaluation_hook.Best(metric, metrics[metric], self.step, self.nimg / 1000)
                self.export("model-best", note={**self.best.state_dict(), "metrics": metrics})
        barrier(self.info)
        self.eval_clock = time.time()
        return self.eval_clock - start

    # -- the loop -------------------------------------------------------------------------------------------------
    def train(self, resume: bool, overwrite: bool = False) -> Path:
        tc, info = self.tc, self.info
        self.prepare_run_dir(resume, overwrite)
        seed_everything(tc.seed + info.rank)
        if resume:
            self.restore()
        elif tc.init_from:
            self.init_from(tc.init_from)
        self.open_logs()
        self.start_evaluation()
        self.eval_clock = time.time()
        if info.is_main:
            print(f"semsynth train {self.run.task}: {len(self.dataset)} items of {self.run.data.name}, batch "
                  f"{tc.batch} ({info.world_size} x {self.batch_per_rank}) on {info.device}, "
                  f"{'bf16 autocast' if self.autocast else 'fp32'}; run dir {self.run_dir}\n"
                  f"{parameter_table(self.unwrapped)}")
            self.fixed = self.task.fixed_inputs(self.dataset, tc.sample_count, torch.Generator().manual_seed(tc.seed))
        total = tc.steps()  # None: until the time limit ends
        until = float("inf") if total is None else total
        start_step, start_time = self.step, time.time()
        batches = endless_batches(self.loader, self.position, tc.seed)
        bar = tqdm(total=total, initial=self.step, unit="step", disable=None if info.is_main else True,
                   dynamic_ncols=True)
        sums, counts, tick_time, tick_nimg, waited = {}, {}, time.time(), self.nimg, 0.0
        stopped_early = False
        try:
            while self.step < until:
                if tc.time_limit_minutes is not None:
                    late = time.time() - start_time >= tc.time_limit_minutes * 60
                    if broadcast_flag(info, late):
                        stopped_early = True
                        break
                wait_start = time.time()
                cpu_batch = next(batches)
                waited += time.time() - wait_start
                batch = batch_to_device(cpu_batch, info.device, tc.channels_last)
                for k, v in self.train_step(batch).items():
                    sums[k] = sums.get(k, 0.0) + v
                    counts[k] = counts.get(k, 0) + 1
                bar.update(1)
                if self.step % tc.log_every == 0 or self.step == until:
                    now = time.time()
                    self.log(sums, counts, now - tick_time, self.nimg - tick_nimg, waited)
                    bar.set_postfix({k: f"{sums[k] / counts[k]:.3g}" for k in list(sums)[:4]}
                                    | {"img/s": f"{(self.nimg - tick_nimg) / max(now - tick_time, 1e-9):.0f}"})
                    sums, counts, tick_time, tick_nimg, waited = {}, {}, now, self.nimg, 0.0
                if evaluation_hook.due(tc.eval_every, self.nimg - tc.batch, self.nimg) or (
                        tc.eval_every and self.step == until):
                    tick_time += self.evaluate()  # img/s and data_wait_share describe training alone
                if tc.sample_every and self.step % tc.sample_every == 0:
                    self.save_samples()
                if self.step % tc.checkpoint_every == 0 and self.step < until:
                    self.save()
            if not (tc.sample_every and self.step % tc.sample_every == 0 and self.step > start_step):
                self.save_samples()
            self.save()
        finally:
            bar.close()
            if self.writer is not None:
                self.writer.close()
        if info.is_main:
            seconds = time.time() - start_time
            rate = (self.step - start_step) * tc.batch / max(seconds, 1e-9)
            why = f" (time limit of {tc.time_limit_minutes} min reached)" if stopped_early else ""
            print(f"semsynth train {self.run.task}: step {self.step}/{total or 'until the time limit'}, "
                  f"{self.nimg / 1000:.2f} kimg in "
                  f"{seconds:.1f} s ({rate:.1f} img/s), {self.skipped} skipped steps{why}; run dir {self.run_dir}")
        return self.run_dir


def run_training(run: RunConfig, resume: bool = False, dataset=None, overwrite: bool = False) -> Path:
    """Train `run` (or continue it from its newest usable checkpoint with resume=True); returns the run directory.
    A fresh run needs a new or empty run directory, or overwrite=True (which deletes the earlier run's outputs).
    `dataset` replaces the configured data set (tests, notebooks)."""
    check_world_size(run.train.batch, int(os.environ.get("WORLD_SIZE", "1")))
    built = build_task(run, dataset)  # a bad config or a missing data set fails here, before joining any group
    evaluation_hook.check(run)  # so does an --eval-* setting that cannot run
    info = init_distributed(run.train.device)
    try:
        return Trainer(run, info, built=built).train(resume, overwrite)
    finally:
        shutdown(info)
