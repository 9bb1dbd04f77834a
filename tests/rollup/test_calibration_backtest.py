"""The forecast's own promise, kept on simulated teams: P85 dates missed 15 % of the time,
P50 dates half the time (``bench.histories`` says how each kind of history is made)."""

from __future__ import annotations

import pytest

from bench.histories import QUANTILES, Shape, Tally, back_test, current_model

P85_MISSED = (0.11, 0.19)
P50_MISSED = (0.44, 0.56)


def _rates(tallies: list[Tally]) -> tuple[float, float]:
    cases = sum(t.cases for t in tallies)
    missed = [sum(t.missed[i] for t in tallies) / cases for i in range(len(QUANTILES))]
    return missed[QUANTILES.index(0.5)], missed[QUANTILES.index(0.85)]


def test_dates_are_missed_as_often_as_they_promise_over_every_kind_of_history() -> None:
    forecaster = current_model(trials=2_000)
    tallies = [back_test(shape, forecaster, cases=150, seed=1) for shape in Shape]
    assert all(t.cases >= 130 for t in tallies)
    p50, p85 = _rates(tallies)
    assert P85_MISSED[0] <= p85 <= P85_MISSED[1]
    assert P50_MISSED[0] <= p50 <= P50_MISSED[1]


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(Shape), ids=str)
def test_dates_are_missed_as_often_as_they_promise_for_each_kind_of_history(
    shape: Shape,
) -> None:
    tally = back_test(shape, current_model(trials=2_000), cases=1_500, seed=1)
    p50, p85 = _rates([tally])
    assert P85_MISSED[0] <= p85 <= P85_MISSED[1]
    assert P50_MISSED[0] <= p50 <= P50_MISSED[1]
