"""A program rolled up end to end: forecasts with chains, colours, risks and the program."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rollup.forecast import ForecastBasis
from rollup.model import Color, Dependency, ForecastOptions, Policy, Selector, WorkItem
from rollup.status import ProgramRollup, evaluate
from rollup.trend import Trend
from tests.rollup.builders import (
    AS_OF,
    at,
    dep,
    doing,
    done,
    item,
    outcome,
    program,
    ref,
    steady_history,
    world,
)

FAST = Policy(forecast=ForecastOptions(trials=1_000))


def _evaluate(items: list[WorkItem], deps: list[Dependency] = (), **program_args) -> ProgramRollup:  # type: ignore[assignment, no-untyped-def]
    index, graph = world(items, deps)
    chosen = program(**({"policy": FAST} | program_args))
    return evaluate(chosen, index, graph, Trend(), as_of=AS_OF, zone=UTC, rng=random.Random(7))


def test_steady_work_is_forecast_and_judged() -> None:
    target = AS_OF + timedelta(days=40)
    items = steady_history("PAY") + [item(f"PAY-{n}") for n in range(1, 10)]
    result = _evaluate(items, outcomes=(outcome("pay", target=target),))
    pay = result.outcomes[0]
    assert pay.forecast.basis is ForecastBasis.MONTE_CARLO
    assert pay.forecast.p50
    assert pay.forecast.p50.on == AS_OF + timedelta(days=21)
    assert pay.forecast.probability_on_time is not None
    assert pay.forecast.probability_on_time > 0.9
    assert pay.rag.color is Color.GREEN
    assert result.rag.color is Color.GREEN
    assert result.forecast.p85 == pay.forecast.p85


def test_a_long_dependency_chain_decides_the_date() -> None:
    chain = [item(f"PAY-{n}") for n in range(1, 5)]
    deps = [dep(f"PAY-{n}", f"PAY-{n + 1}") for n in range(1, 4)]
    result = _evaluate(steady_history("PAY") + chain, deps)
    pay = result.outcomes[0]
    # Four items of five days each, one after another, against about ten days of pace.
    assert pay.forecast.p50
    assert pay.forecast.p50.on == AS_OF + timedelta(days=20)
    assert pay.forecast.capacity_share is not None
    assert pay.forecast.capacity_share < 0.1
    assert dict(pay.forecast.criticality)[ref("PAY-1")] == 1 - pay.forecast.capacity_share
    assert [k for _, k in pay.critical_path] == ["PAY-1", "PAY-2", "PAY-3", "PAY-4"]


def test_new_work_without_history_is_grey_saying_what_it_has_and_needs() -> None:
    result = _evaluate([item("PAY-1", created_at=at(10)), item("PAY-2", created_at=at(10))])
    pay = result.outcomes[0]
    assert pay.forecast.basis is ForecastBasis.INSUFFICIENT_HISTORY
    assert pay.rag.color is Color.GREY
    assert [(r.rule, r.detail) for r in pay.rag.reasons] == [
        (
            "no_forecast",
            "only 2 week(s) of history with 0 item(s) finished; a forecast needs 4 weeks "
            "and 3 finished items",
        )
    ]


def test_work_with_nothing_finished_for_months_is_red_not_grey() -> None:
    items = [done(f"PAY-{n}", 150 + n) for n in range(5)] + [
        item(f"PAY-{n}", created_at=at(200)) for n in range(10, 60)
    ]
    pay = _evaluate(items).outcomes[0]
    assert pay.rag.color is Color.RED
    assert [(r.rule, r.detail) for r in pay.rag.reasons] == [
        ("stalled", "nothing finished in 12 weeks, with 50 items left"),
        (
            "no_forecast",
            "only 12 week(s) of history with 0 item(s) finished; a forecast needs 3 finished items",
        ),
    ]


def test_finished_outcome_is_green_with_its_completion_date() -> None:
    result = _evaluate([done("PAY-1", 3), done("PAY-2", 2)])
    pay = result.outcomes[0]
    assert pay.forecast.basis is ForecastBasis.DONE
    assert pay.forecast.p85
    assert pay.forecast.p85.on == AS_OF - timedelta(days=2)
    assert pay.rag.color is Color.GREEN


def test_program_is_never_better_than_its_worst_outcome() -> None:
    late = outcome("late", Selector("jira", projects=("WEB",)), target=AS_OF + timedelta(days=5))
    fine = outcome("fine", target=AS_OF + timedelta(days=300))
    items = (
        steady_history("PAY")
        + steady_history("WEB")
        + [item(f"WEB-{n}") for n in range(1, 30)]
        + [item("PAY-1")]
    )
    result = _evaluate(items, outcomes=(fine, late))
    colors = {o.outcome.key: o.rag.color for o in result.outcomes}
    assert colors == {"fine": Color.GREEN, "late": Color.RED}
    assert result.rag.color is Color.RED
    assert ("outcome", "outcome Late is red") in [(r.rule, r.detail) for r in result.rag.reasons]


chain_edges = st.lists(st.tuples(st.integers(1, 8), st.integers(1, 8)), max_size=12)


@settings(max_examples=25, deadline=None)
@given(chain_edges, st.integers(1, 8), st.integers(1, 8), st.booleans())
def test_adding_a_predecessor_never_makes_an_outcome_finish_earlier(
    pairs: list[tuple[int, int]], before: int, after: int, external: bool
) -> None:
    # Cycle times from 1 to 19 days, so that chains draw different durations per item.
    history = [
        dataclasses.replace(h, started_at=h.done_at - timedelta(days=1 + 3 * (n % 7)))  # type: ignore[operator]
        for n, h in enumerate(steady_history("PAY"))
    ]
    items = (
        history
        + [doing(f"PAY-{n}", days=n) if n % 3 == 0 else item(f"PAY-{n}") for n in range(1, 9)]
        + [item("EXT-1")]
    )
    deps = [dep(f"PAY-{a}", f"PAY-{b}") for a, b in pairs if a < b]
    extra = dep("EXT-1" if external else f"PAY-{before}", f"PAY-{after}")
    first = _evaluate(items, deps).outcomes[0].forecast
    second = _evaluate(items, [*deps, extra]).outcomes[0].forecast
    assert np.all(second.finish_days >= first.finish_days)  # type: ignore[operator]
    for q in ("p50", "p85", "p95"):
        a, b = getattr(first, q), getattr(second, q)
        assert b.on is None or (a.on is not None and b.on >= a.on)


def test_reordering_outcomes_does_not_change_their_forecasts() -> None:
    a = outcome("a", Selector("jira", projects=("PAY",)))
    b = outcome("b", Selector("jira", projects=("WEB",)))
    items = steady_history("PAY") + steady_history("WEB") + [item("PAY-1"), item("WEB-1")]
    one = {o.outcome.key: o.forecast for o in _evaluate(items, outcomes=(a, b)).outcomes}
    two = {o.outcome.key: o.forecast for o in _evaluate(items, outcomes=(b, a)).outcomes}
    assert one == two


def test_same_inputs_in_another_order_give_the_same_roll_up() -> None:
    items = steady_history("PAY") + [item(f"PAY-{n}") for n in range(1, 6)]
    deps = [dep("PAY-1", "PAY-2"), dep("PAY-3", "PAY-4")]
    forward = _evaluate(items, deps)
    backward = _evaluate(list(reversed(items)), list(reversed(deps)))
    assert forward.forecast == backward.forecast
    assert forward.outcomes[0].forecast == backward.outcomes[0].forecast
    assert dataclasses.astuple(forward.rag) == dataclasses.astuple(backward.rag)
