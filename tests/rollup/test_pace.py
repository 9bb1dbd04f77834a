"""The pace posterior: as wide as the evidence is thin, aware of lumps and of change."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rollup import pace
from rollup.pace import dispersion, estimate, finish_weeks, gamma_variates, size_dispersion

RNG = np.random.default_rng(11)
N = 40_000
NORMAL, UNIFORM, CHOICE = RNG.standard_normal(N), RNG.random(N), RNG.random(N)


def _spread(sizes: list[float], exposure: list[float] | None = None) -> float:
    """Relative spread (sd over mean) of the paces the posterior draws."""
    drawn = estimate(sizes, exposure or [1.0] * len(sizes)).draw(NORMAL, UNIFORM, CHOICE)
    return float(drawn.std() / drawn.mean())


@pytest.mark.parametrize(
    ("sizes", "low", "high"),
    [
        pytest.param([2.0] * 4, 0.28, 0.40, id="8-items-in-4-weeks"),
        pytest.param([8.0] * 12 + [9.0], 0.08, 0.16, id="105-items-in-13-weeks"),
    ],
)
def test_the_pace_is_as_uncertain_as_the_evidence_is_thin(
    sizes: list[float], low: float, high: float
) -> None:
    assert low <= _spread(sizes) <= high


def test_partial_weeks_count_as_the_time_they_cover() -> None:
    # 21 items in four windows of which the oldest saw two days: 21 over 3 2/7 weeks.
    found = estimate([1.0, 7.0, 6.0, 7.0], [2 / 7, 1.0, 1.0, 1.0])
    assert found.observed_rate == pytest.approx(21 / (3 + 2 / 7))
    assert found.mean == pytest.approx(21 / (3 + 2 / 7), rel=0.08)


def test_a_pace_that_fell_weighs_the_weeks_since() -> None:
    found = estimate([8.0] * 8 + [2.0] * 4, [1.0] * 12)
    assert found.changed > 0.8
    assert found.mean < 3.5


def test_a_steady_pace_is_taken_as_it_is() -> None:
    found = estimate([5.0, 4.0, 6.0, 5.0, 5.0, 4.0, 6.0, 5.0, 5.0, 5.0, 4.0, 6.0], [1.0] * 12)
    assert found.changed < 0.5
    assert found.mean == pytest.approx(5.0, rel=0.05)


def test_nothing_finished_gives_no_pace() -> None:
    found = estimate([0.0] * 6, [1.0] * 6)
    assert found.mean == 0
    weeks = finish_weeks(
        found.draw(NORMAL, UNIFORM, CHOICE), 5, dispersion=1.0, normal=NORMAL, uniform=UNIFORM
    )
    assert np.all(np.isinf(weeks))


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [([1.0, 1.0, 1.0], 1.0), ([5.0, 5.0], 5.0), ([1.0, 3.0], 2.5), ([], 1.0)],
    ids=["items", "equal-lumps", "mixed-lumps", "nothing"],
)
def test_points_are_at_least_as_lumpy_as_the_items_they_come_in(
    sizes: list[float], expected: float
) -> None:
    assert size_dispersion(sizes) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("weeks", "lumpy"),
    [([5.0, 4.0, 6.0, 5.0, 5.0, 5.0], False), ([0.0, 0.0, 15.0, 0.0, 0.0, 15.0], True)],
    ids=["even", "in-bursts"],
)
def test_dispersion_tells_bursts_from_an_even_flow(weeks: list[float], lumpy: bool) -> None:
    assert (dispersion(weeks, [1.0] * len(weeks)) > 3) is lumpy
    assert (estimate(weeks, [1.0] * len(weeks)).dispersion > 3) is lumpy


@pytest.mark.parametrize("shape", [0.4, 1.0, 3.0, 30.0])
def test_gamma_variates_follow_the_gamma_distribution(shape: float) -> None:
    drawn = gamma_variates(np.full(N, shape), NORMAL, UNIFORM)
    exact = np.random.default_rng(5).gamma(shape, size=N)
    for q in (0.5, 0.85, 0.95):
        assert np.quantile(drawn, q) == pytest.approx(np.quantile(exact, q), rel=0.05)


def test_gamma_variates_move_smoothly_with_their_shape() -> None:
    one = gamma_variates(np.full(N, 10.0), NORMAL, UNIFORM)
    two = gamma_variates(np.full(N, 10.5), NORMAL, UNIFORM)
    assert np.all(two >= one)
    assert float(np.max(two - one)) < 1.5


def test_finish_time_at_a_known_pace_is_the_poisson_process_time() -> None:
    weeks = finish_weeks(np.full(N, 5.0), 20, dispersion=1.0, normal=NORMAL, uniform=UNIFORM)
    assert weeks.mean() == pytest.approx(4.0, rel=0.02)
    assert weeks.std() == pytest.approx(math.sqrt(20) / 5, rel=0.05)


def test_scope_that_grows_as_fast_as_the_work_finishes_never_ends() -> None:
    weeks = finish_weeks(
        np.full(N, 3.0), 10, dispersion=1.0, growth=np.full(N, 3.0), normal=NORMAL, uniform=UNIFORM
    )
    assert np.all(np.isinf(weeks))


def test_drift_widens_long_forecasts_more_than_short_ones() -> None:
    short = pace.drift(np.full(N, 5.0), 5, NORMAL)
    long = pace.drift(np.full(N, 5.0), 200, NORMAL)
    assert short.std() < long.std()
    assert long.mean() == pytest.approx(5.0, rel=0.01)
