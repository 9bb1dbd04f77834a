"""Why a forecast moved: each change's share, on common random numbers, in weeks."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from rollup.history import History
from rollup.inputs import Inputs
from rollup.model import ForecastOptions, ProgressBasis, SnapshotPoint
from rollup.movement import Factor, explain, probability_text, weeks
from rollup.status import evaluate
from rollup.trend import Trend
from tests.rollup.builders import AS_OF, done, item, outcome, program, world

OPTIONS = ForecastOptions()
WEEK_AGO = AS_OF - timedelta(days=7)


def _history(*weeks: int) -> History:
    return History(
        weeks, tuple(AS_OF - timedelta(days=7 * (len(weeks) - i)) for i in range(len(weeks)))
    )


BEFORE = Inputs(
    as_of=WEEK_AGO,
    target=AS_OF + timedelta(days=60),
    scope=100.0,
    done=40.0,
    history=_history(6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6),
)


def _explain(after: Inputs, before: Inputs = BEFORE) -> object:
    return explain([(before, after)], basis=ProgressBasis.COUNT, options=OPTIONS, seed=3)


def test_nothing_changed_nothing_to_explain() -> None:
    assert _explain(BEFORE) is None


def test_added_scope_moves_the_date_later_and_says_how_much_was_added() -> None:
    moved = _explain(replace(BEFORE, scope=112.0))
    assert moved is not None
    (share,) = moved.shares  # type: ignore[attr-defined]
    assert share.factor is Factor.SCOPE
    assert share.p85_days > 7
    assert share.text == "scope grew by 12 items"
    assert moved.text.startswith("P85 moved 2 week(s) later: scope grew by 12 items (+2 w)")  # type: ignore[attr-defined]


def test_a_fallen_pace_is_named_with_both_paces() -> None:
    moved = _explain(replace(BEFORE, history=_history(6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 2)))
    assert moved is not None
    (share,) = moved.shares  # type: ignore[attr-defined]
    assert share.factor is Factor.PACE
    assert share.p85_days > 0
    assert share.text == "pace fell from 6.1 to 2.3 items a week"


def test_a_week_of_work_at_the_usual_pace_leaves_the_date_about_where_it_was() -> None:
    moved = _explain(replace(BEFORE, as_of=AS_OF, done=46.0))
    assert moved is not None
    (share,) = moved.shares  # type: ignore[attr-defined]
    assert share.factor is Factor.FINISHED
    assert abs(share.p85_days) < 2
    assert share.text == "6 items finished in 7 day(s)"


def test_nothing_finished_in_a_week_moves_the_date_a_week() -> None:
    moved = _explain(replace(BEFORE, as_of=AS_OF))
    assert moved is not None
    assert moved.p85_days == pytest.approx(7, abs=0.5)  # type: ignore[attr-defined]


def test_shares_add_up_to_the_whole_move() -> None:
    after = replace(
        BEFORE,
        as_of=AS_OF,
        done=44.0,
        scope=110.0,
        history=_history(6, 6, 6, 6, 6, 6, 6, 6, 6, 3, 3, 4),
        chain_days=tuple(float(d) for d in range(50, 71)),
    )
    moved = _explain(after)
    assert moved is not None
    factors = {s.factor for s in moved.shares}  # type: ignore[attr-defined]
    assert factors == {Factor.SCOPE, Factor.PACE, Factor.FINISHED, Factor.DEPENDENCIES}
    total = sum(s.p85_days for s in moved.shares)  # type: ignore[attr-defined]
    assert total == pytest.approx(moved.p85_days, abs=0.05)  # type: ignore[attr-defined]


def test_a_moved_target_changes_the_chance_not_the_dates() -> None:
    moved = _explain(replace(BEFORE, target=AS_OF + timedelta(days=30)))
    assert moved is not None
    (share,) = moved.shares  # type: ignore[attr-defined]
    assert share.factor is Factor.TARGET
    assert share.p85_days == 0
    assert share.probability is not None
    assert share.probability < -0.3
    assert probability_text(moved).startswith("P(on time) moved −")  # type: ignore[arg-type]


def test_a_programs_move_is_shared_out_over_its_outcomes_changes() -> None:
    other = replace(BEFORE, scope=30.0, done=20.0)
    moved = explain(
        [(BEFORE, replace(BEFORE, scope=130.0)), (other, other)],
        basis=ProgressBasis.COUNT,
        options=OPTIONS,
        seed=1,
    )
    assert moved is not None
    assert [s.factor for s in moved.shares] == [Factor.SCOPE]
    assert moved.p85_days > 21


@pytest.mark.parametrize(
    ("days", "text"),
    [(14.2, "+2 w"), (-3.4, "−3 d"), (0.2, "+0 d"), (0.0, "±0 d"), (-10.5, "−2 w")],
)
def test_moves_read_in_weeks_or_days(days: float, text: str) -> None:
    assert weeks(days) == text


def test_the_roll_up_explains_the_move_since_last_weeks_snapshot() -> None:
    history = [done(f"PAY-{100 + n}", 8 + n * 7 / 4) for n in range(40)]
    then_items = history + [item(f"PAY-{n}") for n in range(1, 21)]
    now_items = history + [item(f"PAY-{n}") for n in range(1, 33)]
    chosen = program(outcome("pay", target=AS_OF + timedelta(days=70)))

    def roll(items: list, as_of, trend: Trend):  # type: ignore[no-untyped-def]
        index, graph = world(items)
        return evaluate(chosen, index, graph, trend, as_of=as_of, zone=UTC, rng=random.Random(2))

    then = roll(then_items, WEEK_AGO, Trend())
    pay = then.outcomes[0].forecast
    assert pay.inputs is not None
    assert pay.p85 is not None
    points = [
        SnapshotPoint(WEEK_AGO, key, 60, 40, p85_on=f.p85.on if f.p85 else None, basis=f.basis)
        for key, f in (("pay", pay), ("", then.forecast))
    ]
    trend = Trend.of(points, inputs={("pay", WEEK_AGO): pay.inputs})
    now = roll(now_items, AS_OF, trend)
    moved = now.movements["pay"]
    assert next(s.factor for s in moved.shares) is Factor.SCOPE
    assert moved.text.startswith("P85 moved")
    assert "scope grew by 12 items" in moved.text
    assert "" in now.movements
