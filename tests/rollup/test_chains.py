"""Durations on dependency chains: an item in progress takes what is left of its life."""

from __future__ import annotations

import numpy as np
import pytest

from rollup.chains import durations, median_remaining
from tests.rollup.builders import ref

CYCLE_TIMES = [float(d) for d in range(1, 21)]
"""Twenty finished items that took 1 to 20 days."""


@pytest.mark.parametrize(
    ("age", "low", "high"),
    [
        pytest.param(0.0, 1.0, 20.0, id="not-started-draws-any-cycle-time"),
        pytest.param(10.0, 0.0, 10.0, id="ten-days-in-draws-what-is-left-of-longer-ones"),
        pytest.param(19.5, 0.0, 5.0, id="older-than-nearly-all-runs-on-at-its-age"),
    ],
)
def test_an_item_draws_its_remaining_life_at_its_age(age: float, low: float, high: float) -> None:
    drawn = durations([ref("A-1")], CYCLE_TIMES, trials=4_000, seed=1, ages={ref("A-1"): age})[0]
    assert low <= drawn.min()
    assert drawn.max() <= high


def test_an_old_item_is_not_taken_for_nearly_done() -> None:
    # Twelve days in, of work that took 1 to 20: it is one of the long ones, with a median
    # of four more days to go (not a drawn 1–20 less twelve, mostly zero).
    drawn = durations([ref("A-1")], CYCLE_TIMES, trials=8_000, seed=2, ages={ref("A-1"): 12.0})
    assert float(np.median(drawn)) == pytest.approx(4.5, abs=1.0)
    assert float(np.mean(drawn == 0)) < 0.2


def test_median_remaining_shrinks_less_than_the_age_grows() -> None:
    remaining = median_remaining(CYCLE_TIMES)
    assert remaining(0.0) == pytest.approx(10.5)
    assert remaining(12.0) == pytest.approx(4.5)
    assert remaining(30.0) > 0
