"""Deterministic, resumable data order: DistributedSampler's permutation of (seed, epoch), sharded per rank, started
part-way through an epoch so a resumed run sees exactly the batches an unbroken run would have seen.

Rank r takes items r, r + R, r + 2R, ... of the permutation, so with a fixed global batch B (B / R per rank) global
batch k is always items kB .. kB + B - 1 of it, whatever the number of ranks R: a run resumed on another number of
processes keeps its data order (tests/train/test_checkpoint.py)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch.utils.data import DistributedSampler


class ResumableSampler(DistributedSampler):
    """DistributedSampler (shuffle, drop_last) that skips the first `start` indices of its epoch."""

    def __init__(self, dataset, num_replicas: int = 1, rank: int = 0, seed: int = 0):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=True)
        self.start = 0

    def set_start(self, start: int) -> None:
        self.start = int(start)

    def __iter__(self):
        return itertools.islice(super().__iter__(), self.start, None)

    def __len__(self) -> int:
        return max(0, self.num_samples - self.start)


@dataclass
class DataPosition:
    epoch: int = 0      # current epoch
    consumed: int = 0   # batches of this epoch already handed to the loop


def endless_batches(loader: torch.utils.data.DataLoader, position: DataPosition, seed: int):
    """Yield batches forever from `position`, advancing it; the loader's sampler must be a ResumableSampler."""
    sampler, dataset = loader.sampler, loader.dataset
    while True:
        sampler.set_epoch(position.epoch)
        sampler.set_start(position.consumed * loader.batch_size)
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(position.epoch)
        # worker seeds come from the loader's own generator, never from the global RNG the training step uses
        loader.generator.manual_seed(seed * 1_000_003 + position.epoch)
        for batch in loader:
            position.consumed += 1
            yield batch
        position.epoch += 1
        position.consumed = 0
