"""Learning test: a tiny paired SPADE (hinge GAN + D feature matching, no VGG) learns label -> photo on
synthetic-streets. Measured on held-out scenes with L1 to the true photos, against the step-0 generator and two
baselines computed from the training photos: one global mean colour, and the mean colour of each class.
(At step 0 the generator's batch norm has no running statistics yet, so its eval-mode output is far off.)

Why the trained L1 is not asserted clearly below the per-class mean colour: on synthetic-streets no layout-only
predictor gets there. Each scene's light (brightness 0.75-1.15, RGB tint, sky colours, fog, per-class colour
jitter; semsynth/data/street_scene.py `_light`) is drawn independently of its layout, and it dominates the error
left after the per-class mean. Measured at 32x64 on these 32 held-out scenes:
  per-class mean colour (64 training scenes)                                   0.207
  per-class, per-row median colour (256 training scenes)                       0.205
  this generator (ngf 8) on pixel L1 alone, 1024 scenes, 1400 steps, batch 8 0.200-0.212 (checkpoints, BN or IN)
  per-class mean x an oracle per-scene brightness gain (not in the label map)  0.178
  per-class mean of each test scene itself (oracle)                            0.138
so 0.9 x per-class (0.186) is out of reach without the per-scene light. Tried for the GAN here, none better than this
setting (0.22-0.26 at every checkpoint): 2x width, batch 8, 256 training scenes, lr 2e-4/8e-4, instance norm, an
added pixel L1 term (weight 10); without spectral norm it diverges (0.39)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import torch

from semsynth.train.tasks import sis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.loop import run_phases  # noqa: E402
from helpers.paired_standin import collate  # noqa: E402

STEPS, BATCH, N_TRAIN, N_TEST = 120, 4, 64, 32


def heldout_l1(task, batch) -> float:
    G = task.nets["G"].eval()
    with torch.no_grad():
        out = G(task.segmap(batch))
    G.train()
    return (out - batch["image"]).abs().mean().item()


@pytest.mark.slow
def test_tiny_spade_learns_label_to_photo():
    pytest.importorskip("semsynth.data.synthetic")
    from semsynth.data import load_dataset

    torch.manual_seed(0)
    data = load_dataset("synthetic-streets", size=(32, 64), mode="paired", seed=0)
    train = [data[i] for i in range(N_TRAIN)]
    test = collate([data[len(data) - 1 - i] for i in range(N_TEST)])  # scenes never trained on
    cfg = sis.Config(ngf=4, spade_hidden=16, ndf=16, n_layers_d=3, use_vgg=False, lr_g=5e-4, lr_d=2e-3)
    sis.validate(cfg, data)
    task = sis.build(cfg, data)

    # baselines from the training photos: one mean colour; the mean colour of each class
    labels = torch.stack([t["label"] for t in train])
    photos = torch.stack([t["image"] for t in train]).permute(1, 0, 2, 3)  # [3, N, H, W]
    C = data.classes.num_classes
    global_mean = photos.flatten(1).mean(1)
    class_means = torch.stack([photos[:, labels == c].mean(1) if (labels == c).any() else global_mean
                               for c in range(C)])                       # [C, 3]
    test_ids = test["label"].clamp(max=C - 1)  # ignore pixels (if any) get the last class; both sides see them
    l1_global = (global_mean[:, None, None] - test["image"]).abs().mean().item()
    l1_class = (class_means[test_ids].permute(0, 3, 1, 2) - test["image"]).abs().mean().item()

    l1_start = heldout_l1(task, test)
    batches = [collate(train[i:i + BATCH]) for i in range(0, N_TRAIN, BATCH)]
    t0 = time.perf_counter()
    history = run_phases(task, batches, STEPS)
    l1_end = heldout_l1(task, test)
    print(f"\nheld-out L1: step 0 {l1_start:.4f} -> step {STEPS} {l1_end:.4f} ({time.perf_counter() - t0:.0f} s); "
          f"baselines: global mean colour {l1_global:.4f}, per-class mean colour {l1_class:.4f} "
          f"(ratio {l1_end / l1_class:.3f}); "
          f"last losses {history[-1]}")
    assert l1_end < 0.5 * l1_start
    # below one mean colour: the photo follows the layout (measured: 0.227 vs 0.285)
    assert l1_end < 0.9 * l1_global
    # near the per-class mean colour, about the L1-best a layout-only predictor can reach here (see the module
    # docstring; measured 0.227 vs 0.207, ratio 1.10)
    assert l1_end < 1.15 * l1_class
