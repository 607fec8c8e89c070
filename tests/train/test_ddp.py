"""Two CPU processes under torchrun (gloo): DDP keeps every rank's weights, EMA and optimizer state identical."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from semsynth.train.config import build_run_config
from semsynth.train.engine import run_training


@pytest.mark.slow
@pytest.mark.parametrize("task", ["toy", "layout"])
def test_two_process_gloo_ranks_stay_identical(toy, tmp_path, task):
    train = {"total_steps": 4, "batch": 4, "checkpoint_every": 2, "num_workers": 0}
    if task == "toy":
        run = build_run_config("toy", data="toy", size=(16, 32), augment=True, out=tmp_path / "run",
                               train_overrides=train)
    else:  # StyleGAN2 with both lazy regularisers: R1 and path length (double backward through DDP, all-reduced mean)
        run = build_run_config("layout", size=(32, 64), out=tmp_path / "run", train_overrides=train,
                               task_overrides={"pl_weight": 2.0, "pl_interval": 2, "r1_interval": 2})
    cfg = tmp_path / "run.json"
    cfg.write_text(run.to_json())
    script = Path(__file__).with_name("run_toy.py")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
         str(cfg), "--hash-dir", str(tmp_path)], capture_output=True, text=True, timeout=240,
        env=toy.subprocess_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    print({r["world_size"]: r["hashes"]["G"][:12] for r in ranks})
    assert [r["world_size"] for r in ranks] == [2, 2] and [r["step"] for r in ranks] == [4, 4]
    assert set(ranks[0]["hashes"]) == {"G", "D", "G_ema", "opt_G", "opt_D"}
    assert ranks[0]["hashes"] == ranks[1]["hashes"]
    assert (tmp_path / "run" / "checkpoints" / "00000004" / "G.safetensors").is_file()  # rank 0 wrote it


@pytest.mark.slow
def test_resume_on_more_processes_continues_the_data_order(toy, tmp_path):
    def run(steps):
        return build_run_config("toy", data="toy", size=(16, 32), augment=True, out=tmp_path / "run",
                                train_overrides={"total_steps": steps, "batch": 4, "checkpoint_every": 3,
                                                 "num_workers": 0})
    run_training(run(3))  # one process: 10 items, batch 4 -> 2 batches an epoch; stops in epoch 1
    cfg = tmp_path / "run.json"
    cfg.write_text(run(7).to_json())
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(Path(__file__).with_name("run_toy.py")), str(cfg), "--resume", "--hash-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=toy.subprocess_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "the data order continues" in proc.stderr
    state = torch.load(tmp_path / "run" / "checkpoints" / "00000007" / "state.pt", weights_only=True)
    assert state["world_size"] == 2 and (state["epoch"], state["consumed"]) == (3, 1)  # as an unbroken run
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert ranks[0]["hashes"] == ranks[1]["hashes"]
