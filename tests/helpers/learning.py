"""Shared pieces of the learning tests (tests/train/*_learning.py): stacking items into a batch, the reference
scores every test compares against, and the fixed proxy segmenter some of them read photos with.

Each learning test module has a `measure(seed)` returning its figures, and a test that calls it with seed 0 and
asserts bounds. `python -m tests.helpers.learning_spread` runs every `measure` over seeds and torch thread counts;
the spread it printed is written in each test's docstring, and the bounds leave a margin over the worst run.
"""
from __future__ import annotations

import torch

from tests.helpers.loop import run_phases
from tests.helpers.miou import confusion, miou


def stack(ds, indices, keys=("image", "label")) -> dict:
    items = [ds[i] for i in indices]
    return {k: torch.stack([it[k] for it in items]) for k in keys}


def reference_mious(train_labels: torch.Tensor, val_labels: torch.Tensor, num_classes: int) -> tuple[float, float]:
    """mIoU of predicting the training set's majority class everywhere, and of uniform random classes."""
    majority = int(torch.bincount(train_labels[train_labels != 255], minlength=num_classes).argmax())
    major = miou(confusion(torch.full_like(val_labels, majority), val_labels, num_classes))
    noise = torch.randint(0, num_classes, val_labels.shape, generator=torch.Generator().manual_seed(0))
    return major, miou(confusion(noise, val_labels, num_classes))


def proxy_segmenter(train_ds, seed: int, batch: int = 8, n_train: int = 64):
    """The tiny U-Net task of `semsynth train segmenter`, untrained, and its batches of real (photo, label) pairs."""
    from semsynth.train.tasks import segmenter

    torch.manual_seed(seed)
    task = segmenter.build(segmenter.Config(base_channels=8, max_channels=32, lr=2e-3), train_ds)
    return task, [stack(train_ds, range(s, s + batch)) for s in range(0, n_train, batch)]


def train_proxy_segmenter(train_ds, seed: int, steps: int = 300) -> torch.nn.Module:
    """The proxy segmenter after `steps` steps on real pairs (the segmenter learning test checks it learns)."""
    task, batches = proxy_segmenter(train_ds, seed)
    run_phases(task, batches, steps)
    return task.nets["S"]


def segment_miou(net, photos: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """mIoU of `net`'s argmax on `photos` against `labels` (net in eval mode for the call, restored after)."""
    was_training = net.training
    net.eval()
    with torch.no_grad():
        pred = net(photos).argmax(1)
    net.train(was_training)
    return miou(confusion(pred, labels, num_classes))
