"""Checkpoints and --resume: a stopped-and-resumed run equals an unbroken one bit for bit, also after SIGKILL in
the middle of a checkpoint write."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from semsynth.train import checkpoint as ckpt
from semsynth.train.config import build_run_config
from semsynth.train.engine import run_training


def toy_run(out, steps, **train):
    return build_run_config("toy", data="toy", size=(16, 32), augment=True, out=out, train_overrides={
        "total_steps": steps, "checkpoint_every": 3, "sample_every": 4, "log_every": 2, **train})


def load_all(folder: Path) -> dict:
    out = {p.stem: load_file(str(p)) for p in sorted(folder.glob("*.safetensors"))}
    out["state"] = torch.load(folder / ckpt.STATE_NAME, weights_only=True)
    return out


def assert_identical(a, b, where="checkpoint"):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_identical(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_is_bit_identical(toy, tmp_path, workers, capsys):
    # 10 items, batch 4 -> 2 batches an epoch: the stop at step 3 is in the middle of epoch 1
    run_training(toy_run(tmp_path / "whole", 7, num_workers=workers))
    run_training(toy_run(tmp_path / "split", 3, num_workers=workers))
    assert ckpt.latest_checkpoint(tmp_path / "split").name == "00000003"
    run_training(toy_run(tmp_path / "split", 7, num_workers=workers), resume=True)
    assert "from step 3" in capsys.readouterr().err
    whole = load_all(tmp_path / "whole" / "checkpoints" / "00000007")
    split = load_all(tmp_path / "split" / "checkpoints" / "00000007")
    assert set(whole) == {"G", "D", "G_ema", "state"}
    assert whole["state"]["epoch"] == 3 and whole["state"]["consumed"] == 1
    assert whole["state"]["optimizers"]["G"]["state"], "optimizer state must be saved"
    assert_identical(whole, split)
    init = load_all(tmp_path / "split" / "checkpoints" / "00000003")
    assert not torch.equal(init["G"]["fc.weight"], split["G"]["fc.weight"])  # it did train after resuming


def test_checkpoint_folder_and_run_dir_layout(toy, tmp_path):
    out = run_training(toy_run(tmp_path / "run", 7, keep_checkpoints=2))
    assert [p.name for p in ckpt.list_checkpoints(out)] == ["00000006", "00000007"]  # keep the newest 2
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["00000004.png", "00000007.png"]
    assert (out / "model" / "model.safetensors").is_file() and (out / "config.json").is_file()
    assert list((out / "tb").iterdir())
    stats = [json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines()]
    assert [s["step"] for s in stats] == [2, 4, 6, 7]
    assert {"G/loss", "D/loss", "kimg", "img_per_s", "skipped_steps", "data_wait_share"} <= set(stats[0])
    assert all(0 <= s["data_wait_share"] <= 1 for s in stats)
    state = load_all(out / "checkpoints" / "00000007")["state"]
    assert state["step"] == 7 and state["nimg"] == 28 and state["bad_streak"] == 0


def test_new_run_refuses_a_dir_with_checkpoints_and_resume_refuses_other_config(toy, tmp_path):
    run_training(toy_run(tmp_path / "run", 2))
    with pytest.raises(ValueError, match="--resume"):
        run_training(toy_run(tmp_path / "run", 4))
    with pytest.raises(ValueError, match=r"train\.seed: 0 -> 1"):
        run_training(toy_run(tmp_path / "run", 4, seed=1), resume=True)
    with pytest.raises(FileNotFoundError, match="config.json"):
        run_training(toy_run(tmp_path / "never", 4), resume=True)


class FakeClock:
    """Stands in for the engine's `time`: every call to time.time() advances one second."""
    now = 0.0

    def time(self):
        self.now += 1.0
        return self.now

    def sleep(self, s):
        pass


def test_time_limit_stops_cleanly(toy, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("semsynth.train.engine.time", FakeClock())
    out = run_training(toy_run(tmp_path / "run", 1000, time_limit_minutes=0.1))  # 6 fake seconds
    done = ckpt.latest_checkpoint(out)
    assert 0 < int(done.name) < 1000 and (out / "model" / "model.safetensors").is_file()
    assert "time limit" in capsys.readouterr().out


def test_time_budget_without_length_trains_past_the_preset_and_resumes_alike(toy, tmp_path, monkeypatch):
    """The toy's tiny preset says 6 steps; a time budget with no --steps/--kimg trains until the budget ends, and
    the weights equal those of a run told that many steps (nothing in training depends on the planned length)."""
    monkeypatch.setattr("semsynth.train.engine.time", FakeClock())
    budget = {"time_limit_minutes": 1.0, "checkpoint_every": 3, "sample_every": 0, "log_every": 2}
    run = build_run_config("toy", data="toy", size=(16, 32), augment=True, out=tmp_path / "budget",
                           train_overrides=budget)
    assert run.train.total_steps is None and run.train.total_kimg is None
    steps = int(ckpt.latest_checkpoint(run_training(run)).name)
    assert steps > 6
    monkeypatch.setattr("semsynth.train.engine.time", time)
    run_training(toy_run(tmp_path / "whole", steps))
    assert_identical(load_all(tmp_path / "budget" / "checkpoints" / f"{steps:08d}"),
                     load_all(tmp_path / "whole" / "checkpoints" / f"{steps:08d}"))


def test_explicit_length_stays_a_ceiling_under_a_time_budget(toy, tmp_path):
    out = run_training(build_run_config("toy", data="toy", size=(16, 32), out=tmp_path / "run",
                                        train_overrides={"time_limit_minutes": 5.0, "total_steps": 4}))
    assert ckpt.latest_checkpoint(out).name == "00000004"


@pytest.mark.slow
def test_sigkill_during_checkpoint_write_resumes_from_previous(toy, tmp_path, capsys):
    run = toy_run(tmp_path / "run", 6, checkpoint_every=2)
    (tmp_path / "run").mkdir()
    cfg = tmp_path / "run.json"
    cfg.write_text(run.to_json())
    script = Path(__file__).with_name("run_toy.py")
    proc = subprocess.Popen([sys.executable, str(script), str(cfg), "--checkpoint-delay", "4:120"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=toy.subprocess_env())
    root = tmp_path / "run" / "checkpoints"
    deadline = time.time() + 90
    try:
        while not list(root.glob(ckpt.TMP_PREFIX + "00000004-*")):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "the checkpoint write of step 4 never started"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert [p.name for p in ckpt.list_checkpoints(tmp_path / "run")] == ["00000002"]
    assert list(root.glob(ckpt.TMP_PREFIX + "*")), "the killed write left its temp folder"
    run_training(run, resume=True)
    err = capsys.readouterr().err
    assert "removed incomplete checkpoint" in err and "from step 2" in err
    assert not list(root.glob(ckpt.TMP_PREFIX + "*"))
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6]  # the killed run's line for step 4 was dropped, then written again
    run_training(toy_run(tmp_path / "whole", 6, checkpoint_every=2))
    assert_identical(load_all(tmp_path / "whole" / "checkpoints" / "00000006"), load_all(root / "00000006"))


def test_bf16_autocast_and_channels_last_run(toy, tmp_path):
    out = run_training(toy_run(tmp_path / "run", 2, precision="bf16", channels_last=True))
    g = load_all(out / "checkpoints" / "00000002")["G"]
    assert all(t.dtype == torch.float32 and torch.isfinite(t).all() for t in g.values())  # fp32 master weights


def test_layout_gan_resume_keeps_the_path_length_mean(tmp_path, capsys):
    """A real task with state outside its nets: the Greg phase (steps 0, 4, 8) after resuming at 5 must use the
    checkpointed running mean of the path lengths."""
    def run(out, steps):
        return build_run_config("layout", size=(32, 64), out=out, task_overrides={"pl_weight": 2.0},
                                train_overrides={"total_steps": steps, "checkpoint_every": 5, "sample_every": 100,
                                                 "log_every": 5, "batch": 4})

    run_training(run(tmp_path / "whole", 9))
    run_training(run(tmp_path / "split", 5))
    run_training(run(tmp_path / "split", 9), resume=True)
    whole = load_all(tmp_path / "whole" / "checkpoints" / "00000009")
    split = load_all(tmp_path / "split" / "checkpoints" / "00000009")
    assert whole["state"]["task"]["pl_mean"] > 0
    assert_identical(whole, split)


def _flip_last_weight_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x04  # inside the last tensor: a different finite weight, only the checksum notices
    path.write_bytes(bytes(data))


def _nan_weights(path: Path) -> None:
    """NaN weights saved by the run itself: the manifest matches them, only the finiteness check objects."""
    from safetensors.torch import save_file
    tensors = load_file(str(path))
    tensors["fc.weight"][0, 0] = float("nan")
    save_file(tensors, str(path))
    manifest = json.loads((path.parent / ckpt.MANIFEST_NAME).read_text())
    manifest["files"][path.name] = ckpt.file_record(path)
    (path.parent / ckpt.MANIFEST_NAME).write_text(json.dumps(manifest))


@pytest.mark.parametrize("file,damage", [
    ("G.safetensors", lambda p: p.write_bytes(b"")),
    ("state.pt", lambda p: p.write_bytes(p.read_bytes()[:100])),
    ("D.safetensors", _flip_last_weight_byte),
    ("G.safetensors", _nan_weights),
])
def test_resume_skips_a_corrupt_newest_checkpoint(toy, tmp_path, capsys, file, damage):
    out = run_training(toy_run(tmp_path / "run", 6))  # checkpoints 3 and 6
    damage(out / "checkpoints" / "00000006" / file)
    capsys.readouterr()
    run_training(toy_run(out, 8), resume=True)
    err = capsys.readouterr().err
    bad = out / "checkpoints" / "00000006"
    assert f"warning: checkpoint {bad} is unusable: {bad / file}" in err
    assert f"falling back to checkpoint {out / 'checkpoints' / '00000003'}" in err and "from step 3" in err
    assert (out / "checkpoints" / "00000006.corrupt" / file).is_file()  # kept for a look, not resumed from
    assert [p.name for p in ckpt.list_checkpoints(out)] == ["00000003", "00000006", "00000008"]
    assert all(torch.isfinite(t).all() for t in load_all(out / "checkpoints" / "00000008")["G"].values())


def test_resume_without_a_usable_checkpoint_is_a_clear_error(toy, tmp_path):
    out = run_training(toy_run(tmp_path / "run", 6))
    for folder in ckpt.list_checkpoints(out):
        (folder / "G.safetensors").write_bytes(b"")
    with pytest.raises(RuntimeError, match=r"cannot resume .*none of its checkpoints is usable \(00000006: .*"
                                           r"G\.safetensors has 0 bytes.*00000003: "):
        run_training(toy_run(out, 8), resume=True)


def test_a_fresh_run_refuses_any_non_empty_folder_and_overwrite_clears_the_runs_outputs(toy, tmp_path, capsys):
    only_config = tmp_path / "config-only"
    only_config.mkdir()
    (only_config / "config.json").write_text("{}")
    only_samples = tmp_path / "samples-only" / "samples"
    only_samples.mkdir(parents=True)
    for folder in (only_config, only_samples.parent):
        with pytest.raises(ValueError, match=rf"run folder {folder} is not empty .*--resume.*--overwrite"):
            run_training(toy_run(folder, 2))
    (tmp_path / "empty").mkdir()
    assert ckpt.latest_checkpoint(run_training(toy_run(tmp_path / "empty", 2))).name == "00000002"

    out = run_training(toy_run(tmp_path / "run", 6))
    (out / "notes.txt").write_text("mine")
    capsys.readouterr()
    run_training(toy_run(out, 2, seed=5), overwrite=True)
    err = capsys.readouterr().err
    for name in ("checkpoints", "samples", "model", "stats.jsonl", "tb", "config.json"):
        assert f"--overwrite: removed {out / name}" in err, name
    assert "notes.txt" not in err and (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in ckpt.list_checkpoints(out)] == ["00000002"]
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["00000002.png"]
    assert [json.loads(line)["step"] for line in (out / "stats.jsonl").read_text().splitlines()] == [2]
    assert json.loads((out / "config.json").read_text())["train"]["seed"] == 5
    with pytest.raises(ValueError, match="choose one"):
        run_training(toy_run(out, 4, seed=5), resume=True, overwrite=True)


def test_a_full_disk_while_rewriting_config_json_leaves_the_old_one(toy, tmp_path, monkeypatch):
    out = run_training(toy_run(tmp_path / "run", 2))
    before = (out / "config.json").read_text()
    real_write_text = Path.write_text

    def full_disk(self, text, *args, **kwargs):
        real_write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        run_training(toy_run(out, 4), resume=True)  # a new run length: config.json is rewritten
    monkeypatch.undo()
    assert (out / "config.json").read_text() == before
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no temp file left behind


def test_resume_drops_a_stats_line_torn_by_a_kill(toy, tmp_path):
    out = run_training(toy_run(tmp_path / "run", 3))
    with open(out / "stats.jsonl", "a") as f:
        f.write('{"step": 4, "kimg": 0.0')  # killed in the middle of an append
    run_training(toy_run(out, 4), resume=True)
    assert [json.loads(line)["step"] for line in (out / "stats.jsonl").read_text().splitlines()] == [2, 3, 4]
