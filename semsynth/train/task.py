"""The contract between the training engine and the things it trains.

The engine knows nothing about architectures; a task knows nothing about the loop (no devices, precision,
checkpoints, DDP, EMA or logging in a task). One training step walks the task's phases in order:

    for phase in task.phases():                      # e.g. G, D, Dreg (Dreg every 16 steps)
        if step % phase.interval: continue
        params of task.optimizer_nets()[phase.optimizer] get requires_grad=True, every other net's False
        loss, scalars = task.loss(phase.name, batch)  # under bf16 autocast on CUDA
        loss.backward(); all-reduce (DDP); skip the update if any gradient is not finite
        optimizers[phase.optimizer].step()
    update G_ema from task.ema_source

Rules for task authors:
- Call networks through `self.nets[key](...)`: the engine may replace entries by DDP / torch.compile wrappers.
  Reach attributes through `semsynth.models.io.unwrap(self.nets[key])`.
- `self.nets["G_ema"]` is created and updated by the engine when `ema_source` is set; use it in `sample`.
- Draw randomness from torch's global RNG (seeded and checkpointed by the engine) or from explicit generators.
- A loss that only uses part of a network's parameters still has to touch all of them for DDP: add
  `0 * out.sum()` of the unused head and say so in a comment.
- Keep numerically delicate terms (R1, softmax-CE over many classes) in fp32: `with torch.autocast(dev, enabled=False)`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Phase:
    name: str            # label in logs, passed to Task.loss: "G", "D", "Dreg", "S", ...
    optimizer: str       # key of Task.optimizers(); the nets of that optimizer are the ones trained here
    interval: int = 1    # run when step % interval == 0 (lazy regularisation); the task scales its loss by it


class Task:
    """Base class of everything trainable (layout GAN, SPADE/USIS, image GAN, segmenter)."""

    name: str = ""                 # "layout" | "sis" | "image" | "segmenter"
    data_mode: str = "paired"      # the data set mode this task reads: paired | unpaired | labels | images
    ema_source: str | None = "G"   # key of the net averaged into nets["G_ema"]; None = no EMA

    def __init__(self):
        self.nets: dict[str, torch.nn.Module] = {}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Called once after the nets are on their device (and before DDP wrapping)."""
        raise NotImplementedError

    def optimizer_nets(self) -> dict[str, list[str]]:
        """optimizer name -> keys of the nets it updates."""
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def loss(self, phase: str, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """Scalar loss for `phase` on `batch` (tensors already on the device) and scalars to log."""
        raise NotImplementedError

    def fixed_inputs(self, dataset, n: int, generator: torch.Generator) -> dict:
        """Inputs of the sample grid, drawn once at the start of a run (latents, labels, ...) on the CPU."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, fixed: dict) -> torch.Tensor:
        """uint8 [N, 3, H, W] pictures for the sample grid from `fixed` (moved to the device by the engine)."""
        raise NotImplementedError

    def export(self, folder) -> None:
        """Write the model users load (usually nets["G_ema"]) with semsynth.models.save_pretrained."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Training state outside the nets and optimizers (running means...), as plain numbers: checkpoints keep
        it so that a resumed run continues exactly. Default: none."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict` returned."""


def check_first_item(dataset) -> dict:
    """The data set's first item, after checking what every scene-reading task needs: the set is not empty, the
    label map has the data set's size, a photo (when there is one) matches it, and the ids fit the class set."""
    if len(dataset) == 0:
        raise ValueError("the data set is empty")
    item = dataset[0]
    H, W = dataset.size
    label = item["label"]
    if tuple(label.shape) != (H, W):
        raise ValueError(f"scene {item.get('name')!r}: label map {tuple(label.shape)} differs from the data set "
                         f"size {(H, W)}")
    if "image" in item and tuple(item["image"].shape) != (3, H, W):
        raise ValueError(f"scene {item.get('name')!r}: photo {tuple(item['image'].shape)} does not match its label "
                         f"map {(H, W)} (expected [3, {H}, {W}])")
    dataset.classes.check_ids(label, where=f"scene {item.get('name')!r}")
    return item


# -- the task-module contract ------------------------------------------------------------------------------------
# Every module in semsynth.train.tasks.TASKS defines each name of TASK_MODULE_API (semsynth/train/tasks/__init__.py
# says what each does), so the engine calls them without probing. A task with nothing to say assigns a default:
# `check_files = no_files`, `data_options = no_data_options`.
TASK_MODULE_API = ("Config", "PRESETS", "data_mode", "data_options", "validate", "check_files", "build")


def no_files(cfg) -> None:
    """check_files of a task that needs no local file beyond its data set."""


def no_data_options(cfg) -> dict:
    """data_options of a task whose data-set reader needs no extra option."""
    return {}


def missing_api(module) -> list[str]:
    """The names of TASK_MODULE_API that `module` lacks (empty when it keeps the contract)."""
    return [name for name in TASK_MODULE_API if not hasattr(module, name)]
