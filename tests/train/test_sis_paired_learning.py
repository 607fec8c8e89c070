"""Learning test: a tiny paired SPADE (hinge GAN + D feature matching, no VGG) learns label -> photo on
synthetic-streets. Judged on held-out scenes in two ways:
- layout fidelity: a fixed proxy segmenter, trained in the test on REAL training photos only, reads G's photos of
  held-out layouts; its mIoU against those layouts is compared with its mIoU on the real held-out photos (the
  ceiling for this segmenter), the step-0 generator, and the majority class;
- colour: L1 to the true photos, against the step-0 generator's.

Why not "better than the per-class mean colour" (the issue's suggestion, and the old L1 bound): that baseline is
the L1-optimal layout-only picture, a flat colour code. Measured at seed 0, one thread: L1 0.206 vs G's 0.225; the
proxy segmenter reads it at mIoU 0.205, above the real photos themselves (0.189) and G (0.177), because it is a
noise-free colour code; and Inception KID to held-out photos is 0.16 for it vs 0.44 for G (0.51 at step 0) after
120 steps. A GAN does not minimise L1, and 120 CPU steps do not buy Inception-level realism, so that bound measured
the wrong thing (and failed on another CPU at 0.247 vs 0.238). Layout fidelity relative to real photos is what
"learns label -> photo" means, and it does not depend on the per-scene light that no layout predicts. L1 below one
global mean colour (the old second bound) does not hold either: at seed 2 G's L1 is 0.284 against 0.269.

Spread of `measure` (python -m tests.helpers.learning_spread, 32x64, 120 steps), seeds 0-4 x torch threads 1
and 2 (10 runs):
  mIoU of the proxy segmenter on G's photos    0.149 - 0.182    on the real photos  0.174 - 0.200
  fidelity (G's / real photos' mIoU)            0.79 - 1.03      step 0's            0.20 - 0.29
  G's mIoU / step 0's                           2.78 - 5.25
  L1 to the true photos                        0.219 - 0.284    step 0  0.888 - 1.067 (ratio 0.21 - 0.27)
  L1 of one global mean colour                 0.269 - 0.285    of the per-class mean colour  0.196 - 0.207
"""
from __future__ import annotations

import pytest
import torch

from tests.helpers.learning import reference_mious, segment_miou, train_proxy_segmenter
from tests.helpers.loop import run_phases
from tests.helpers.paired_standin import collate

STEPS, BATCH, N_TRAIN, N_TEST = 120, 4, 64, 32
# bounds: the worst measured run clears each by >= 20 % of its gap to the baseline (see the docstring)
MIN_FIDELITY = 0.6  # mIoU on G's photos / on real photos; worst run 0.79, step 0 <= 0.29: clears by 38 % of the gap
MIN_GAIN = 2.3      # mIoU on G's photos / on step 0's; worst run 2.78, untrained 1: clears by 27 % of the gap
MAX_L1_VS_STEP0 = 0.5  # worst run 0.27, untrained 1: clears by 32 % of the gap


def generate(task, batch) -> torch.Tensor:
    G = task.nets["G"].eval()
    with torch.no_grad():
        out = G(task.segmap(batch))
    G.train()
    return out


def measure(seed: int) -> dict[str, float]:
    from semsynth.data import load_dataset
    from semsynth.train.tasks import sis

    torch.manual_seed(seed)
    data = load_dataset("synthetic-streets", size=(32, 64), mode="paired", seed=seed)
    train = [data[i] for i in range(N_TRAIN)]
    test = collate([data[len(data) - 1 - i] for i in range(N_TEST)])  # scenes never trained on
    cfg = sis.Config(ngf=4, spade_hidden=16, ndf=16, n_layers_d=3, use_vgg=False, lr_g=5e-4, lr_d=2e-3)
    sis.validate(cfg, data)
    task = sis.build(cfg, data)

    # the reference pictures: one mean colour; the mean colour of each class (both from the training photos)
    labels = torch.stack([t["label"] for t in train])
    photos = torch.stack([t["image"] for t in train]).permute(1, 0, 2, 3)  # [3, N, H, W]
    C = data.classes.num_classes
    global_mean = photos.flatten(1).mean(1)
    class_means = torch.stack([photos[:, labels == c].mean(1) if (labels == c).any() else global_mean
                               for c in range(C)])                       # [C, 3]
    per_class_picture = class_means[test["label"].clamp(max=C - 1)].permute(0, 3, 1, 2)

    step0 = generate(task, test)  # (eval-mode BN has no running statistics yet: far off)
    run_phases(task, [collate(train[i:i + BATCH]) for i in range(0, N_TRAIN, BATCH)], STEPS)
    photo = generate(task, test)

    S = train_proxy_segmenter(data, seed)
    read = lambda x: segment_miou(S, x, test["label"], C)  # noqa: E731
    l1 = lambda x: (x - test["image"]).abs().mean().item()  # noqa: E731
    major, _ = reference_mious(labels, test["label"], C)
    return {"miou": read(photo), "miou_real": read(test["image"]), "miou_step0": read(step0),
            "miou_per_class_colour": read(per_class_picture), "miou_majority": major,
            "fidelity": read(photo) / read(test["image"]),
            "l1": l1(photo), "l1_step0": l1(step0), "l1_global_colour": l1(global_mean[:, None, None].expand(3, 32, 64)),
            "l1_per_class_colour": l1(per_class_picture)}


@pytest.mark.slow
def test_tiny_spade_learns_label_to_photo():
    pytest.importorskip("semsynth.data.synthetic")
    m = measure(seed=0)
    print("paired SPADE on held-out layouts: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items()))
    assert m["fidelity"] > MIN_FIDELITY
    assert m["miou"] > MIN_GAIN * m["miou_step0"]
    assert m["l1"] < MAX_L1_VS_STEP0 * m["l1_step0"]
