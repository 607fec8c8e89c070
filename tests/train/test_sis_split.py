"""`semsynth train sis --mode paired|unpaired` in front of two tasks with their own configs (spade.py, usis.py)."""
import dataclasses
from pathlib import Path

import pytest

from semsynth.cli.main import main
from semsynth.train.config import RunConfig, build_run_config, config_differences, task_config_obj
from semsynth.train.tasks import sis, spade, usis

HERE = Path(__file__).resolve().parent


def names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_each_mode_has_its_own_config_and_the_command_keeps_the_union():
    assert names(sis.Config) == {"mode"} | names(spade.Config) | names(usis.Config)
    paired_only = {"use_vgg", "ndf", "use_vae", "lambda_feat", "use_instance_edges"}
    assert paired_only <= names(spade.Config) - names(usis.Config)
    assert {"seg_channels", "wavelet_channels", "r1_gamma", "lr_s"} <= names(usis.Config) - names(spade.Config)
    cfg = sis.Config(mode="unpaired", ngf=4, use_vgg=True, seg_channels=8)
    unpaired = sis.task_config(cfg)
    assert type(unpaired) is usis.Config and (unpaired.ngf, unpaired.seg_channels) == (4, 8)
    paired = sis.task_config(dataclasses.replace(cfg, mode="paired"))
    assert type(paired) is spade.Config and (paired.ngf, paired.use_vgg) == (4, True)
    with pytest.raises(ValueError, match="USIS"):
        sis.task_config(dataclasses.replace(cfg, use_instance_edges=True))
    with pytest.raises(ValueError, match="unknown sis mode"):
        sis.task_config(dataclasses.replace(cfg, mode="half"))


def test_an_option_both_tasks_have_needs_one_default():
    @dataclasses.dataclass(frozen=True)
    class Other:
        ngf: int = 8  # generator width

    with pytest.raises(TypeError, match="ngf"):
        sis._union_of(spade.Config, Other)


def test_sis_help_shows_the_options_of_both_tasks_with_their_help(capsys):
    with pytest.raises(SystemExit):
        main(["train", "sis", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--mode MODE" in text or "--mode STR" in text
    assert "U-Net segmenter base channels (default: 64)" in text          # usis.Config
    assert "D feature matching weight; 0 = off (default: 10.0)" in text   # spade.Config


def test_a_run_folder_written_before_the_split_resumes():
    """The run config of `train sis --mode unpaired --preset tiny` as written before the split (all 36 options)."""
    saved = RunConfig.from_json(HERE / "data" / "sis_unpaired_run_before_the_split.json")
    again = build_run_config("sis", size=(32, 64), preset="tiny", task_overrides={"mode": "unpaired"}, out=saved.out)
    assert config_differences(saved, again) == []
    cfg = sis.task_config(task_config_obj("sis", saved.task_config))
    assert type(cfg) is usis.Config and (cfg.ngf, cfg.z_dim, cfg.wavelet_channels) == (4, 16, 8)
