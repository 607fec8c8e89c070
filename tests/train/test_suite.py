"""The suite's sharing of a time budget (semsynth/train/suite.py)."""
import pytest

from semsynth.train.suite import SUITE, run_minutes


def test_each_run_gets_its_share_of_the_time_left():
    shares = [s[3] for s in SUITE]
    assert sum(shares) == pytest.approx(1.0)
    assert run_minutes(10.0, shares) == pytest.approx(10.0 * shares[0])
    assert run_minutes(6.0, [0.2, 0.2, 0.1]) == pytest.approx(2.4)
    assert run_minutes(3.0, [0.1]) == pytest.approx(3.0)  # the last run takes whatever is left


def test_leftover_and_overrun_pass_on_to_the_next_runs():
    # a 10-minute budget of shares 0.5 / 0.25 / 0.25: the first run ended after 3 of its 5 minutes
    assert run_minutes(7.0, [0.25, 0.25]) == pytest.approx(3.5)
    # it overran to 6 minutes: the others share the 4 left
    assert run_minutes(4.0, [0.25, 0.25]) == pytest.approx(2.0)


def test_an_overspent_suite_still_gives_every_run_a_moment():
    assert run_minutes(-1.0, [0.3, 0.1]) == pytest.approx(0.01)


def test_the_bundle_recipe_shares_replace_the_suite_defaults(monkeypatch, tmp_path):
    """train_suite(shares=...) gives each run its recipe share of the time left (the runs are stubbed, so no time
    passes and each run's share of what is left is its share among the runs still to train)."""
    from semsynth.pretrained import recipe
    from semsynth.train import suite
    budgets = {}
    monkeypatch.setattr(suite, "build_run_config", lambda task, data, **k: (
        budgets.__setitem__(k["out"], k["train_overrides"]["time_limit_minutes"]) or k["out"]))
    monkeypatch.setattr(suite, "run_training", lambda cfg, resume: cfg)
    suite.train_suite("synthetic-streets", tmp_path, minutes=10.0, shares=recipe.BUNDLE_SHARES)
    got = {name: budgets[str(tmp_path / name)] for name, *_ in SUITE}
    assert sum(recipe.BUNDLE_SHARES.values()) == pytest.approx(1.0)
    shares = [recipe.BUNDLE_SHARES[name] for name, *_ in SUITE]
    expected = {name: 10.0 * shares[i] / sum(shares[i:]) for i, (name, *_) in enumerate(SUITE)}
    assert got == pytest.approx(expected, abs=1e-3)
    assert got["layout"] == pytest.approx(3.5, abs=1e-3)  # 0.35 of 10, not the suite's default 0.25
