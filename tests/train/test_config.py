import dataclasses
import json

import pytest

from semsynth.train.config import (DataConfig, RunConfig, TrainConfig, build_run_config, config_differences,
                                   merge_train)


def test_json_round_trip(toy, tmp_path):
    run = build_run_config("toy", data="toy", size=(16, 32), task_overrides={"nan_steps": (1, 2)},
                           train_overrides={"batch": 2}, out=tmp_path / "run")
    path = tmp_path / "config.json"
    path.write_text(run.to_json())
    back = RunConfig.from_json(path)
    assert back == run
    assert back.task_config["nan_steps"] == [1, 2] and back.data.size == (16, 32)


@pytest.mark.parametrize("section,key", [(None, "bogus"), ("train", "batch_size"), ("data", "resolution"),
                                         ("task_config", "channel")])
def test_unknown_keys_are_rejected(toy, tmp_path, section, key):
    d = build_run_config("toy", data="toy", size=(16, 32)).to_dict()
    (d if section is None else d[section])[key] = 1
    path = tmp_path / "config.json"
    path.write_text(json.dumps(d))
    with pytest.raises(ValueError, match=key):
        RunConfig.from_json(path)


def test_preset_then_overrides(toy):
    run = build_run_config("toy", data="toy", preset="small", task_overrides={"z_dim": 4})
    assert run.task_config["channels"] == 16 and run.task_config["z_dim"] == 4   # preset, override
    assert run.train.total_kimg == 0.1 and run.train.total_steps is None         # preset's length wins default
    run = build_run_config("toy", data="toy", preset="small", train_overrides={"total_steps": 5})
    assert run.train.total_steps == 5 and run.train.total_kimg is None           # override's length wins preset
    assert run.train.steps() == 5


def test_bad_configs_fail_with_a_message(toy):
    with pytest.raises(ValueError, match="unknown preset 'paper'"):
        build_run_config("toy", data="toy", preset="paper")
    with pytest.raises(ValueError, match="only one of total_steps"):
        merge_train({"total_steps": 3, "total_kimg": 1.0})
    with pytest.raises(ValueError, match="exactly one"):
        TrainConfig(total_steps=None, total_kimg=None)
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp16")
    with pytest.raises(ValueError, match="size"):
        DataConfig(size=(4, 32))
    with pytest.raises(ValueError, match="unknown task"):
        build_run_config("nope")


def test_kimg_rounds_up_to_whole_batches():
    assert TrainConfig(batch=8, total_steps=None, total_kimg=0.1).steps() == 13  # 100 images / 8 -> 13 steps


def test_resume_differences(toy):
    run = build_run_config("toy", data="toy", size=(16, 32))
    longer = dataclasses.replace(run, train=dataclasses.replace(run.train, total_steps=99, num_workers=1))
    assert config_differences(run, longer) == []
    other = dataclasses.replace(run, train=dataclasses.replace(run.train, seed=3))
    assert config_differences(run, other) == ["train.seed: 0 -> 3"]


def test_a_time_budget_without_length_is_used_to_its_end(toy):
    run = build_run_config("toy", data="toy", train_overrides={"time_limit_minutes": 2.0})
    assert run.train.total_steps is None and run.train.total_kimg is None and run.train.steps() is None
    run = build_run_config("toy", data="toy", preset="small", train_overrides={"time_limit_minutes": 2.0,
                                                                                "total_steps": 9})
    assert run.train.steps() == 9  # a length the user sets stays a ceiling
    run = build_run_config("toy", data="toy", train_overrides={"time_limit_minutes": None})
    assert run.train.steps() == 6  # no budget: the preset's length
    back = RunConfig.from_dict(build_run_config("toy", data="toy", train_overrides={"time_limit_minutes": 2.0})
                               .to_dict())
    assert back.train.steps() is None
