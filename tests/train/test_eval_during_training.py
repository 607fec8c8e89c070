"""--eval-every: metric lines in stats.jsonl, RUN/model-best kept by the chosen metric, the best value in the
checkpoint state (resume, torchrun), and the start-up checks. Tiny runs at 32x64 with a stand-in for Inception
(the real one is covered in tests/evaluation/metrics/test_inception.py)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from semsynth.cli.main import main
from semsynth.evaluation import protocol
from semsynth.evaluation.metrics import inception
from semsynth.models.io import load_model
from semsynth.train import checkpoint as ckpt
from semsynth.train import evaluation_hook
from semsynth.train.config import TrainConfig, build_run_config
from semsynth.train.engine import Trainer, run_training
from tests.helpers.colour_stats import ColourStats

SIZE = (32, 64)
EVERY_2_STEPS = {"eval_every": 0.004, "batch": 2}  # 0.004 kimg = 4 images = 2 steps of batch 2


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(inception, "load_inception", lambda path=None, device="cpu", sha256=None: ColourStats())
    monkeypatch.setattr(protocol, "check_inception", lambda path=None: (Path("stand-in"), "stand-in"))


def no_inception(monkeypatch, tmp_path):
    monkeypatch.delenv("SEMSYNTH_INCEPTION", raising=False)
    monkeypatch.setattr(inception, "_hub_dir", lambda: tmp_path / "empty-hub")
    monkeypatch.setattr(inception, "_package_torchscript", lambda: None)


def layout_run(out, steps, task="layout", **train):
    overrides = {"arch": "stylegan2", "output": "labels"} if task == "layout" else {"mode": "paired", "use_vgg": False}
    if task == "image":
        overrides = {}
    return build_run_config(task, "synthetic-streets", size=SIZE, preset="tiny", task_overrides=overrides, out=out,
                            train_overrides={"total_steps": steps, "num_workers": 0, "eval_n": 8, "log_every": 50,
                                             "checkpoint_every": 1000, "sample_every": 0, **EVERY_2_STEPS, **train})


def eval_lines(run_dir) -> list[dict]:
    lines = [json.loads(line) for line in (Path(run_dir) / "stats.jsonl").read_text().splitlines()]
    return [line for line in lines if any(k.startswith("eval/") for k in line)]


def final_state(run_dir) -> dict:
    return torch.load(ckpt.latest_checkpoint(run_dir) / ckpt.STATE_NAME, weights_only=True)


class Scripted:
    """Replaces a task's metrics: the next value of `values` as "js" at each evaluation, after `delay` seconds."""
    values: list[float] = []
    delay = 0.0

    def __init__(self, run, settings):
        pass

    @staticmethod
    def names(settings):
        return ["js"]

    def __call__(self, task, settings):
        time.sleep(Scripted.delay)
        return {"js": Scripted.values.pop(0)}


@pytest.fixture
def scripted(monkeypatch, stand_in):
    monkeypatch.setitem(evaluation_hook.METRICS, "layout", Scripted)
    Scripted.delay = 0.0
    exports = []
    real_export = Trainer.export

    def spy(self, name="model", note=None):
        exports.append((name, self.step))
        return real_export(self, name, note)
    monkeypatch.setattr(Trainer, "export", spy)
    return exports


# -- what an evaluation writes --------------------------------------------------------------------------------------
def test_layout_evaluations_log_metrics_and_export_model_best(tmp_path, stand_in):
    out = run_training(layout_run(tmp_path / "run", 5))
    lines = eval_lines(out)
    assert [line["step"] for line in lines] == [2, 4, 5]  # every 2 steps, and at the end
    for line in lines:
        assert {"eval/js", "eval/boundary_ratio", "eval/isolated_ratio", "eval/kid", "eval/kid_std",
                "eval/seconds"} <= set(line)
        assert 0 < line["eval/time_share"] <= 1
        assert 0 <= line["eval/js"] <= 1 and line["eval/boundary_ratio"] > 0
    best = json.loads((out / "model-best" / "eval.json").read_text())
    assert best["metric"] == "kid"  # auto with Inception
    assert best["value"] == min(line["eval/kid"] for line in lines)
    assert load_model(out / "model-best", tasks=("layout",)).meta["task"] == "layout"
    assert final_state(out)["eval_best"] == {k: best[k] for k in ("metric", "value", "step", "kimg")}
    tags = set()
    for event_file in (out / "tb").iterdir():
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        tags |= set(EventAccumulator(str(event_file)).Reload().Tags()["scalars"])
    assert {"eval/js", "eval/kid"} <= tags


def test_model_best_is_replaced_only_when_the_metric_improves(tmp_path, scripted):
    Scripted.values = [0.5, 0.3, 0.4, 0.2, 0.25]
    out = run_training(layout_run(tmp_path / "run", 10, eval_metric="js"))
    assert [line["eval/js"] for line in eval_lines(out)] == [0.5, 0.3, 0.4, 0.2, 0.25]
    assert [step for name, step in scripted if name == "model-best"] == [2, 4, 8]
    best = json.loads((out / "model-best" / "eval.json").read_text())
    assert (best["metric"], best["value"], best["step"]) == ("js", 0.2, 8)
    assert final_state(out)["eval_best"]["value"] == 0.2


def test_the_best_value_survives_resume(tmp_path, scripted, capsys):
    Scripted.values = [0.5, 0.3, 0.4]
    run_training(layout_run(tmp_path / "run", 6, eval_metric="js"))
    assert final_state(tmp_path / "run")["eval_best"]["value"] == 0.3
    scripted.clear()
    Scripted.values = [0.35, 0.1]  # 0.35 beats nothing a resumed run remembers: the best 0.3 from step 4 stands
    run_training(layout_run(tmp_path / "run", 10, eval_metric="js"), resume=True)
    assert "from step 6" in capsys.readouterr().err
    assert [step for name, step in scripted if name == "model-best"] == [10]
    best = final_state(tmp_path / "run")["eval_best"]
    assert (best["metric"], best["value"], best["step"]) == ("js", 0.1, 10)
    assert [line["step"] for line in eval_lines(tmp_path / "run")] == [2, 4, 6, 8, 10]


def test_an_evaluation_over_a_tenth_of_the_time_warns_once(tmp_path, scripted, capsys):
    Scripted.values, Scripted.delay = [0.5, 0.4, 0.3], 1.0  # 1 s of evaluating per 2 tiny steps: far over 10 %
    out = run_training(layout_run(tmp_path / "run", 6, eval_metric="js"))
    assert capsys.readouterr().err.count("raise --eval-every or lower --eval-n") == 1
    assert all(line["eval/time_share"] > 0.1 for line in eval_lines(out))


# -- tasks and Inception ---------------------------------------------------------------------------------------------
def test_layout_js_works_without_inception(tmp_path, monkeypatch, capsys):
    no_inception(monkeypatch, tmp_path)
    out = run_training(layout_run(tmp_path / "run", 2))
    warnings = [line for line in capsys.readouterr().err.splitlines() if "KID/FID skipped" in line]
    assert len(warnings) == 1
    (line,) = eval_lines(out)
    assert "eval/js" in line and "eval/kid" not in line
    assert json.loads((out / "model-best" / "eval.json").read_text())["metric"] == "js"  # auto falls back to js


def test_explicit_kid_without_inception_fails_before_training(tmp_path, monkeypatch, capsys):
    no_inception(monkeypatch, tmp_path)
    code = main(["train", "layout", "--size", "32x64", "--steps", "2", "--workers", "0", "--eval-every", "1",
                 "--eval-metric", "kid", "--out", str(tmp_path / "run")])
    assert code == 2
    assert "--eval-metric kid needs the FID Inception weights" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_js_chosen_explicitly_measures_without_inception(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("Inception loaded for --eval-metric js")
    monkeypatch.setattr(inception, "load_inception", refuse)
    monkeypatch.setattr(protocol, "check_inception", refuse)
    out = run_training(layout_run(tmp_path / "run", 2, eval_metric="js"))
    (line,) = eval_lines(out)
    assert {"eval/js", "eval/boundary_ratio"} <= set(line) and "eval/kid" not in line


def test_sis_task_logs_kid_by_default(tmp_path, stand_in):
    out = run_training(layout_run(tmp_path / "run", 2, task="sis", eval_n=4))
    (line,) = eval_lines(out)
    assert line["eval/kid"] >= -1 and "eval/miou" not in line  # no --eval-segmenter: no mIoU
    assert json.loads((out / "model-best" / "eval.json").read_text())["metric"] == "kid"


def test_image_task_logs_kid(tmp_path, stand_in):
    out = run_training(layout_run(tmp_path / "run", 2, task="image"))
    (line,) = eval_lines(out)
    assert line["eval/kid"] >= -1 and "eval/js" not in line
    assert (out / "model-best" / "model.safetensors").is_file()


def test_sis_task_logs_kid_and_proxy_miou(tmp_path, stand_in):
    segmenter = run_training(build_run_config(
        "segmenter", "synthetic-streets", size=SIZE, preset="tiny", out=tmp_path / "seg",
        train_overrides={"total_steps": 1, "batch": 2, "num_workers": 0}))
    out = run_training(layout_run(tmp_path / "run", 2, task="sis", eval_metric="miou", eval_n=4,
                                  eval_segmenter=str(segmenter)))
    (line,) = eval_lines(out)
    assert 0 <= line["eval/miou"] <= 1 and "eval/kid" not in line  # --eval-metric miou: no Inception
    assert json.loads((out / "model-best" / "eval.json").read_text())["metric"] == "miou"


# -- settings --------------------------------------------------------------------------------------------------------
def test_eval_options_are_command_line_options_and_land_in_config_json(tmp_path, scripted, capsys):
    Scripted.values = [0.5]
    assert main(["train", "layout", "--size", "32x64", "--steps", "2", "--batch", "2", "--workers", "0",
                 "--eval-every", "0.004", "--eval-n", "8", "--eval-metric", "js", "--out", str(tmp_path / "run")]) == 0
    train = json.loads((tmp_path / "run" / "config.json").read_text())["train"]
    assert (train["eval_every"], train["eval_n"], train["eval_metric"]) == (0.004, 8, "js")
    with pytest.raises(SystemExit):
        main(["train", "layout", "--help"])
    assert "--eval-every KIMG" in capsys.readouterr().out


@pytest.mark.parametrize("task, train, message", [
    ("segmenter", {}, "no metrics during training"),
    ("image", {"eval_metric": "js"}, "measures kid|fid"),
    ("sis", {"eval_metric": "miou"}, "needs a segmenter"),
    ("layout", {"eval_segmenter": "nowhere"}, "for the sis task"),
    ("sis", {"eval_segmenter": "/no/such/segmenter"}, "/no/such/segmenter"),
])
def test_settings_that_cannot_run_fail_before_training(tmp_path, task, train, message):
    run = build_run_config(task, "synthetic-streets", size=SIZE, out=tmp_path / "run",
                           train_overrides={"eval_every": 1.0, **train})
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        evaluation_hook.check(run)


def test_config_rejects_bad_eval_values():
    for bad in ({"eval_every": -1}, {"eval_n": 1}, {"eval_metric": "lpips"}):
        with pytest.raises(ValueError):
            TrainConfig(**bad)


def test_due_and_best_rules():
    assert [evaluation_hook.due(0.004, n - 2, n) for n in (2, 4, 6, 8)] == [False, True, False, True]
    assert evaluation_hook.due(16.1, 16090, 16100)  # 16.1 * 1000 is 16100.000000000002 in floats
    assert not evaluation_hook.due(0, 0, 1000)
    assert evaluation_hook.due(1.0, 990, 1010) and not evaluation_hook.due(1.0, 1010, 1030)
    best = evaluation_hook.Best("kid", 0.1, 4, 0.008)
    assert best.improves("kid", 0.05) and not best.improves("kid", 0.2) and not best.improves("kid", float("nan"))
    assert evaluation_hook.Best("miou", 0.3).improves("miou", 0.4)  # higher is better for mIoU
    assert evaluation_hook.Best.from_state(best.state_dict()) == best


# -- torchrun ---------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_two_process_gloo_run_evaluates_on_rank_zero(toy, tmp_path):
    run = layout_run(tmp_path / "run", 4, batch=4, eval_every=0.008)  # 8 images = every 2 steps of 2 x 2
    cfg = tmp_path / "run.json"
    cfg.write_text(run.to_json())
    env = toy.subprocess_env(SEMSYNTH_INCEPTION=str(tmp_path / "absent.pth"))  # KID skipped: js picks model-best
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(Path(__file__).with_name("run_toy.py")), str(cfg), "--hash-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stderr.count("KID/FID skipped") == 1  # rank 0 alone evaluates
    assert [line["step"] for line in eval_lines(tmp_path / "run")] == [2, 4]
    assert (tmp_path / "run" / "model-best" / "model.safetensors").is_file()
    assert final_state(tmp_path / "run")["eval_best"]["metric"] == "js"
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert ranks[0]["hashes"] == ranks[1]["hashes"]  # evaluating on rank 0 left the ranks in step


@pytest.mark.slow
def test_the_best_value_survives_a_kill_during_a_checkpoint_write(toy, tmp_path, monkeypatch):
    """SIGKILL in the middle of writing checkpoint 6 (after the evaluation of step 6), then --resume from 4: the
    evaluations and the best value equal those of an unbroken run."""
    monkeypatch.setenv("SEMSYNTH_INCEPTION", str(tmp_path / "absent.pth"))  # js only: no Inception in the child
    run = layout_run(tmp_path / "run", 8, checkpoint_every=2)
    cfg = tmp_path / "run.json"
    cfg.write_text(run.to_json())
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("run_toy.py")), str(cfg),
                             "--checkpoint-delay", "6:120"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=toy.subprocess_env())
    root = tmp_path / "run" / "checkpoints"
    deadline = time.time() + 120
    try:
        while not list(root.glob(ckpt.TMP_PREFIX + "00000006-*")):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "the checkpoint write of step 6 never started"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert [line["step"] for line in eval_lines(tmp_path / "run")] == [2, 4, 6]
    run_training(run, resume=True)
    run_training(layout_run(tmp_path / "whole", 8, checkpoint_every=2))
    def values(run_dir):
        return [{k: v for k, v in line.items() if k not in ("eval/seconds", "eval/time_share")}
                for line in eval_lines(run_dir)]
    assert values(tmp_path / "run") == values(tmp_path / "whole")  # step 6 measured again, to the same numbers
    assert final_state(tmp_path / "run")["eval_best"] == final_state(tmp_path / "whole")["eval_best"]
