"""torch.distributed set-up for runs launched by `torchrun` (WORLD_SIZE > 1): one process per device, DDP, rank-0 I/O.
There is no home-made launcher: without torchrun the run is a single process."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0                 # global rank of this process
    world_size: int = 1           # number of processes
    local_rank: int = 0           # rank on this node (the CUDA device index)
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False  # True when this module created the process group (and must destroy it)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def pick_device(device: str, local_rank: int = 0) -> torch.device:
    if device == "auto":
        return torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return dev


def init_distributed(device: str = "auto") -> DistInfo:
    """Read torchrun's environment; with WORLD_SIZE > 1 join the process group (nccl on CUDA, gloo on CPU)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo(device=pick_device(device))
    if "RANK" not in os.environ:
        raise RuntimeError(f"WORLD_SIZE={world_size} but RANK is not set: launch multi-process runs with torchrun")
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local_rank)
    if dev.type == "cuda":
        dev = torch.device("cuda", local_rank)  # one process per GPU
        torch.cuda.set_device(dev)
    created = not dist.is_initialized()
    if created:
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank, device=dev, initialized_here=created)


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def all_gather_object(info: DistInfo, obj) -> list:
    if not info.enabled:
        return [obj]
    out = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast_flag(info: DistInfo, flag: bool) -> bool:
    """Rank 0's value of `flag` on every rank (so every rank takes the same branch)."""
    if not info.enabled:
        return flag
    t = torch.tensor([int(flag)], device=info.device)
    dist.broadcast(t, src=0)
    return bool(t.item())


def shutdown(info: DistInfo) -> None:
    if info.initialized_here and dist.is_initialized():
        dist.destroy_process_group()
