"""VGG-19 perceptual loss: local-file loading (explicit path, env, torch hub cache with hash check), clear
errors, and the loss itself on a randomly initialised VGG; feature matching and KL."""
from __future__ import annotations

import hashlib

import pytest
import torch
import torch.nn.functional as F
from torchvision.models.vgg import cfgs, make_layers

from semsynth.losses import perceptual
from semsynth.losses.matching import feature_matching, kl_divergence
from semsynth.losses.perceptual import VGG19_FILE, VGGLoss, find_vgg19_weights, load_vgg19_features


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    """A randomly initialised VGG-19 in torchvision's key layout (features only: the classifier is unused)."""
    torch.manual_seed(0)
    features = make_layers(cfgs["E"])
    path = tmp_path_factory.mktemp("vgg") / "random_vgg19.pth"
    # half precision keeps the file small; loading casts to the fp32 parameters
    torch.save({f"features.{k}": v.half() for k, v in features.state_dict().items()}, path)
    features.load_state_dict({k: v.half().float() for k, v in features.state_dict().items()})
    return path, features


@pytest.fixture
def no_vgg_anywhere(monkeypatch, tmp_path):
    monkeypatch.delenv(perceptual.ENV_VAR, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))


def test_missing_weights_say_which_file_where_and_how_to_skip(no_vgg_anywhere, tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        find_vgg19_weights()
    msg = str(err.value)
    assert VGG19_FILE in msg and str(tmp_path / "torch_home" / "hub" / "checkpoints") in msg
    assert "--no-use-vgg" in msg and perceptual.ENV_VAR in msg
    with pytest.raises(FileNotFoundError, match="does_not_exist.pth.*--no-use-vgg"):
        find_vgg19_weights(tmp_path / "does_not_exist.pth")


def test_explicit_path_loads_the_given_weights(vgg_file):
    path, features = vgg_file
    loaded = load_vgg19_features(path)
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    x = torch.randn(1, 3, 32, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), features.eval()(x))


def test_env_variable_and_hub_cache_are_found(vgg_file, no_vgg_anywhere, monkeypatch, tmp_path):
    path, _ = vgg_file
    monkeypatch.setenv(perceptual.ENV_VAR, str(path))
    assert find_vgg19_weights() == path
    monkeypatch.delenv(perceptual.ENV_VAR)
    cached = tmp_path / "torch_home" / "hub" / "checkpoints" / VGG19_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(path.read_bytes())
    assert find_vgg19_weights() == cached
    # random weights under torchvision's name: the SHA-256 does not start with dcbb9e9d
    with pytest.raises(ValueError, match="dcbb9e9d"):
        load_vgg19_features()


def test_hash_in_file_name_is_checked(vgg_file, tmp_path):
    path, _ = vgg_file
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    good = tmp_path / f"vgg19-{digest[:8]}.pth"
    good.write_bytes(path.read_bytes())
    load_vgg19_features(good)
    bad = tmp_path / f"vgg19-{'0' if digest[0] != '0' else '1'}{digest[1:8]}.pth"
    bad.write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="SHA-256"):
        load_vgg19_features(bad)


def test_wrong_state_dict_is_rejected(tmp_path):
    path = tmp_path / "not_vgg.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, path)
    with pytest.raises(ValueError, match="not a VGG-19 state dict"):
        load_vgg19_features(path)


def test_vgg_loss_values_and_gradient(vgg_file):
    path, features = vgg_file
    loss_fn = VGGLoss(path).train()
    assert not loss_fn.training  # stays in eval
    torch.manual_seed(1)
    real = torch.rand(2, 3, 32, 64) * 2 - 1
    fake = (torch.rand(2, 3, 32, 64) * 2 - 1).requires_grad_(True)
    assert loss_fn(real, real).item() == 0
    loss = loss_fn(fake, real)
    # the same sum computed by hand from the original feature stack
    expected, x, y = 0.0, fake.detach(), real
    features.eval()
    for w, (a, b) in zip([1 / 32, 1 / 16, 1 / 8, 1 / 4, 1], [(0, 2), (2, 7), (7, 12), (12, 21), (21, 30)]):
        with torch.no_grad():
            x, y = features[a:b](x), features[a:b](y)
        expected += w * F.l1_loss(x, y).item()
    print(f"VGG loss {loss.item():.6f}, by hand {expected:.6f}")
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="two photos"):
        loss_fn(fake[:1], real)


# ------------------------------------------------------------------------------------ feature matching, KL
def test_feature_matching_hand_made_values():
    ones = torch.ones(1, 2, 4, 4)
    zeros = torch.zeros(1, 2, 4, 4)
    logits = torch.full((1, 1, 3, 3), 5.0)
    fake = [[ones, 2 * ones, logits], [ones, ones, logits]]   # 2 scales, 2 feature layers + logits
    real = [[zeros, zeros, -logits], [ones, zeros, -logits]]
    # per scale: sum of layer L1s, divided by the number of scales; logits excluded
    assert feature_matching(fake, real).item() == pytest.approx(((1 + 2) + (0 + 1)) / 2)
    assert feature_matching(real, real).item() == 0
    with pytest.raises(ValueError, match="scales"):
        feature_matching(fake, real[:1])


def test_feature_matching_does_not_push_real_features():
    fake = [[torch.randn(1, 2, 4, 4, requires_grad=True), torch.randn(1, 1, 2, 2)]]
    real = [[torch.randn(1, 2, 4, 4, requires_grad=True), torch.randn(1, 1, 2, 2)]]
    feature_matching(fake, real).backward()
    assert fake[0][0].grad is not None and real[0][0].grad is None


def test_kl_divergence_is_a_sum():
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0
    # KL(N(1, 1) || N(0, 1)) = 0.5 per dimension, summed over 3 x 4
    assert kl_divergence(torch.ones(3, 4), torch.zeros(3, 4)).item() == pytest.approx(6.0)
    # KL(N(0, e) || N(0, 1)) = 0.5 (e - 1 - 1) per dimension
    assert kl_divergence(torch.zeros(1, 2), torch.ones(1, 2)).item() == pytest.approx(torch.e - 2)
