"""OASIS and USIS checkpoints in: the converted networks reproduce the official outputs of the fixtures
(`../shared/fixtures/official/{oasis,usis}`), load as ordinary model folders, and bad inputs fail naming the file."""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from semsynth.cli.main import main
from semsynth.convert import oasis, usis
from semsynth.models.io import from_pretrained
from semsynth.inference.pipeline import Pipeline
from tests.convert.fixtures import fixture_case

SIZE = (64, 128)  # the fixtures' image size; the official dataloader sets it, so opt.txt does not record it
CONVERTERS = {"oasis": oasis.convert, "usis": usis.convert}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """case -> (fixture folder, converted model folder), each case converted once."""
    done = {}

    def get(case: str):
        if case not in done:
            folder = fixture_case(case)
            done[case] = folder, CONVERTERS[case](folder, tmp_path_factory.mktemp(case) / "model", size=SIZE)
        return done[case]
    return get


def assert_parity(case: str, name: str, mine: torch.Tensor, ref: torch.Tensor) -> None:
    """The issue's check: max |mine - ref| <= 1e-4 * max(1, max |ref|), in float32."""
    assert mine.shape == ref.shape, (name, mine.shape, ref.shape)
    err = (mine - ref).abs().max().item()
    tol = 1e-4 * max(1.0, ref.abs().max().item())
    print(f"{case} {name}: max abs error {err:.3e} (tolerance {tol:.1e})")
    assert err <= tol, f"{case} {name}: max abs error {err} > {tol}"


def generator_outputs(case, folder, out):
    io = load_file(str(folder / "io.safetensors"))
    semantics = io["input_semantics"].float()  # stored as uint8 0/1
    seed = json.loads((folder / "case.json").read_text())["seeds"]["z"]
    with torch.no_grad():
        for name, model_dir in (("out_EMA", out), ("out_G", out / oasis.RAW_GENERATOR_FOLDER)):
            G = from_pretrained(model_dir)
            assert_parity(case, name, G(semantics, io["z"]), io[name])
            torch.manual_seed(seed)  # as the fixture's calls: G draws z = torch.randn(N, z_dim) itself
            assert_parity(case, f"{name} (z drawn)", G(semantics), io[name])
    return io


def test_oasis_parity(converted):
    folder, out = converted("oasis")
    io = generator_outputs("oasis", folder, out)
    D = from_pretrained(out / oasis.DISCRIMINATOR_FOLDER)
    with torch.no_grad():
        assert_parity("oasis", "d_out", D(io["image"]), io["d_out"])


def test_usis_parity(converted):
    folder, out = converted("usis")
    io = generator_outputs("usis", folder, out)
    Du = from_pretrained(out / oasis.DISCRIMINATOR_FOLDER)
    with torch.no_grad():
        assert_parity("usis", "du_logits", Du(io["image"])[:, None], io["du_logits"])  # official [N, 1]
        features = Du.features(io["image"])
        assert len(features) == len([k for k in io if k.startswith("du_feat")])
        for i, feature in enumerate(features):
            assert_parity("usis", f"du_feat{i}", feature, io[f"du_feat{i}"])


@pytest.mark.parametrize("case", ["oasis", "usis"])
def test_converted_folders_load_in_eval_and_calls_keep_buffers(converted, case):
    folder, out = converted(case)
    meta = json.loads((out / "config.json").read_text())
    assert meta["task"] == "sis" and meta["size"] == list(SIZE) and meta["converted_from"]["network"] == "EMA"
    assert meta["classes"]["names"] == [f"class {i}" for i in range(35)] and meta["use_dontcare"] is False
    io = load_file(str(folder / "io.safetensors"))
    for sub in ("", oasis.RAW_GENERATOR_FOLDER, oasis.DISCRIMINATOR_FOLDER):
        model = from_pretrained(out / sub)
        assert not model.training
        before = {k: v.clone() for k, v in model.state_dict().items()}
        x = io["image"] if sub == oasis.DISCRIMINATOR_FOLDER else io["input_semantics"].float()
        with torch.no_grad():
            model(x)
        after = model.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before), f"{case}/{sub}: a call changed a buffer"


def test_generate_on_converted_oasis(converted, tmp_path):
    _, out = converted("oasis")
    ids = (np.arange(SIZE[0] * SIZE[1]).reshape(SIZE) // 300 % 35).astype(np.uint8)  # every class id 0..34
    Image.fromarray(ids).save(tmp_path / "map.png")
    rc = main(["generate", "--sis", str(out), "--layouts", str(tmp_path / "map.png"), "--out", str(tmp_path / "gen"),
               "--device", "cpu"])
    assert rc == 0
    photo = np.asarray(Image.open(tmp_path / "gen" / "00000_photo0.png"))
    assert photo.shape == (*SIZE, 3) and photo.std() > 0


@pytest.mark.parametrize("case", ["oasis", "usis"])
def test_pipeline_builds_the_official_input_from_ids(converted, case):
    """The folder's class set makes Pipeline turn the fixture's label ids into exactly the official one-hot."""
    folder, out = converted(case)
    io = load_file(str(folder / "io.safetensors"))
    pipe = Pipeline.from_pretrained(None, out)
    assert torch.equal(pipe.segmap(io["label_map"][:, 0]), io["input_semantics"].float())
    photos = pipe.synthesize(io["label_map"][:, 0], seed=3).photos
    assert photos.shape == (2, 1, 3, *SIZE) and photos.dtype == torch.uint8


def test_cli_convert_usis(tmp_path, capsys):
    folder = fixture_case("usis")
    assert main(["convert", "usis", str(folder), "--out", str(tmp_path / "m"), "--size", "64x128"]) == 0
    assert type(from_pretrained(tmp_path / "m")).__name__ == "WaveletSPADEGenerator"
    assert "wrote" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------- options and bad input
def checkpoint_copy(case: str, tmp_path, opt_extra: str = "", drop: tuple[str, ...] = (), opt: bool = True):
    """A checkpoint folder in tmp_path: links to the fixture's models/*.pth (minus `drop`), its opt.txt + lines."""
    src = fixture_case(case)
    dst = tmp_path / case
    (dst / "models").mkdir(parents=True)
    for pth in (src / "models").glob("*.pth"):
        if pth.name not in drop:
            (dst / "models" / pth.name).symlink_to(pth)
    if opt:
        (dst / "opt.txt").write_text((src / "opt.txt").read_text() + opt_extra)
    return dst


def test_size_comes_from_opt_txt_when_recorded(tmp_path):
    folder = checkpoint_copy("oasis", tmp_path, "               crop_size: 128\n            aspect_ratio: 2.0\n")
    out = oasis.convert(folder, tmp_path / "m")
    assert json.loads((out / "config.json").read_text())["size"] == list(SIZE)


@pytest.mark.parametrize("case", ["oasis", "usis"])
def test_missing_size_names_the_options(case, tmp_path):
    folder = checkpoint_copy(case, tmp_path)
    with pytest.raises(ValueError, match=r"opt\.txt.*'crop_size', 'aspect_ratio'.*--size"):
        CONVERTERS[case](folder, tmp_path / "m")


def test_missing_opt_txt_is_named(tmp_path, capsys):
    folder = checkpoint_copy("oasis", tmp_path, opt=False)
    assert main(["convert", "oasis", str(folder), "--out", str(tmp_path / "m"), "--size", "64x128"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("semsynth: error:") and str(folder / "opt.txt") in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("case", ["oasis", "usis"])
def test_missing_generator_checkpoint_is_named(case, tmp_path):
    folder = checkpoint_copy(case, tmp_path, drop=("latest_G.pth",))
    with pytest.raises(FileNotFoundError, match=r"models/latest_G\.pth is missing"):
        CONVERTERS[case](folder, tmp_path / "m", size=SIZE)


def test_other_epoch_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"models/best_G\.pth"):
        oasis.convert(fixture_case("oasis"), tmp_path / "m", size=SIZE, which_epoch="best")


def test_width_mismatch_names_the_tensor(tmp_path):
    folder = checkpoint_copy("oasis", tmp_path)
    opt = folder / "opt.txt"
    opt.write_text(opt.read_text().replace("channels_G: 2 ", "channels_G: 4 "))
    with pytest.raises(ValueError, match=r"latest_EMA\.pth: tensor 'fc\.weight' has shape \[32, 99, 3, 3\]"):
        oasis.convert(folder, tmp_path / "m", size=SIZE)


@pytest.mark.parametrize("case, net, name", [("oasis", "D", "body_up.2.conv2.1.bias"),
                                             ("usis", "Du", "convs.1.conv1.0.weight"),
                                             ("usis", "EMA", "body.3.norm_1.mlp_beta.weight")])
def test_bad_tensor_shape_is_named(case, net, name, tmp_path):
    folder = checkpoint_copy(case, tmp_path, drop=(f"latest_{net}.pth",))
    state = torch.load(fixture_case(case) / "models" / f"latest_{net}.pth", weights_only=True)
    state[name] = state[name][:1]
    torch.save(state, folder / "models" / f"latest_{net}.pth")
    with pytest.raises(ValueError, match=rf"latest_{net}\.pth: tensor '{name}' has shape"):
        CONVERTERS[case](folder, tmp_path / "m", size=SIZE)


def test_changed_fixed_filter_is_refused(tmp_path):
    folder = checkpoint_copy("usis", tmp_path, drop=("latest_Du.pth",))
    state = torch.load(fixture_case("usis") / "models" / "latest_Du.pth", weights_only=True)
    state["dwt.lh"] = -state["dwt.lh"]
    torch.save(state, folder / "models" / "latest_Du.pth")
    with pytest.raises(ValueError, match=r"latest_Du\.pth: fixed filter 'dwt\.lh'"):
        usis.convert(folder, tmp_path / "m", size=SIZE)


def test_class_set_must_fit_the_label_channels(tmp_path):
    with pytest.raises(ValueError, match="19 classes.*35 label channels"):
        oasis.convert(fixture_case("oasis"), tmp_path / "m", size=SIZE, class_set="cityscapes")


def test_pickle_in_place_of_a_checkpoint_is_refused(tmp_path):
    folder = checkpoint_copy("oasis", tmp_path, drop=("latest_G.pth",))
    torch.save({"opt": argparse.Namespace(z_dim=64)}, folder / "models" / "latest_G.pth")  # a pickled object
    with pytest.raises(ValueError, match=r"latest_G\.pth: not a readable tensors-only state dict"):
        oasis.convert(folder, tmp_path / "m", size=SIZE)
