"""stylegan2-ada network pickles: the restricted unpickler refuses code, the converted networks reproduce the official
outputs (fixture `stylegan2-ada`), and the model folder samples through the CLI."""
from __future__ import annotations

import json
import os
import pickle
import sys
import types

import pytest
import torch
from safetensors.torch import load_file

from semsynth.cli.main import main
from semsynth.convert import safe_pickle, stylegan2_ada
from semsynth.models.io import from_pretrained
from tests.convert.fixtures import fixture_case

CASE = "stylegan2-ada"


@pytest.fixture(scope="module")
def case():
    return fixture_case(CASE)


@pytest.fixture(scope="module")
def converted(case, tmp_path_factory):
    return stylegan2_ada.convert(case / "network-snapshot.pkl", tmp_path_factory.mktemp("sg2") / "model")


def buffers(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


# ------------------------------------------------------------------------------------------------- parity
def test_converted_networks_reproduce_the_official_outputs(case, converted):
    io = load_file(str(case / "io.safetensors"))
    G, D = from_pretrained(converted), from_pretrained(converted / stylegan2_ada.DISCRIMINATOR_FOLDER)
    assert not G.training and not D.training
    before = buffers(G)
    z = io["z"]
    with torch.no_grad():
        mine = {"ws_psi1": G.mapping(z, truncation_psi=1), "ws_psi07": G.mapping(z, truncation_psi=0.7),
                "img_psi1": G(z, truncation_psi=1, noise_mode="const"),
                "img_psi07": G(z, truncation_psi=0.7, noise_mode="const"),
                "d_logits": D(io["d_img"])}
    for name, out in mine.items():
        ref = io[name]
        err, scale = float((out - ref).abs().max()), max(1.0, float(ref.abs().max()))
        print(f"{CASE} {name}: max abs error {err:.3g} (max |ref| {float(ref.abs().max()):.3g})")
        assert out.dtype == torch.float32 and out.shape == ref.shape
        assert err <= 1e-4 * scale, name
    after = buffers(G)
    assert all(torch.equal(before[k], after[k]) for k in before), "calling G in eval changed its buffers"


def test_the_pickle_reads_as_data_with_the_official_names(case):
    snapshot = safe_pickle.load(case / "network-snapshot.pkl")
    meta = json.loads((case / "case.json").read_text())
    assert set(snapshot) == {"training_set_kwargs", "G", "D", "G_ema", "augment_pipe"}
    for net in ("G", "D", "G_ema"):
        assert "module_src" not in snapshot[net]
        tensors = safe_pickle.module_state_dict(snapshot[net])
        assert len(tensors) == meta["networks"][net]["state_dict_entries"]
    tensors = safe_pickle.module_state_dict(snapshot["G_ema"])
    assert {"mapping.fc0.weight", "mapping.w_avg", "synthesis.b64.conv1.affine.bias",
            "synthesis.b8.conv0.noise_const"} <= set(tensors)
    kwargs = safe_pickle.init_kwargs(snapshot["G_ema"])
    assert kwargs["synthesis_kwargs"] == meta["G_kwargs"]["synthesis_kwargs"] and kwargs["c_dim"] == 0


def test_model_folder_records_the_task_and_where_it_came_from(case, converted):
    meta = json.loads((converted / "config.json").read_text())
    assert meta["task"] == "image" and meta["size"] == [64, 64] and meta["config"]["conv_clamp"] == 256
    assert meta["converted_from"]["sha256"] == json.loads((case / "case.json").read_text())["files"][
        "network-snapshot.pkl"]["sha256"]
    D = from_pretrained(converted / stylegan2_ada.DISCRIMINATOR_FOLDER)
    assert D.cfg.mbstd_group == 4 and D.cfg.resolution == (64, 64)


def test_noise_const_and_w_avg_come_from_the_pickle(case, converted):
    tensors = safe_pickle.module_state_dict(safe_pickle.load(case / "network-snapshot.pkl")["G_ema"])
    G = from_pretrained(converted)
    torch.testing.assert_close(G.mapping.w_avg, tensors["mapping.w_avg"], rtol=0, atol=0)
    noise_const = G.synthesis.blocks[4].conv0.noise.noise_const
    torch.testing.assert_close(noise_const, tensors["synthesis.b64.conv0.noise_const"], rtol=0, atol=0)


def test_sample_writes_images_from_the_converted_folder(case, tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["convert", "stylegan2-ada", str(case / "network-snapshot.pkl"), "--out", str(out)]) == 0
    assert main(["sample", "--run", str(out), "--n", "4", "--out", str(tmp_path / "samples"), "--device", "cpu"]) == 0
    written = sorted(p.name for p in (tmp_path / "samples").glob("*.png"))
    assert written == ["00000.png", "00001.png", "00002.png", "00003.png", "grid.png"]


def test_converter_refuses_flags_that_do_not_apply(case, tmp_path):
    pkl = case / "network-snapshot.pkl"
    with pytest.raises(ValueError, match="--size 32x32"):
        stylegan2_ada.convert(pkl, tmp_path / "a", size=(32, 32))
    with pytest.raises(ValueError, match="--class-set"):
        stylegan2_ada.convert(pkl, tmp_path / "b", class_set="cityscapes")
    with pytest.raises(FileNotFoundError, match="nope.pkl"):
        stylegan2_ada.convert(tmp_path / "nope.pkl", tmp_path / "c")


# ------------------------------------------------------------------------------------------------- refusals
G_KWARGS = {"z_dim": 8, "w_dim": 8, "c_dim": 0, "img_resolution": 16, "img_channels": 3,
            "mapping_kwargs": {"num_layers": 2}, "synthesis_kwargs": {"channel_base": 64, "channel_max": 8}}


def test_generator_config_follows_the_official_defaults_and_refuses_what_differs():
    cfg = stylegan2_ada.generator_config(G_KWARGS, "G")
    assert (cfg.mapping_lr_mul, cfg.w_avg_beta, cfg.conv_clamp, cfg.resolution) == (0.01, 0.995, 0.0, (16, 16))
    for field, value, named in [("c_dim", 10, "c_dim"),
                                ("synthesis_kwargs", {"architecture": "resnet"}, "synthesis_kwargs.architecture"),
                                ("synthesis_kwargs", {"resample_filter": [1, 1]}, "synthesis_kwargs.resample_filter"),
                                ("mapping_kwargs", {"w_avg_beta": None}, "w_avg_beta")]:
        with pytest.raises(ValueError, match=named):
            stylegan2_ada.generator_config({**G_KWARGS, field: value}, "G")
    with pytest.raises(ValueError, match="'z_dim' is missing"):
        stylegan2_ada.generator_config({k: v for k, v in G_KWARGS.items() if k != "z_dim"}, "G")
    with pytest.raises(ValueError, match="architecture"):
        stylegan2_ada.discriminator_config({**G_KWARGS, "architecture": "skip"}, "D")


class RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class RunsExec:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('ran')",)


@pytest.mark.parametrize("payload, refused", [(RunsShell, "posix.system"), (RunsExec, "builtins.exec")])
def test_cli_refuses_a_code_running_pickle_without_running_it(tmp_path, capsys, payload, refused):
    marker, evil = tmp_path / "payload-ran", tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"G_ema": payload(marker)}))
    assert main(["convert", "stylegan2-ada", str(evil), "--out", str(tmp_path / "X")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    print(err)
    assert len(err) == 1 and refused in err[0] and str(evil) in err[0]
    assert not marker.exists() and not (tmp_path / "X").exists()


def test_unpickler_refuses_every_global_outside_the_list(tmp_path):
    for obj, name in [(print, "builtins.print"), (types.SimpleNamespace(a=1), "types.SimpleNamespace"),
                      (torch.nn.Linear(1, 1), "torch.nn.modules.linear.Linear")]:
        with pytest.raises(safe_pickle.RefusedGlobal, match=name):
            safe_pickle.SafeUnpickler(__import__("io").BytesIO(pickle.dumps(obj))).load()


@pytest.fixture
def official_persistence(monkeypatch):
    """A stand-in for `torch_utils.persistence` whose reconstructor runs `module_src` as the real one does, so a
    pickle made with it names the same global and would run the source under a standard unpickler."""
    package, module = types.ModuleType("torch_utils"), types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):
        exec(meta["module_src"], {})  # noqa: S102 - what the official reconstructor does; must never be reached
        return meta

    _reconstruct_persistent_obj.__module__ = module.__name__
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    module._reconstruct_persistent_obj = _reconstruct_persistent_obj
    package.persistence = module
    monkeypatch.setitem(sys.modules, "torch_utils", package)
    monkeypatch.setitem(sys.modules, "torch_utils.persistence", module)
    return _reconstruct_persistent_obj


class Persistent:
    """Pickles as `torch_utils.persistence._reconstruct_persistent_obj(meta)`, as persistent_class does."""

    def __init__(self, reconstruct, meta):
        self.reconstruct, self.meta = reconstruct, meta

    def __reduce__(self):
        return self.reconstruct, (self.meta,)


def with_module_src(obj, reconstruct, src: str):
    """The safely read snapshot pickled again, every network carrying `src` as its module source."""
    if safe_pickle.is_module(obj):
        state = {k: with_module_src(v, reconstruct, src) for k, v in obj["state"].items()}
        return Persistent(reconstruct, {**obj, "module_src": src, "state": state})
    if isinstance(obj, dict):
        return type(obj)((k, with_module_src(v, reconstruct, src)) for k, v in obj.items())
    return obj


def test_module_src_is_never_run_and_the_snapshot_still_converts(case, tmp_path, official_persistence):
    marker = tmp_path / "module-src-ran"
    snapshot = safe_pickle.load(case / "network-snapshot.pkl")
    evil = tmp_path / "network-snapshot.pkl"
    src = f"open({str(marker)!r}, 'w').write('ran')"
    evil.write_bytes(pickle.dumps(with_module_src(snapshot, official_persistence, src)))
    control = tmp_path / "control-ran"  # the payload is real: the standard unpickler runs it
    pickle.loads(pickle.dumps(Persistent(official_persistence, {"module_src": f"open({str(control)!r}, 'w')"})))
    assert control.exists()
    assert main(["convert", "stylegan2-ada", str(evil), "--out", str(tmp_path / "model")]) == 0
    assert not marker.exists()
    G = from_pretrained(tmp_path / "model")
    io = load_file(str(case / "io.safetensors"))
    with torch.no_grad():
        torch.testing.assert_close(G(io["z"], noise_mode="const"), io["img_psi1"], rtol=0, atol=1e-4 * 8.5)


def test_module_src_is_never_run_without_the_fixture(tmp_path, official_persistence):
    marker = tmp_path / "module-src-ran"
    meta = {"type": "class", "version": 6, "module_src": f"open({str(marker)!r}, 'w').write('ran')",
            "class_name": "Generator", "state": {"_init_kwargs": {"z_dim": 4}}}
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"G_ema": Persistent(official_persistence, meta)}))
    loaded = safe_pickle.load(evil)
    assert loaded["G_ema"]["class_name"] == "Generator" and "module_src" not in loaded["G_ema"]
    assert main(["convert", "stylegan2-ada", str(evil), "--out", str(tmp_path / "X")]) != 0  # too little to build
    assert not marker.exists()
