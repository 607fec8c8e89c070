"""Non-finite gradients: the optimizer step is skipped and counted; too many in a row stop the run."""
import json

import pytest
import torch
from safetensors.torch import load_file

from semsynth.train import checkpoint as ckpt
from semsynth.train.config import build_run_config
from semsynth.train.engine import run_training


def nan_run(out, steps, nan_steps, **train):
    return build_run_config("toy", data="toy", size=(16, 32), out=out, task_overrides={"nan_steps": nan_steps},
                            train_overrides={"total_steps": steps, "checkpoint_every": 1, "keep_checkpoints": 20,
                                             "log_every": 1, "num_workers": 0, **train})


def test_nan_step_is_skipped_and_counted(toy, tmp_path):
    out = run_training(nan_run(tmp_path / "run", 5, (2,)))
    stats = [json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines()]
    print("skipped_steps per step:", [s["skipped_steps"] for s in stats])
    assert [s["skipped_steps"] for s in stats] == [0, 0, 1, 1, 1]
    assert [s["bad_streak"] for s in stats] == [0, 0, 1, 0, 0]
    weights = {int(p.name): {n: load_file(str(p / f"{n}.safetensors")) for n in ("G", "D")}
               for p in ckpt.list_checkpoints(out)}
    # checkpoint k holds the state after k steps; step index 2 (checkpoint 2 -> 3) skipped G's update only
    assert all(torch.equal(weights[3]["G"][k], weights[2]["G"][k]) for k in weights[2]["G"])
    assert not all(torch.equal(weights[3]["D"][k], weights[2]["D"][k]) for k in weights[2]["D"])
    assert not all(torch.equal(weights[4]["G"][k], weights[3]["G"][k]) for k in weights[3]["G"])
    assert all(torch.isfinite(t).all() for w in weights.values() for net in w.values() for t in net.values())


def test_consecutive_bad_steps_stop_the_run(toy, tmp_path):
    with pytest.raises(RuntimeError, match=r"3 consecutive steps with non-finite gradients.*00000003"):
        run_training(nan_run(tmp_path / "run", 10, (1, 2, 3, 4, 5, 6), max_bad_steps=3))
    last = ckpt.latest_checkpoint(tmp_path / "run")
    assert last.name == "00000003"  # written after steps 0 (good), 1 and 2 (bad, skipped); step 3 stops
    g = load_file(str(last / "G.safetensors"))
    assert all(torch.isfinite(t).all() for t in g.values())
