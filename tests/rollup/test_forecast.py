"""Monte Carlo forecasts from an honest pace: dates, odds, their units and their inputs."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollup import forecast as fc
from rollup.forecast import ForecastBasis
from rollup.history import History
from rollup.inputs import Inputs, from_data, to_data
from rollup.model import ForecastOptions
from tests.rollup.builders import AS_OF

FAST = ForecastOptions(trials=4_000)


def _history(
    *weeks: int, exposure: tuple[float, ...] = (), sizes: tuple[float, ...] = ()
) -> History:
    starts = tuple(AS_OF - timedelta(days=7 * (len(weeks) - i) - 1) for i in range(len(weeks)))
    return History(weeks, starts, exposure, sizes)


def _inputs(remaining: float, history: History, **overrides: object) -> Inputs:
    values: dict[str, object] = {
        "as_of": AS_OF,
        "target": None,
        "scope": remaining,
        "done": 0.0,
        "history": history,
    }
    return Inputs(**(values | overrides))  # type: ignore[arg-type]


def _days(on: date | None) -> int:
    assert on is not None
    return (on - AS_OF).days


@pytest.mark.parametrize(
    ("weeks", "basis"),
    [
        pytest.param((1, 2, 3), ForecastBasis.INSUFFICIENT_HISTORY, id="three-weeks"),
        pytest.param((0, 0, 1, 1), ForecastBasis.INSUFFICIENT_HISTORY, id="two-items"),
        pytest.param((0, 1, 1, 1), ForecastBasis.MONTE_CARLO, id="enough"),
    ],
)
def test_too_little_history_gives_no_date(weeks: tuple[int, ...], basis: ForecastBasis) -> None:
    result = fc.run(_inputs(10, _history(*weeks)), options=FAST, rng=random.Random(1))
    assert result.basis is basis
    assert (result.p50 is None) == (basis is ForecastBasis.INSUFFICIENT_HISTORY)


def test_a_partial_oldest_week_is_not_a_whole_week() -> None:
    # 21 items in 28 days of which the oldest window saw its last day only: about 5.25 a
    # week over four weeks... but 21 over 3 1/7 weeks when the first six days were empty.
    whole = fc.run(_inputs(60, _history(6, 5, 5, 5)), options=FAST, rng=random.Random(2))
    partial = fc.run(
        _inputs(60, _history(6, 5, 5, 5, exposure=(1 / 7, 1.0, 1.0, 1.0))),
        options=FAST,
        rng=random.Random(2),
    )
    assert whole.p50 is not None
    assert partial.p50 is not None
    assert 74 <= _days(whole.p50.on) <= 88
    assert _days(partial.p50.on) < _days(whole.p50.on) - 7


def test_what_is_left_of_today_is_used() -> None:
    history = _history(7, 7, 7, 7, 7, 7)
    morning = fc.run(_inputs(1, history, elapsed=0.1), options=FAST, rng=random.Random(3))
    evening = fc.run(_inputs(1, history, elapsed=1.0), options=FAST, rng=random.Random(3))
    assert morning.p50 is not None
    assert evening.p50 is not None
    assert morning.p50.on == AS_OF
    assert evening.p50.on == AS_OF + timedelta(days=1)


def test_estimate_basis_forecasts_points_at_the_pace_of_points() -> None:
    # Four items a week, of 5 points each: 20 points a week; 100 points left.
    history = _history(4, 4, 4, 4, 4, 4, sizes=(20.0,) * 6)
    result = fc.run(
        _inputs(100.0, history, unit_dispersion=5.0), options=FAST, rng=random.Random(4)
    )
    assert result.remaining == 100.0
    assert result.p50 is not None
    assert 30 <= _days(result.p50.on) <= 40


@pytest.mark.parametrize(
    ("target_in", "low", "high"),
    [(10, 0.0, 0.05), (21, 0.3, 0.7), (60, 0.97, 1.0)],
    ids=["too-soon", "about-the-median", "far-off"],
)
def test_probability_of_meeting_the_target(target_in: int, low: float, high: float) -> None:
    result = fc.run(
        _inputs(15, _history(5, 5, 5, 5, 5, 5), target=AS_OF + timedelta(days=target_in)),
        options=FAST,
        rng=random.Random(5),
    )
    assert result.probability_on_time is not None
    assert low <= result.probability_on_time <= high


def test_percentiles_are_ordered_and_carry_their_sampling_error() -> None:
    history = _history(0, 9, 2, 7, 1, 5)
    result = fc.run(_inputs(40, history), options=FAST, rng=random.Random(3))
    p50, p85, p95 = result.p50, result.p85, result.p95
    assert p50 is not None
    assert p85 is not None
    assert p95 is not None
    assert _days(p50.on) <= _days(p85.on) <= _days(p95.on)
    more = fc.run(
        _inputs(40, history), options=ForecastOptions(trials=40_000), rng=random.Random(3)
    )
    assert more.p85 is not None
    assert p85.sampling_error_days is not None
    assert more.p85.sampling_error_days is not None
    assert more.p85.sampling_error_days < p85.sampling_error_days


def test_scope_growth_from_the_snapshots_is_drawn_by_default() -> None:
    history = _history(4, 4, 4, 4, 4, 4)
    growth = _history(2, 2, 2, 2)
    plain = fc.run(_inputs(20, history), options=FAST, rng=random.Random(1))
    growing = fc.run(_inputs(20, history, growth=growth), options=FAST, rng=random.Random(1))
    ignored = fc.run(
        _inputs(20, history, growth=growth),
        options=replace(FAST, scope_growth=False),
        rng=random.Random(1),
    )
    assert plain.p50 is not None
    assert growing.p50 is not None
    assert ignored.p50 == plain.p50
    assert growing.growth is not None
    # Net of growth the pace halves, so the work takes about twice as long.
    assert _days(growing.p50.on) == pytest.approx(2 * _days(plain.p50.on), rel=0.25)


def test_unrefined_work_is_forecast_at_its_expected_size() -> None:
    history = _history(4, 4, 4, 4, 4, 4)
    counted = fc.run(_inputs(20, history), options=FAST, rng=random.Random(1))
    with_epics = fc.run(_inputs(20, history, unrefined=20.0), options=FAST, rng=random.Random(1))
    assert with_epics.remaining == 40.0
    assert counted.p50 is not None
    assert with_epics.p50 is not None
    assert _days(with_epics.p50.on) == pytest.approx(2 * _days(counted.p50.on), rel=0.15)


def test_finished_work_is_on_time_or_late_by_its_date() -> None:
    history = _history(3, 3, 3, 3)
    on_time = fc.completed(history, AS_OF - timedelta(days=2), AS_OF)
    late = fc.completed(history, AS_OF - timedelta(days=2), AS_OF - timedelta(days=5))
    assert (on_time.probability_on_time, late.probability_on_time) == (1.0, 0.0)


def test_trial_days_from_kept_inputs_reproduce_the_forecast() -> None:
    inputs = _inputs(30, _history(3, 6, 4, 5, 5, 2), chain_days=tuple(float(d) for d in range(21)))
    draws = fc.Draws.of(9, 4_000)
    first = fc.trial_days(inputs, draws, FAST)
    again = fc.trial_days(from_data(to_data(inputs)), draws, FAST)
    assert np.array_equal(first, again)


def test_inputs_survive_being_kept_as_json_data() -> None:
    inputs = _inputs(
        12.5,
        _history(1, 2, 3, exposure=(0.5, 1.0, 0.9), sizes=(2.0, 4.0, 6.5)),
        target=AS_OF + timedelta(days=30),
        elapsed=0.4,
        unrefined=3.0,
        unit_dispersion=2.5,
        growth=_history(1, 0, sizes=(1.0, -0.5)),
        chain_days=(1.0, 2.0),
    )
    assert from_data(to_data(inputs)) == inputs


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 20), min_size=4, max_size=12),
    st.integers(1, 300),
    st.integers(0, 2**32),
)
def test_the_same_seed_gives_the_same_forecast(weeks: list[int], remaining: int, seed: int) -> None:
    if sum(weeks) < 3:
        weeks[0] += 3
    inputs = _inputs(remaining, _history(*weeks), target=AS_OF + timedelta(days=60))

    def once() -> fc.Forecast:
        return fc.run(inputs, options=ForecastOptions(trials=1_000), rng=random.Random(seed))

    first, second = once(), once()
    assert first == second
    assert np.array_equal(first.finish_days, second.finish_days)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 15), min_size=4, max_size=12), st.integers(1, 200))
def test_more_work_never_finishes_sooner(weeks: list[int], remaining: int) -> None:
    if sum(weeks) < 3:
        weeks[0] += 3
    draws = fc.Draws.of(4, 2_000)
    less = fc.trial_days(_inputs(remaining, _history(*weeks)), draws, FAST)
    more = fc.trial_days(_inputs(remaining + 5, _history(*weeks)), draws, FAST)
    # Trial by trial the pace drifts further over a longer haul, so compare the spread.
    for q in (0.5, 0.85, 0.95):
        assert np.quantile(more, q, method="inverted_cdf") >= np.quantile(
            less, q, method="inverted_cdf"
        )
