import torch

from semsynth.train.ema import ema_beta, update_ema


def test_beta_by_hand():
    # half-life 10 kimg, batch 4: 10_000 images halve the old weight -> beta = 0.5 ** (4 / 10_000)
    assert ema_beta(4, 10**6, 10.0, None) == 0.5 ** (4 / 10_000)
    # ramp-up 0.05 at 100 images: ema_nimg = min(10_000, 5) = 5 -> beta = 0.5 ** 0.8
    assert ema_beta(4, 100, 10.0, 0.05) == 0.5 ** 0.8
    assert ema_beta(4, 0, 10.0, 0.05) == 0.0          # first step: copy the source
    assert ema_beta(4, 10**9, 10.0, 0.05) == 0.5 ** (4 / 10_000)


def test_update_lerps_params_and_copies_buffers():
    torch.manual_seed(0)
    src, ema = torch.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        src.weight.copy_(torch.tensor([1.0, 2.0, 3.0]))
        ema.weight.copy_(torch.tensor([5.0, 6.0, 7.0]))
        src.running_mean.copy_(torch.tensor([0.5, 0.5, 0.5]))
    update_ema(ema, src, 0.75)
    assert torch.allclose(ema.weight, torch.tensor([4.0, 5.0, 6.0]))  # 0.75 * 5 + 0.25 * 1 = 4, ...
    assert torch.equal(ema.running_mean, src.running_mean)


def test_engine_ema_matches_hand_computation(toy, tmp_path):
    from safetensors.torch import load_file

    from semsynth.train.config import build_run_config
    from semsynth.train.engine import build_task, run_training
    run = build_run_config("toy", data="toy", size=(16, 32), out=tmp_path / "run",
                           train_overrides={"total_steps": 1, "ema_halflife_kimg": 0.01, "ema_rampup": None})
    g0 = {k: v.clone() for k, v in build_task(run)[3].nets["G"].state_dict().items()}  # the same seeded init
    run_training(run)
    folder = tmp_path / "run" / "checkpoints" / "00000001"
    g1, g_ema = load_file(str(folder / "G.safetensors")), load_file(str(folder / "G_ema.safetensors"))
    beta = 0.5 ** (4 / 10)  # batch 4, half-life 10 images
    for k in g0:
        assert not torch.equal(g1[k], g0[k]), k
        torch.testing.assert_close(g_ema[k], g1[k] * (1 - beta) + g0[k] * beta, rtol=1e-6, atol=1e-7)
