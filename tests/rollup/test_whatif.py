"""What-if scenarios: which work a deferral removes, where added scope goes, and that a
scenario's forecast is the forecast of the program edited by hand."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from rollup.model import ForecastOptions, Policy, Program, Selector, WorkItem
from rollup.status import ProgramRollup, evaluate
from rollup.trend import Trend
from rollup.whatif import ADDED_SOURCE, Scenario, added_per_outcome, apply, removed
from tests.rollup.builders import AS_OF, NOW, doing, done, item, outcome, program, steady_history
from tests.rollup.builders import world as build_world
from vocabulary import ItemKind

FAST = Policy(forecast=ForecastOptions(trials=2_000))
PAY = Selector("jira", projects=("PAY",))
WEB = Selector("jira", projects=("WEB",))


def _evaluate(chosen: Program, items: list[WorkItem]) -> ProgramRollup:
    index, graph = build_world(items)
    return evaluate(chosen, index, graph, Trend(), as_of=AS_OF, zone=UTC, rng=random.Random(7))


def _items() -> list[WorkItem]:
    epic = item("PAY-1", kind=ItemKind.EPIC)
    under = [
        done("PAY-2", 3, parent_key="PAY-1"),
        doing("PAY-3", parent_key="PAY-1"),
        item("PAY-4", parent_key="PAY-1"),
    ]
    empty_epic = item("PAY-9", kind=ItemKind.EPIC)
    under_empty = [item("PAY-10", parent_key="PAY-9"), item("PAY-11", parent_key="PAY-9")]
    return [
        epic,
        *under,
        empty_epic,
        *under_empty,
        *steady_history("PAY"),
        *steady_history("WEB"),
        *(item(f"WEB-{n}") for n in range(1, 6)),
    ]


class TestRemoved:
    def test_open_work_under_an_epic_goes_and_done_work_stays(self) -> None:
        gone = removed(_items(), ["PAY-1"])
        assert gone == {("jira", "PAY-3"), ("jira", "PAY-4")}

    def test_an_epic_with_only_open_work_goes_with_it(self) -> None:
        gone = removed(_items(), ["PAY-9"])
        assert gone == {("jira", "PAY-9"), ("jira", "PAY-10"), ("jira", "PAY-11")}

    def test_a_done_item_named_stays(self) -> None:
        assert removed(_items(), ["PAY-2", "NOPE-1"]) == set()


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (Scenario(add_items=5), {"pay": 3, "web": 2}),
        (Scenario(add_per_outcome={"web": 4}), {"pay": 0, "web": 4}),
        (Scenario(add_items=2, add_per_outcome={"web": 1}), {"pay": 1, "web": 2}),
    ],
    ids=["spread", "per-outcome", "both"],
)
def test_added_scope_is_spread_or_placed(scenario: Scenario, expected: dict[str, int]) -> None:
    chosen = program(outcome("pay", PAY), outcome("web", WEB))
    assert added_per_outcome(chosen, scenario) == expected


def test_a_scenario_forecasts_as_the_program_edited_by_hand() -> None:
    target = AS_OF + timedelta(days=40)
    chosen = program(
        outcome("pay", PAY, target=target), outcome("web", WEB, target=target), policy=FAST
    )
    items = _items()
    scenario = Scenario(
        add_items=3,
        remove_keys=("PAY-9",),
        pace_factor=1.5,
        pace_factors={"web": 0.8},
        targets={"pay": target + timedelta(days=10)},
    )
    edited, edited_items = apply(chosen, items, scenario, now=NOW)
    by_hand_items = [i for i in items if i.key not in ("PAY-9", "PAY-10", "PAY-11")] + [
        replace(item(f"{o}+{n}", source=ADDED_SOURCE, created_at=NOW, project=None), title=t)
        for o, n, t in (
            ("pay", 1, "Added scope 1 of 2 (pay)"),
            ("pay", 2, "Added scope 2 of 2 (pay)"),
            ("web", 1, "Added scope 1 of 1 (web)"),
        )
    ]
    by_hand = program(
        outcome(
            "pay",
            PAY,
            Selector(ADDED_SOURCE, keys=("pay+1", "pay+2")),
            target=target + timedelta(days=10),
            pace_factor=1.5,
        ),
        outcome(
            "web", WEB, Selector(ADDED_SOURCE, keys=("web+1",)), target=target, pace_factor=0.8
        ),
        policy=FAST,
    )
    assert edited == by_hand
    ours, theirs = _evaluate(edited, edited_items), _evaluate(by_hand, by_hand_items)
    assert ours.forecast == theirs.forecast
    assert [o.forecast for o in ours.outcomes] == [o.forecast for o in theirs.outcomes]
    before = _evaluate(chosen, items)
    # PAY-10 and PAY-11 deferred (the epic PAY-9 is no unit of work), two items added.
    assert ours.outcomes[0].forecast.remaining == before.outcomes[0].forecast.remaining - 2 + 2
    assert ours.outcomes[1].forecast.remaining == before.outcomes[1].forecast.remaining + 1


def test_pace_factor_speeds_the_trials() -> None:
    chosen = program(outcome("pay", PAY), policy=FAST)
    items = _items()
    base = _evaluate(chosen, items).outcomes[0].forecast
    edited, _ = apply(chosen, items, Scenario(pace_factor=2.0), now=NOW)
    fast = _evaluate(edited, items).outcomes[0].forecast
    assert base.p50 is not None
    assert fast.p50 is not None
    assert base.p50.on is not None
    assert fast.p50.on is not None
    assert fast.p50.on < base.p50.on


def test_an_empty_scenario_is_empty() -> None:
    assert Scenario().empty
    assert not Scenario(targets={"pay": AS_OF}).empty
