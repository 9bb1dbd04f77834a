"""Monte Carlo forecasts over weekly throughput: history, dates, odds and their errors."""

from __future__ import annotations

import random
from datetime import UTC, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollup import forecast as fc
from rollup.forecast import ForecastBasis, History
from rollup.model import ForecastOptions
from tests.rollup.builders import AS_OF, at, done, item

FAST = ForecastOptions(trials=2_000)


def _history(*weeks: int) -> History:
    return History(
        weeks, tuple(AS_OF - timedelta(days=7 * (len(weeks) - i) - 1) for i in range(len(weeks)))
    )


class TestWeeklyHistory:
    def test_counts_completions_per_seven_day_window_ending_on_as_of(self) -> None:
        items = [done("A-1", 0), done("A-2", 6), done("A-3", 7), done("A-4", 20), item("A-5")]
        history = fc.weekly_history(items, as_of=AS_OF, zone=UTC, weeks=4)
        assert history.weeks == (0, 1, 1, 2)
        assert history.starts[-1] == AS_OF - timedelta(days=6)

    def test_leaves_out_weeks_before_the_work_existed(self) -> None:
        items = [done("A-1", 1, created_at=at(15)), item("A-2", created_at=at(10))]
        assert fc.weekly_history(items, as_of=AS_OF, zone=UTC, weeks=12).weeks == (0, 0, 1)

    def test_uses_the_resolution_date_when_history_is_missing(self) -> None:
        finished = done("A-1", 3, done_at=None, resolved_at=at(3))
        assert fc.weekly_history([finished], as_of=AS_OF, zone=UTC, weeks=2).weeks == (0, 1)


class TestCapacityDays:
    @pytest.mark.parametrize(
        ("throughput", "remaining", "days"),
        [
            pytest.param([5], 10, 14.0, id="two-full-weeks"),
            pytest.param([4], 12, 21.0, id="three-weeks"),
            pytest.param([4], 6, 10.5, id="interpolated-within-the-week"),
            pytest.param([2], 0, 0.0, id="nothing-left"),
        ],
    )
    def test_constant_pace_gives_exact_days(
        self, throughput: list[int], remaining: int, days: float
    ) -> None:
        result = fc.capacity_days(
            throughput, remaining, trials=50, generator=np.random.default_rng(1)
        )
        assert np.all(result == days)

    def test_work_that_grows_faster_than_it_finishes_never_ends(self) -> None:
        result = fc.capacity_days(
            [2], 5, trials=10, generator=np.random.default_rng(1), growth=[3], horizon_weeks=30
        )
        assert np.all(np.isinf(result))


@pytest.mark.parametrize(
    ("weeks", "basis"),
    [
        pytest.param((1, 2, 3), ForecastBasis.INSUFFICIENT_HISTORY, id="three-weeks"),
        pytest.param((0, 0, 1, 1), ForecastBasis.INSUFFICIENT_HISTORY, id="two-items"),
        pytest.param((0, 1, 1, 1), ForecastBasis.MONTE_CARLO, id="enough"),
    ],
)
def test_too_little_history_gives_no_date(weeks: tuple[int, ...], basis: ForecastBasis) -> None:
    result = fc.run(
        10, _history(*weeks), as_of=AS_OF, target=None, options=FAST, rng=random.Random(1)
    )
    assert result.basis is basis
    assert (result.p50 is None) == (basis is ForecastBasis.INSUFFICIENT_HISTORY)


@pytest.mark.parametrize(
    ("target_in", "probability"),
    [pytest.param(14, 1.0, id="on-the-day"), pytest.param(13, 0.0, id="a-day-short")],
)
def test_probability_of_meeting_the_target(target_in: int, probability: float) -> None:
    result = fc.run(
        10,
        _history(5, 5, 5, 5),
        as_of=AS_OF,
        target=AS_OF + timedelta(days=target_in),
        options=FAST,
        rng=random.Random(1),
    )
    assert result.probability_on_time == probability
    assert result.p50 is not None
    assert result.p50.on == AS_OF + timedelta(days=14)
    assert result.p50.error_days == 0


def test_percentiles_carry_their_sampling_error() -> None:
    result = fc.run(
        40, _history(0, 9, 2, 7, 1, 5), as_of=AS_OF, target=None, options=FAST, rng=random.Random(3)
    )
    assert result.p50
    assert result.p85
    assert result.p95
    assert result.p50.on <= result.p85.on <= result.p95.on  # type: ignore[operator]
    assert all(p.error_days and p.error_days > 0 for p in (result.p50, result.p85, result.p95))
    more = fc.run(
        40,
        _history(0, 9, 2, 7, 1, 5),
        as_of=AS_OF,
        target=None,
        options=ForecastOptions(trials=20_000),
        rng=random.Random(3),
    )
    assert more.p85
    assert more.p85.error_days is not None
    assert more.p85.error_days < result.p85.error_days  # type: ignore[operator]


def test_scope_growth_is_included_only_when_asked() -> None:
    def p50(scope_growth: bool) -> fc.Percentile | None:
        options = ForecastOptions(trials=500, scope_growth=scope_growth)
        history = _history(4, 4, 4, 4)
        return fc.run(
            20,
            history,
            as_of=AS_OF,
            target=None,
            options=options,
            rng=random.Random(1),
            growth=(2, 2, 2, 2),
        ).p50

    without, with_growth = p50(False), p50(True)
    assert without
    assert with_growth
    assert without.on
    assert with_growth.on
    assert (without.on - AS_OF).days == 35
    assert (with_growth.on - AS_OF).days == 70


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 20), min_size=4, max_size=12),
    st.integers(1, 300),
    st.integers(0, 2**32),
)
def test_the_same_seed_gives_the_same_forecast(weeks: list[int], remaining: int, seed: int) -> None:
    if sum(weeks) < 3:
        weeks[0] += 3
    history = _history(*weeks)

    def once() -> fc.Forecast:
        return fc.run(
            remaining,
            history,
            as_of=AS_OF,
            target=AS_OF + timedelta(days=60),
            options=ForecastOptions(trials=1_000),
            rng=random.Random(seed),
        )

    first, second = once(), once()
    assert first == second
    assert np.array_equal(first.finish_days, second.finish_days)  # type: ignore[arg-type]
