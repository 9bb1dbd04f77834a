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
from rollup.whatif import (
    ADDED_SOURCE,
    AddedTeam,
    Scenario,
    TeamPace,
    added_per_outcome,
    apply,
    forecasts,
    removed,
    team_pace,
)
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


# Teams: in PAY's steady history "bo" (team b) finished the first item of every week and
# "ana" (team a) the other two; WEB's was finished by "cy", in no team.
TEAMS = {"ana": "a", "bo": "b"}


def _team_items() -> list[WorkItem]:
    pay = [
        replace(i, assignee="bo") if (int(i.key.split("-")[1]) - 100) % 3 == 0 else i
        for i in steady_history("PAY")
    ]
    web = [replace(i, assignee="cy") for i in steady_history("WEB")]
    open_work = [item(f"PAY-{n}") for n in range(1, 9)] + [item(f"WEB-{n}") for n in range(1, 5)]
    return [*pay, *web, *open_work]


def _two_outcomes(**pay: object) -> Program:
    target = AS_OF + timedelta(days=30)
    return program(
        outcome("pay", PAY, target=target, **pay), outcome("web", WEB, target=target), policy=FAST
    )


def _teams(chosen: Program, items: list[WorkItem]) -> TeamPace:
    index, graph = build_world(items)
    found = forecasts(
        chosen, index, graph, Trend(), as_of=AS_OF, zone=UTC, rng=random.Random(7), now=NOW
    )
    return team_pace(found, lambda i: TEAMS.get(i.assignee or ""), UTC)


def _outcome_forecasts(chosen: Program, items: list[WorkItem]) -> list[object]:
    found = _evaluate(chosen, items)
    return [found.forecast, *(o.forecast for o in found.outcomes)]


def test_forecasts_alone_are_the_roll_ups_to_the_trial() -> None:
    chosen, items = _two_outcomes(), _team_items()
    index, graph = build_world(items)
    alone = forecasts(chosen, index, graph, Trend(), as_of=AS_OF, zone=UTC, rng=random.Random(7))
    whole = _evaluate(chosen, items)
    assert alone.forecast == whole.forecast
    assert [o.forecast for o in alone.outcomes] == [o.forecast for o in whole.outcomes]


def test_each_outcome_s_throughput_is_split_by_team() -> None:
    teams = _teams(_two_outcomes(), _team_items())
    assert teams.share("pay", "a") == pytest.approx(2 / 3)
    assert teams.share("pay", "b") == pytest.approx(1 / 3)
    assert teams.share("web", "a") == 0.0
    assert teams.left == {"pay": 8.0, "web": 4.0}


@pytest.mark.parametrize(
    "scenario",
    [
        # Team a did two thirds of PAY's work: 2.5 times as fast makes PAY twice as fast.
        Scenario(team_factors={"a": 2.5}),
        # A second team b (a third of PAY's work) at three times b's pace: the same.
        Scenario(added_teams=(AddedTeam("New", like="b", factor=3.0),)),
    ],
    ids=["team-factor", "team-like-another"],
)
def test_a_team_s_pace_forecasts_as_the_outcome_edited_by_hand(scenario: Scenario) -> None:
    chosen, items = _two_outcomes(), _team_items()
    edited, edited_items = apply(chosen, items, scenario, now=NOW, teams=_teams(chosen, items))
    by_hand = _two_outcomes(pace_factor=2.0)
    assert [o.pace_factor for o in edited.outcomes] == pytest.approx([2.0, 1.0])
    ours = _outcome_forecasts(edited, edited_items)
    theirs = _outcome_forecasts(by_hand, items)
    assert ours == theirs
    assert ours != _outcome_forecasts(chosen, items)


def test_a_team_at_a_stated_pace_adds_it_to_every_trial() -> None:
    chosen, items = _two_outcomes(), _team_items()
    teams = _teams(chosen, items)
    on_pay = Scenario(added_teams=(AddedTeam("New", pace=6.0, outcomes=("pay",)),))
    edited, _ = apply(chosen, items, on_pay, now=NOW, teams=teams)
    assert _outcome_forecasts(edited, items) == _outcome_forecasts(
        _two_outcomes(pace_added=6.0), items
    )
    # Without outcomes named, the pace goes where the work is: PAY has 8 left, WEB 4.
    spread, _ = apply(
        chosen,
        items,
        replace(on_pay, added_teams=(AddedTeam("New", pace=6.0),)),
        now=NOW,
        teams=teams,
    )
    assert [o.pace_added for o in spread.outcomes] == pytest.approx([4.0, 2.0])
    before = _evaluate(chosen, items).outcomes[0].forecast
    after = _evaluate(edited, items).outcomes[0].forecast
    assert before.p50 is not None
    assert before.p50.on is not None
    assert after.p50 is not None
    assert after.p50.on is not None
    assert after.p50.on < before.p50.on


def test_a_team_that_never_worked_on_an_outcome_leaves_it_alone() -> None:
    chosen, items = _two_outcomes(), _team_items()
    edited, _ = apply(
        chosen, items, Scenario(team_factors={"a": 0.5}), now=NOW, teams=_teams(chosen, items)
    )
    assert [o.pace_factor for o in edited.outcomes] == pytest.approx([2 / 3, 1.0])
