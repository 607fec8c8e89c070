"""semsynth's spectral norm against torch's two: same training update, same eval outputs, same state-dict names,
buffers written in place, and a backward that survives a double backward (gradient penalties)."""
import torch
from torch import nn

from semsynth.models.spectral_norm import SpectralNorm, _DivideBySigma, has_spectral_norm, raw_weight, spectral_norm


def _conv(seed: int = 0) -> nn.Conv2d:
    torch.manual_seed(seed)
    return nn.Conv2d(6, 5, 3, padding=1)


def test_a_train_step_then_eval_matches_the_hook_based_spectral_norm():
    hook = torch.nn.utils.spectral_norm(_conv())
    mine = spectral_norm(_conv())
    with torch.no_grad():  # start both from the same u, v
        mine.parametrizations.weight[0]._u.copy_(hook.weight_u)
        mine.parametrizations.weight[0]._v.copy_(hook.weight_v)
    x = torch.randn(2, 6, 8, 8)
    for net, weight in ((hook, hook.weight_orig), (mine, raw_weight(mine))):
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        net(x).square().mean().backward()  # one power iteration, then the gradient through sigma
        opt.step()
    torch.testing.assert_close(raw_weight(mine), hook.weight_orig, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(mine.parametrizations.weight[0]._u, hook.weight_u, rtol=1e-6, atol=1e-7)
    hook.eval(), mine.eval()
    u = hook.weight_u.clone()
    torch.testing.assert_close(mine(x), hook(x), rtol=1e-6, atol=1e-6)
    assert torch.equal(mine.parametrizations.weight[0]._u, u)  # eval: no iteration


def test_eval_uses_the_stored_u_and_v_exactly():
    mine = spectral_norm(_conv()).eval()
    sn = mine.parametrizations.weight[0]
    W = raw_weight(mine)
    expected = W / torch.dot(sn._u, W.flatten(1) @ sn._v)
    assert torch.equal(mine.weight, expected)


def test_checkpoints_of_torch_parametrization_load_unchanged():
    old = torch.nn.utils.parametrizations.spectral_norm(_conv(1))
    old(torch.randn(1, 6, 4, 4))
    mine = spectral_norm(_conv(2))
    assert list(mine.state_dict()) == list(old.state_dict())
    assert [p.shape for p in mine.parameters()] == [p.shape for p in old.parameters()]  # optimizer-state order
    mine.load_state_dict(old.state_dict(), strict=True)
    old.eval(), mine.eval()
    x = torch.randn(1, 6, 4, 4)
    torch.testing.assert_close(mine(x), old(x), rtol=1e-6, atol=1e-6)


def test_power_iteration_writes_into_the_buffers():
    mine = spectral_norm(_conv())
    sn = mine.parametrizations.weight[0]
    ptrs, before = (sn._u.data_ptr(), sn._v.data_ptr()), sn._u.clone()
    mine(torch.randn(1, 6, 4, 4)).sum().backward()
    assert (sn._u.data_ptr(), sn._v.data_ptr()) == ptrs
    assert not torch.equal(sn._u, before)  # one iteration ran


def test_backward_is_exact_and_twice_differentiable():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(4, 3, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)
    u = nn.functional.normalize(torch.randn(4, dtype=torch.float64, generator=g), dim=0)
    v = nn.functional.normalize(torch.randn(27, dtype=torch.float64, generator=g), dim=0)
    fn = lambda w: _DivideBySigma.apply(w, u, v)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (W,))
    assert torch.autograd.gradgradcheck(fn, (W,))


def test_builds_on_the_meta_device_and_is_recognised():
    with torch.device("meta"):
        conv = spectral_norm(nn.Conv2d(3, 4, 3))
    assert conv.parametrizations.weight[0]._u.is_meta and has_spectral_norm(conv)
    assert not has_spectral_norm(nn.Conv2d(3, 4, 3))
    assert isinstance(conv.parametrizations.weight[0], SpectralNorm)


def test_bf16_autocast_keeps_sigma_in_float32():
    mine = spectral_norm(_conv()).eval()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        w = mine.weight
    assert w.dtype == torch.float32
