"""How past forecasts fared: P50 and P85 dates met, and the Brier score of the chances."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rollup.calibration import judge, judge_program, weekly
from rollup.model import SnapshotPoint

MONDAY = date(2026, 11, 2)


def _point(
    week: int,
    p50: int,
    p85: int,
    p: float | None = None,
    target: int | None = None,
    key: str = "pay",
    basis: str = "monte_carlo",
) -> SnapshotPoint:
    on = MONDAY + timedelta(weeks=week)
    return SnapshotPoint(
        on,
        key,
        10,
        5,
        p50_on=on + timedelta(days=p50),
        p85_on=on + timedelta(days=p85),
        probability_on_time=p,
        target=None if target is None else MONDAY + timedelta(days=target),
        basis=basis,
    )


def test_one_forecast_a_week_counts() -> None:
    points = [_point(0, 10, 20), _point(0, 11, 21), _point(1, 10, 20)]
    points[1] = SnapshotPoint(
        MONDAY + timedelta(days=3), "pay", 1, 0, p50_on=MONDAY, basis="monte_carlo"
    )
    assert [p.on for p in weekly(points)] == [
        MONDAY + timedelta(days=3),
        MONDAY + timedelta(weeks=1),
    ]


def test_finished_work_judges_every_past_date() -> None:
    # Finished 16 days after the first Monday: the first forecast's P50 (day 10) was missed,
    # its P85 (day 20) met; the second's (days 7+10, 7+20) were both met.
    points = [_point(0, 10, 20), _point(1, 10, 20)]
    found = judge("pay", points, MONDAY + timedelta(days=16), as_of=MONDAY + timedelta(days=30))
    assert (found.judged, found.p50_met, found.p85_met, found.pending) == (2, 1, 2, 0)
    assert found.p50_rate == 0.5
    assert found.p85_rate == 1.0


def test_open_work_misses_the_dates_that_have_passed_and_waits_on_the_rest() -> None:
    points = [_point(0, 5, 9), _point(1, 10, 40)]
    found = judge("pay", points, None, as_of=MONDAY + timedelta(days=12))
    assert (found.judged, found.p50_met, found.p85_met, found.pending) == (1, 0, 0, 1)


@pytest.mark.parametrize(
    ("chances", "finished", "brier"),
    [
        pytest.param([(0.9, 20), (0.8, 20)], 15, round((0.01 + 0.04) / 2, 4), id="met-and-sure"),
        pytest.param([(0.9, 20)], 25, 0.81, id="missed-and-sure"),
        pytest.param([(0.5, 20)], 25, 0.25, id="a-coin"),
    ],
)
def test_brier_score_of_the_chances(
    chances: list[tuple[float, int]], finished: int, brier: float
) -> None:
    points = [_point(w, 3, 5, p, t) for w, (p, t) in enumerate(chances)]
    found = judge(
        "pay", points, MONDAY + timedelta(days=finished), as_of=MONDAY + timedelta(days=40)
    )
    assert found.brier == pytest.approx(brier)


def test_finished_forecasts_are_not_judged_as_forecasts() -> None:
    found = judge("pay", [_point(0, -3, -3, basis="done")], MONDAY, as_of=MONDAY)
    assert (found.judged, found.pending, found.chances) == (0, 0, 0)
    assert found.text == "no past forecast can be judged yet"


def test_a_programs_chance_is_judged_by_every_outcome_meeting_its_target() -> None:
    program = [_point(0, 10, 20, 0.6, key="")]
    outcomes = {
        "pay": [_point(0, 5, 8, 0.9, target=10, key="pay")],
        "web": [_point(0, 8, 12, 0.7, target=12, key="web")],
    }
    finished = {"pay": MONDAY + timedelta(days=9), "web": MONDAY + timedelta(days=14)}
    found = judge_program(program, outcomes, finished, as_of=MONDAY + timedelta(days=30))
    # Web finished after its target: the program's 60 % chance scored against a miss.
    assert found.brier == pytest.approx(0.36)
    assert (found.judged, found.p50_met, found.p85_met) == (1, 0, 1)
    assert "past P85 dates met 1 of 1 times" in found.text
