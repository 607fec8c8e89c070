"""Learning test: the tiny layout GAN's argmax maps are not speckled (issue 16: boundary-pixel fraction 3.1x and
isolated pixels 42x those of real maps at the demo's budget).

Cause: the Gumbel relaxation of D's real input with real_smoothing 0.05 flips ~5 % of the real pixels D sees, so
G's salt-and-pepper hides in that noise and grows with training; the tiny preset now uses real_smoothing 0.

Measured (G_ema, generated / real, 200 maps, 240 steps; `python -m tests.helpers.learning_spread --only
layout-clean layout-clean-old`), isolated-pixel ratio | boundary ratio | JS:
  tiny (smoothing 0)    seed 0: 0.45 | 0.80 | 0.018 (before reals became exact one-hot);  seed 1: 0.61 | 0.83 | 0.032;
                        seed 2: 0.64 | 0.81 | 0.047  (threads 1)
  old (smoothing 0.05)  seed 0: 3.3 | 0.90 | 0.019;  seed 1: 1.72 | 0.74 | 0.042;  seed 2: 9.99 | 1.23 | 0.065
The isolated-pixel bound 1.5 clears the worst tiny run (0.64) by 2.3x and sits below the old setting at every seed
(1.72-9.99); the boundary bound 1.0 clears the worst tiny run (0.83) by 20 %. The two-thread runs did not finish on
the shared machine of the session that measured this: the margins are wide for that reason.
"""
import copy
import time

import pytest
import torch

from semsynth.evaluation.metrics.layout import class_shares, js_divergence, neighbour_fractions, neighbour_ratios
from semsynth.train.tasks import layout
from tests.helpers.loop import run_phases

BATCH = 8
STEPS = 240  # about the demo's 75 s; at 120 steps the old setting was not speckled yet (isolated ratio 0.68)
OLD = {"real_smoothing": 0.05}  # the tiny preset before the fix (the Config default it did not override)
MAX_ISOLATED_RATIO = 1.5   # tiny 0.45-0.64, old 1.72-9.99 (seeds 0-2)
MAX_BOUNDARY_RATIO = 1.0   # tiny 0.80-0.83; old 0.74-1.23: isolated pixels separate the settings


def measure(seed: int, setting: str = "tiny") -> dict[str, float]:
    """JS of class shares, boundary and isolated-pixel ratios (generated / real) of G_ema's argmax maps after STEPS
    steps of the `tiny` preset ("tiny") or of the preset as it was before the speckle fix ("old")."""
    from semsynth.data import load_dataset

    torch.manual_seed(seed)
    ds = load_dataset("synthetic-streets", size=(32, 64), mode="labels", seed=seed)
    C, ignore = ds.classes.num_classes, ds.classes.ignore_index
    real = torch.stack([ds[i]["label"] for i in range(min(len(ds), 256))])
    g = torch.Generator().manual_seed(seed)
    batches = [{"label": real[torch.randint(0, len(real), (BATCH,), generator=g)]} for _ in range(64)]
    overrides = OLD if setting == "old" else {}
    task = layout.build(layout.Config(**{**layout.PRESETS["tiny"]["task"], **overrides}), ds)
    task.nets["G_ema"] = copy.deepcopy(task.nets["G"]).eval().requires_grad_(False)
    run_phases(task, batches, STEPS)
    z = torch.randn(200, task.cfg.z_dim, generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        fake = task.to_ids(task.nets["G_ema"](z, noise_mode="const"))  # as Pipeline.generate samples
    ratios = neighbour_ratios(neighbour_fractions(real, ignore), neighbour_fractions(fake, ignore))
    return {"js": js_divergence(class_shares(real, C, ignore), class_shares(fake, C, ignore)), **ratios}


@pytest.mark.slow
def test_tiny_layout_gan_draws_clean_maps():
    pytest.importorskip("semsynth.data.synthetic")
    start = time.time()
    m = measure(0)
    print(f"\n{STEPS} steps in {time.time() - start:.1f} s | " + ", ".join(f"{k} {v:.3f}" for k, v in m.items()))
    assert m["isolated_ratio"] < MAX_ISOLATED_RATIO
    assert m["boundary_ratio"] < MAX_BOUNDARY_RATIO
