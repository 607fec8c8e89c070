"""`semsynth train`: options from the task's Config, --help with defaults, --dry-run, fail-fast errors."""
import json
import shutil

import pytest

from semsynth.cli.main import main


def test_train_help_lists_every_task_of_the_table(toy, capsys):
    from semsynth.train.tasks import TASKS
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in TASKS) and "toy" in out
    assert main(["train", "nosuchtask"]) == 2
    assert "unknown task 'nosuchtask'; choose from" in capsys.readouterr().err


def test_every_task_module_keeps_the_written_contract(toy):
    """The engine calls each name of TASK_MODULE_API without probing, so every module in TASKS defines all of them
    (the toy task of these tests too)."""
    from semsynth.train.task import TASK_MODULE_API, missing_api
    from semsynth.train.tasks import TASKS
    assert set(TASKS) >= {"layout", "sis", "image", "segmenter", "toy"}
    for name, module in TASKS.items():
        assert missing_api(module) == [], name
        assert callable(module.build) and isinstance(module.PRESETS, dict), name
    stripped = type(TASKS["toy"])("stripped")  # an empty module: every name is reported
    assert missing_api(stripped) == list(TASK_MODULE_API)


def test_task_help_shows_every_option_with_its_default(toy, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "toy", "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--data NAME", "--size HxW", "--preset", "--batch INT", "--steps", "--kimg", "--seed", "--out",
                   "--resume", "--dry-run", "--precision", "--compile, --no-compile", "--workers",
                   "--ema-halflife-kimg", "--time-limit-minutes", "--checkpoint-every",
                   "--channels INT", "--r1-interval", "--use-batchnorm, --no-use-batchnorm", "--nan-steps"):
        assert option in text, option
    assert "feature channels of G and D (default: 8)" in text
    assert "global batch" in text and "(default: 8)" in text
    assert text.count("(default:") >= 30


def test_dry_run_prints_config_and_parameter_table(toy, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "toy", "--data", "toy", "--size", "16x32", "--channels", "4", "--nan-steps", "1,3",
                 "--steps", "5", "--out", str(out), "--dry-run"])
    assert code == 0
    text = capsys.readouterr().out
    config = json.loads(text[:text.index("\n}\n") + 2])
    assert config["task_config"]["channels"] == 4 and config["task_config"]["nan_steps"] == [1, 3]
    assert config["train"]["total_steps"] == 5 and config["train"]["batch"] == 4  # override, tiny preset
    assert config["data"]["size"] == [16, 32]
    table = text[text.index("network"):].splitlines()
    assert [row.split()[0] for row in table] == ["network", "G", "D", "G_ema", "total"]
    assert not out.exists(), "a dry run must not create the run directory"


@pytest.mark.parametrize("argv,message", [
    (["--steps", "3", "--kimg", "1"], "only one of total_steps"),
    (["--preset", "paper"], "unknown preset 'paper'"),
    (["--data", "nowhere"], "unknown dataset 'nowhere'"),
    (["--root", "/nonexistent/toy"], "root /nonexistent/toy does not exist"),
    (["--channels", "0"], "channels must be >= 1"),
    (["--batch", "3"], "not divisible"),
    (["--precision", "fp8"], "precision"),
])
def test_impossible_configs_fail_before_any_work(toy, tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("WORLD_SIZE", "2")  # only read for the divisibility check: no process group is started
    base = ["train", "toy", "--data", "toy", "--size", "16x32", "--batch", "4", "--out", str(tmp_path / "run")]
    assert main(base + argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv", [["--bogus"], ["--batch", "many"], ["--size", "16by32"], ["--steps"]])
def test_bad_options_are_argparse_errors(toy, argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "toy"] + argv)
    assert exit_.value.code == 2
    assert "error" in capsys.readouterr().err


def test_train_then_resume_from_the_command_line(toy, tmp_path, capsys):
    out = tmp_path / "run"
    common = ["--out", str(out), "--sample-every", "2", "--checkpoint-every", "2"]
    assert main(["train", "toy", "--data", "toy", "--size", "16x32", "--steps", "2", "--batch", "2"] + common) == 0
    assert main(["train", "toy", "--resume", "--steps", "3", "--out", str(out)]) == 0   # the saved config + length
    captured = capsys.readouterr()
    assert "from step 2" in captured.err and "step 3/3" in captured.out
    saved = json.loads((out / "config.json").read_text())
    assert saved["train"]["total_steps"] == 3 and saved["train"]["batch"] == 2
    assert main(["train", "toy", "--resume", "--out", str(out), "--lr", "0.1"]) == 2
    assert "task_config.lr" in capsys.readouterr().err


def test_data_options_and_skip_corrupt_reach_the_reader(tmp_path, capsys):
    from semsynth.train.config import RunConfig
    from semsynth.train.engine import build_task

    out = tmp_path / "run"
    assert main(["train", "sis", "--mode", "paired", "--no-use-vgg", "--size", "32x64", "--skip-corrupt",
                 "--data-option", "appearance=fixed", "--data-option", "num_scenes=20", "--out", str(out),
                 "--dry-run"]) == 0
    text = capsys.readouterr().out
    run = RunConfig.from_dict(json.loads(text[:text.index("\n}\n") + 2]))
    assert run.data.skip_corrupt is True and run.data.options == {"appearance": "fixed", "num_scenes": 20}
    dataset = build_task(run)[2]
    assert dataset.appearance == "fixed" and dataset.skip_corrupt and len(dataset) == 20
    assert main(["train", "layout", "--size", "32x64", "--data-option", "colour=blue", "--out",
                 str(tmp_path / "bad"), "--dry-run"]) == 2
    assert "does not take option(s) ['colour']" in capsys.readouterr().err
    assert main(["train", "sis", "--mode", "paired", "--size", "32x64", "--use-instance-edges", "--data-option",
                 "use_instance_edges=true", "--out", str(tmp_path / "clash"), "--dry-run"]) == 2
    assert "set by the sis task's config" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "layout", "--data-option", "no-equals-sign", "--dry-run"])


def _snapshot(folder) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_resume_of_a_copied_run_folder_trains_the_copy(toy, tmp_path, capsys):
    orig, copy = tmp_path / "runs" / "orig", tmp_path / "runs" / "copy"
    assert main(["train", "toy", "--data", "toy", "--size", "16x32", "--steps", "2", "--batch", "2",
                 "--checkpoint-every", "2", "--sample-every", "2", "--out", str(orig)]) == 0
    shutil.copytree(orig, copy, symlinks=True)  # cp -a
    before = _snapshot(orig)
    capsys.readouterr()
    assert main(["train", "toy", "--resume", "--steps", "4", "--out", str(copy)]) == 0
    captured = capsys.readouterr()
    assert f"names the run folder {orig}; this run's folder is {copy}" in captured.err
    assert "from step 2" in captured.err and "step 4/4" in captured.out
    assert [p.name for p in sorted((copy / "checkpoints").iterdir())] == ["00000002", "00000004"]
    assert json.loads((copy / "config.json").read_text())["out"] == str(copy)
    assert _snapshot(orig) == before, "resuming the copy must leave the original alone"


def test_resume_with_another_preset_lists_what_it_changes(toy, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "toy", "--data", "toy", "--size", "16x32", "--steps", "2", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["preset"] == "tiny"
    capsys.readouterr()
    assert main(["train", "toy", "--resume", "--preset", "small", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    for change in ("preset: 'tiny' -> 'small'", "task_config.channels: 8 -> 16", "train.batch: 4 -> 8"):
        assert change in err, change
    assert main(["train", "toy", "--resume", "--preset", "tiny", "--steps", "3", "--out", str(out)]) == 0


def test_fresh_run_into_a_used_folder_needs_overwrite(toy, tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "toy", "--data", "toy", "--size", "16x32", "--steps", "2", "--out", str(out)]
    assert main(base) == 0
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert f"semsynth: error: run folder {out} is not empty" in err and "--resume" in err and "--overwrite" in err
    assert main(base + ["--overwrite", "--seed", "3"]) == 0
    assert f"--overwrite: removed {out / 'checkpoints'}" in capsys.readouterr().err
    assert main(base + ["--overwrite", "--resume"]) == 2
    assert "choose one" in capsys.readouterr().err


def test_a_preset_given_on_resume_applies_its_variants():
    from semsynth.cli.train import preset_layer

    assert preset_layer("layout", "paper", {"arch": "dcgan"})["task"]["z_dim"] == 100  # the DCGAN's published nz
    assert preset_layer("layout", "paper", {"arch": "stylegan2"})["task"]["z_dim"] == 512


def test_field_help_reads_trailing_comments_of_bases_and_metadata():
    import dataclasses

    from semsynth.train.field_help import field_help
    from semsynth.train.tasks import layout

    @dataclasses.dataclass(frozen=True)
    class Base:
        size: int = 3          # size of the thing
        name: str = "a # b"    # a name
        plain: int = 1

    @dataclasses.dataclass(frozen=True)
    class Child(Base):
        size: int = 4          # a smaller size
        depth: int = dataclasses.field(default=2, metadata={"help": "from metadata"})  # not this comment

    assert field_help(Child) == {"size": "a smaller size", "name": "a name", "depth": "from metadata"}
    assert field_help(layout.Config)["z_dim"] == "latent size"  # a field of the base class GANConfig


def test_time_limit_without_steps_trains_until_it_ends(toy, tmp_path, capsys):
    def dry(*extra):
        assert main(["train", "toy", "--data", "toy", "--out", str(tmp_path / "run"), "--dry-run", *extra]) == 0
        text = capsys.readouterr().out
        return json.loads(text[:text.index("\n}\n") + 2])["train"]
    assert dry("--time-limit-minutes", "3")["total_steps"] is None  # not the tiny preset's 6 steps
    assert dry("--time-limit-minutes", "3", "--steps", "9")["total_steps"] == 9
    assert dry()["total_steps"] == 6
