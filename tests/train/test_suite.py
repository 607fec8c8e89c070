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
