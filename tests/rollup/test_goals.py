"""Goals rolled up from their contributors: weighted progress, a forecast against the end
of the period, a colour with reasons naming contributors, key results and movement."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from rollup import goals
from rollup.forecast import ForecastBasis
from rollup.history import History
from rollup.hysteresis import Verdict
from rollup.inputs import Inputs
from rollup.model import Color

AS_OF = date(2026, 11, 20)
END = date(2027, 3, 31)


def history(per_week: int = 5, weeks: int = 12) -> History:
    starts = tuple(AS_OF - timedelta(days=7 * (weeks - k) - 1) for k in range(weeks))
    return History((per_week,) * weeks, starts)


def outcome(key: str = "a", program: str = "p", **overrides: Any) -> goals.OutcomeState:
    """An open outcome with ten items left at five a week: done in about two weeks."""
    values: dict[str, Any] = {
        "program": program,
        "key": key,
        "name": f"Outcome {key}",
        "target": END,
        "color": Color.GREEN,
        "percent": 50.0,
        "done_count": 10,
        "scope_count": 20,
        "forecast": ForecastBasis.MONTE_CARLO.value,
        "p50": AS_OF + timedelta(days=14),
        "p85": AS_OF + timedelta(days=21),
        "probability": 0.99,
        "inputs": Inputs(AS_OF, END, scope=20, done=10, history=history()),
    }
    return goals.OutcomeState(**(values | overrides))


def program(key: str = "p", *outcomes: goals.OutcomeState, **overrides: Any) -> goals.ProgramState:
    parts = outcomes or (outcome(program=key),)
    values: dict[str, Any] = {
        "key": key,
        "name": f"Program {key}",
        "owner": None,
        "color": Color.GREEN,
        "percent": 50.0,
        "done_count": sum(o.done_count for o in parts),
        "scope_count": sum(o.scope_count for o in parts),
        "target": END,
        "forecast": ForecastBasis.MONTE_CARLO.value,
        "p50": None,
        "p85": None,
        "probability": 0.99,
        "outcomes": parts,
    }
    return goals.ProgramState(**(values | overrides))


def goal(*contributions: goals.Contribution, **overrides: Any) -> goals.Goal:
    values: dict[str, Any] = {
        "key": "g",
        "name": "Goal",
        "owner": "Fay",
        "start": date(2027, 1, 1),
        "end": END,
        "label": "2027-Q1",
        "contributions": contributions or (goals.Contribution("p"),),
    }
    return goals.Goal(**(values | overrides))


def test_progress_is_weighted_by_contribution_not_summed_across_units() -> None:
    programs = {
        "p": program("p", percent=20.0),
        "q": program("q", outcome("b", program="q", percent=80.0)),
    }
    rolled = goals.roll_up(
        goal(goals.Contribution("p", weight=3), goals.Contribution("q", "b", weight=1)),
        programs,
        as_of=AS_OF,
    )
    assert rolled.percent == 35.0
    assert rolled.progress_text == "35 % done, weighted across 2 contributors"
    assert [c.share for c in rolled.contributors] == [0.75, 0.25]


def test_contributors_without_work_do_not_dilute_progress() -> None:
    programs = {"p": program("p", percent=60.0), "q": program("q", percent=0.0, scope_count=0)}
    rolled = goals.roll_up(
        goal(goals.Contribution("p"), goals.Contribution("q")), programs, as_of=AS_OF
    )
    assert rolled.percent == 60.0


def test_forecast_finishes_with_the_last_outcome_and_says_who_decides() -> None:
    slow = outcome("slow", inputs=Inputs(AS_OF, END, scope=60, done=0, history=history(2)))
    programs = {"p": program("p", outcome("fast"), slow)}
    rolled = goals.roll_up(goal(), programs, as_of=AS_OF, trials=2_000)
    found = rolled.forecast
    assert found.basis == ForecastBasis.MONTE_CARLO
    assert found.covers == ("p/fast", "p/slow")
    assert found.deciding[0][0] == "p/slow"
    assert found.p85 is not None
    assert found.p85.on is not None
    assert found.p85.on > AS_OF + timedelta(days=7 * 20)
    assert found.probability is not None
    assert found.probability < 0.5
    assert "likely that all 2 open outcomes finish by the end of the period" in found.text


def test_a_late_period_end_gives_a_low_chance_and_a_red_colour() -> None:
    programs = {"p": program("p", outcome(inputs=Inputs(AS_OF, END, 200, 0, history(2))))}
    rolled = goals.roll_up(goal(), programs, as_of=AS_OF, trials=2_000)
    assert rolled.forecast.probability is not None
    assert rolled.forecast.probability < 0.1
    assert rolled.rag.color is Color.RED
    assert rolled.rag.reasons[0].rule == "probability_on_time"


def test_forecast_is_the_same_for_the_same_inputs() -> None:
    programs = {"p": program("p")}
    first = goals.roll_up(goal(), programs, as_of=AS_OF, trials=1_000)
    again = goals.roll_up(goal(), programs, as_of=AS_OF, trials=1_000)
    assert first.forecast == again.forecast


@pytest.mark.parametrize(
    ("state", "basis", "left_out"),
    [
        pytest.param(
            {"forecast": "insufficient_history", "inputs": None},
            ForecastBasis.INSUFFICIENT_HISTORY,
            "too little history",
            id="too-little-history",
        ),
        pytest.param(
            {"forecast": "not_computed", "inputs": None},
            ForecastBasis.INSUFFICIENT_HISTORY,
            "not computed yet",
            id="not-computed",
        ),
        pytest.param(
            {"forecast": "done", "finished_on": AS_OF, "percent": 100.0},
            ForecastBasis.DONE,
            "done",
            id="done",
        ),
        pytest.param(
            {"forecast": "no_work", "scope_count": 0}, ForecastBasis.NO_WORK, "no work", id="empty"
        ),
    ],
)
def test_outcomes_without_a_forecast_are_named(
    state: dict[str, Any], basis: ForecastBasis, left_out: str
) -> None:
    programs = {"p": program("p", outcome(**state))}
    rolled = goals.roll_up(goal(), programs, as_of=AS_OF)
    assert rolled.forecast.basis == basis
    assert rolled.forecast.left_out == (("p/a", left_out),)


def test_work_finished_after_the_period_cannot_be_on_time() -> None:
    late = outcome("late", forecast="done", finished_on=END + timedelta(days=3), percent=100.0)
    programs = {"p": program("p", outcome("open"), late)}
    rolled = goals.roll_up(goal(), programs, as_of=AS_OF, trials=500)
    assert rolled.forecast.probability == 0.0
    assert "finished after the period ended" in rolled.forecast.text


def test_a_goal_is_never_better_than_its_worst_contributor() -> None:
    programs = {
        "p": program("p", color=Color.RED),
        "q": program("q", outcome("b", program="q", color=Color.AMBER)),
    }
    rolled = goals.roll_up(
        goal(goals.Contribution("p"), goals.Contribution("q", "b")), programs, as_of=AS_OF
    )
    assert rolled.rag.color is Color.RED
    named = {(r.rule, r.items) for r in rolled.rag.reasons}
    assert ("contributor", (("p", ""),)) in named
    assert ("contributor", (("q", "b"),)) in named


def test_an_outcome_targeting_after_the_period_makes_the_goal_amber() -> None:
    far = outcome(target=END + timedelta(days=30))
    rolled = goals.roll_up(goal(), {"p": program("p", far)}, as_of=AS_OF, trials=1_000)
    assert rolled.rag.color is Color.AMBER
    reason = next(r for r in rolled.rag.reasons if r.rule == "target_after_period")
    assert reason.items == (("p", "a"),)
    assert "after the goal's period ends 31 Mar 2027" in reason.detail


def test_unknown_or_uncomputed_contributors_are_grey_and_named() -> None:
    rolled = goals.roll_up(
        goal(goals.Contribution("p"), goals.Contribution("gone")), {"p": program("p")}, as_of=AS_OF
    )
    missing = next(c for c in rolled.contributors if c.ref == "gone")
    assert (missing.computed, missing.color) == (False, Color.GREY)
    assert any(r.rule == "not_computed" and r.items == (("gone", ""),) for r in rolled.rag.reasons)


def test_a_goal_without_contributors_is_grey() -> None:
    rolled = goals.roll_up(goal(contributions=()), {}, as_of=AS_OF)
    assert rolled.rag.color is Color.GREY
    assert rolled.rag.reasons[0].detail == "nothing contributes to it yet"


def test_the_colour_is_held_near_a_threshold() -> None:
    # About 83 % likely: amber on its own, but yesterday was green and the margin holds it.
    programs = {"p": program("p", outcome(inputs=Inputs(AS_OF, END, 76, 0, history(5))))}
    fresh = goals.roll_up(goal(), programs, as_of=AS_OF, trials=4_000)
    probability = fresh.forecast.probability
    assert probability is not None
    assert 0.80 < probability < 0.85, probability
    assert fresh.rag.color is Color.AMBER
    held = goals.roll_up(
        goal(), programs, as_of=AS_OF, previous=Verdict(Color.GREEN, Color.GREEN), trials=4_000
    )
    assert held.rag.color is Color.GREEN
    assert held.rag.verdict is not None
    assert held.rag.verdict.held


@pytest.mark.parametrize(
    ("result", "value", "met"),
    [
        pytest.param(
            goals.KeyResult("k", "K", goals.Metric.PERCENT_DONE, 70), 65.0, False, id="pct"
        ),
        pytest.param(
            goals.KeyResult("k", "K", goals.Metric.ITEMS_DONE, 25), 30.0, True, id="items"
        ),
        pytest.param(
            goals.KeyResult("k", "K", goals.Metric.OUTCOMES_DONE, 2), 1.0, False, id="outcomes"
        ),
        pytest.param(
            goals.KeyResult("k", "K", goals.Metric.PERCENT_DONE, 70, ("q/b",)),
            80.0,
            True,
            id="chosen-contributors",
        ),
    ],
)
def test_key_results_measure_the_contributors(
    result: goals.KeyResult, value: float, met: bool
) -> None:
    finished = outcome("c", forecast="done", finished_on=AS_OF, percent=100.0)
    programs = {
        "p": program("p", outcome("a"), finished, percent=50.0, done_count=20),
        "q": program("q", outcome("b", program="q", percent=80.0, done_count=10)),
    }
    contributions = (goals.Contribution("p"), goals.Contribution("q", "b"))
    rolled = goals.roll_up(
        goal(*contributions, key_results=(result,)), programs, as_of=AS_OF, trials=500
    )
    (found,) = rolled.key_results
    assert (found.value, found.met) == (value, met)
    assert found.contributors == (("q/b",) if result.contributors else ("p", "q/b"))


def test_an_on_time_key_result_is_the_chance_in_percent() -> None:
    result = goals.KeyResult("k", "K", goals.Metric.ON_TIME, 90)
    rolled = goals.roll_up(goal(key_results=(result,)), {"p": program("p")}, as_of=AS_OF)
    (found,) = rolled.key_results
    assert found.value is not None
    assert found.value > 90
    assert found.met is True
    assert "likely by 31 Mar 2027, against a target of 90 %" in found.text


def test_movement_says_what_changed_in_a_week() -> None:
    now = goals.Standing(AS_OF, Color.RED, 60.0, AS_OF + timedelta(days=40), 0.4)
    then = goals.Standing(
        AS_OF - timedelta(days=7), Color.AMBER, 50.0, AS_OF + timedelta(days=30), 0.6
    )
    moved = goals.movement(now, then)
    assert moved is not None
    assert moved.text == (
        "since 13 Nov 2026: amber → red, P85 +10 d (30 Dec 2026), +10 pts done, chance −20 pts"
    )
    assert goals.movement(now, None) is None
    assert goals.movement(now, replace(then, on=AS_OF)) is None


def test_an_on_time_key_result_over_every_contributor_is_the_goals_confidence() -> None:
    result = goals.KeyResult("k", "K", goals.Metric.ON_TIME, 90)
    slow = outcome("slow", inputs=Inputs(AS_OF, END, 80, 0, history(5)))
    rolled = goals.roll_up(
        goal(key_results=(result,)), {"p": program("p", outcome("a"), slow)}, as_of=AS_OF
    )
    (found,) = rolled.key_results
    assert rolled.forecast.probability is not None
    assert found.value == round(100 * rolled.forecast.probability, 1)
