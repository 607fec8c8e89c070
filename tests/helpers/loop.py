"""A bare loop over the Task contract (semsynth/train/task.py) for model-level learning tests that must not
depend on the engine's features. The engine itself is tested in tests/train/."""
from __future__ import annotations

import math

import torch


def run_phases(task, batches, steps: int) -> list[dict[str, float]]:
    """Run `steps` training steps of `task` on CPU, cycling through `batches` (a list of batch dicts)."""
    opts = task.optimizers()
    owned = task.optimizer_nets()
    history = []
    for step in range(steps):
        batch = batches[step % len(batches)]
        logs: dict[str, float] = {}
        for phase in task.phases():
            if step % phase.interval:
                continue
            for name, net in task.nets.items():
                net.requires_grad_(name in owned[phase.optimizer])
            opts[phase.optimizer].zero_grad(set_to_none=True)
            loss, scalars = task.loss(phase.name, batch)
            assert math.isfinite(loss.item()), f"non-finite loss in phase {phase.name} at step {step}"
            loss.backward()
            opts[phase.optimizer].step()
            logs.update(scalars)
        if "G_ema" in task.nets and task.ema_source:
            with torch.no_grad():
                for p_ema, p in zip(task.nets["G_ema"].parameters(), task.nets[task.ema_source].parameters()):
                    p_ema.lerp_(p, 0.1)
                for b_ema, b in zip(task.nets["G_ema"].buffers(), task.nets[task.ema_source].buffers()):
                    b_ema.copy_(b)  # BN statistics and spectral-norm vectors are copied, as the engine does
        history.append(logs)
    return history
