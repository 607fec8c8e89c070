"""Learning tests: tiny layout GANs learn synthetic-streets class shares and layout: StyleGAN2 with class-logit
output (the default), the DCGAN baseline, and StyleGAN2 with colour-coded RGB output (ids by nearest palette
colour)."""
import copy
import time

import pytest
import torch

from semsynth.train.tasks import layout
from tests.helpers.loop import run_phases

BATCH = 8
STEPS = {"stylegan2": 120, "dcgan": 480}  # a DCGAN step costs a quarter of a StyleGAN2 one here; lr 2e-4 vs 2.5e-3


def class_shares(ids: torch.Tensor, num_classes: int) -> torch.Tensor:
    ids = ids[ids < num_classes]
    return torch.bincount(ids.flatten(), minlength=num_classes).double() / max(1, ids.numel())


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> float:
    m = (p + q) / 2
    kl = lambda a, b: float((a[a > 0] * (a[a > 0] / b[a > 0]).log()).sum())  # noqa: E731
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def sky_above_road(ids: torch.Tensor, sky: int, road: int) -> tuple[float, int]:
    """Share of maps containing both classes whose mean sky row is above (smaller than) the mean road row."""
    rows = torch.arange(ids.shape[1], dtype=torch.float64)[None, :, None].expand(ids.shape)
    hits = total = 0
    for r, m in zip(rows, ids):
        s, d = m == sky, m == road
        if s.any() and d.any():
            total += 1
            hits += int(r[s].mean() < r[d].mean())
    return hits / max(1, total), total


@pytest.mark.slow
@pytest.mark.parametrize("arch, output", [("stylegan2", "labels"), ("dcgan", "labels"), ("stylegan2", "rgb")])
def test_tiny_layout_gan_learns_street_layouts(arch, output):
    pytest.importorskip("semsynth.data.synthetic")
    from semsynth.data import load_dataset

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the budget is one core; extra threads only spin on a busy machine
    try:
        torch.manual_seed(0)
        ds = load_dataset("synthetic-streets", size=(32, 64), mode="labels", seed=0)
        C = ds.classes.num_classes
        sky, road = ds.classes.names.index("sky"), ds.classes.names.index("road")
        real = torch.stack([ds[i]["label"] for i in range(min(len(ds), 256))])
        real_shares = class_shares(real, C)
        real_order, _ = sky_above_road(real, sky, road)
        g = torch.Generator().manual_seed(0)
        batches = [{"label": real[torch.randint(0, len(real), (BATCH,), generator=g)]} for _ in range(64)]

        task = layout.build(layout.Config(**layout.PRESETS["tiny"]["task"], arch=arch, output=output), ds)
        task.nets["G_ema"] = copy.deepcopy(task.nets["G"]).eval().requires_grad_(False)
        z = torch.randn(128, task.cfg.z_dim, generator=torch.Generator().manual_seed(1))

        def measure():
            with torch.no_grad():
                ids = task.to_ids(task.nets["G_ema"](z, noise_mode="const"))
            return js_divergence(class_shares(ids, C), real_shares), sky_above_road(ids, sky, road)

        js0, (order0, n0) = measure()
        start = time.time()
        steps = STEPS[arch]
        run_phases(task, batches, steps)
        js1, (order1, n1) = measure()
        print(f"\n{arch}/{output}: {steps} steps in {time.time() - start:.1f} s | JS(class shares) step 0: "
              f"{js0:.4f} -> {js1:.4f} | sky above road: real {real_order:.2f}, step 0 {order0:.2f} ({n0} maps), "
              f"after {order1:.2f} ({n1} maps)")
        assert js1 < 0.5 * js0
        assert n1 >= 32 and order1 > 0.8
    finally:
        torch.set_num_threads(threads)
