"""Who carries the work: workloads, over-allocation flags, unassigned work, and the
forecast run per team."""

from __future__ import annotations

import random
from datetime import UTC

import pytest

from rollup.model import Dependency, Outcome, Selector, WorkItem
from rollup.people import Team, identities, match
from rollup.resources import allocate, weekly_counts
from rollup.status import ProgramRollup, evaluate
from rollup.teams import NO_TEAM, UNASSIGNED, share_schedule, team_forecasts
from rollup.trend import Trend
from tests.rollup.builders import AS_OF, dep, doing, done, item, outcome, program, world
from vocabulary import ItemKind

TEAMS = [Team("payments", "Payments", ("Ana",)), Team("web", "Web", ("Bo",))]


def _rollup(
    items: list[WorkItem], deps: list[Dependency] | None = None, **kw: object
) -> ProgramRollup:
    index, graph = world(items, deps or [])
    return evaluate(
        program(**kw), index, graph, Trend(), as_of=AS_OF, zone=UTC, rng=random.Random(3)
    )  # type: ignore[arg-type]


def _allocate(rollup: ProgramRollup, wip_limit: int = 2, teams: list[Team] = TEAMS):  # type: ignore[no-untyped-def]
    items = [c.item for o in rollup.outcomes for c in o.progress.contributors]
    directory = match(identities(items), (), teams)
    return allocate(rollup, directory, teams, zone=UTC, weeks=4, wip_limit=wip_limit)


def test_weekly_counts_put_each_finish_in_its_window() -> None:
    items = [done("PAY-1", 0.5), done("PAY-2", 8), done("PAY-3", 9), done("PAY-4", 40)]
    assert weekly_counts(items, as_of=AS_OF, zone=UTC, weeks=4) == (0, 0, 2, 1)


def test_work_in_progress_and_remaining_are_summed_per_person_by_project_and_outcome() -> None:
    items = [
        doing("PAY-1", assignee="Ana", estimate=3.0),
        item("PAY-2", assignee="ana", estimate=5.0),
        done("PAY-3", 2, assignee="ANA"),
        doing("WEB-1", assignee="Bo"),
    ]
    pay = outcome("pay")
    web = outcome("web", Selector("jira", projects=("WEB",)))
    found = _allocate(_rollup(items, outcomes=(pay, web)))
    ana = next(p for p in found.people if p.name == "Ana")
    assert ana.wip == (("jira", "PAY-1"),)
    assert ana.remaining == (("jira", "PAY-1"), ("jira", "PAY-2"))
    assert ana.estimate == 8.0
    assert [(s.name, s.wip, s.remaining) for s in ana.by_project] == [("jira/PAY", 1, 2)]
    assert [s.name for s in ana.by_outcome] == ["pay"]
    assert ana.throughput == (0, 0, 0, 1)
    assert ana.team == "payments"
    payments = next(t for t in found.teams if t.key == "payments")
    assert payments.members == (ana.key,)
    assert payments.remaining == ana.remaining


def test_more_work_in_progress_than_the_limit_is_flagged() -> None:
    items = [doing(f"PAY-{n}", assignee="Ana") for n in range(1, 4)] + [
        doing("PAY-9", assignee="Bo")
    ]
    found = _allocate(_rollup(items), wip_limit=2)
    flags = {p.name: [f.rule for f in p.flags] for p in found.people}
    assert flags == {"Ana": ["wip_over_limit"], "Bo": []}
    team = next(t for t in found.teams if t.key == "payments")
    assert [f.rule for f in team.flags] == ["members_over_allocated"]


def test_a_team_limit_overrides_the_default() -> None:
    items = [doing(f"PAY-{n}", assignee="Ana") for n in range(1, 4)]
    teams = [Team("payments", "Payments", ("Ana",), wip_limit=5)]
    found = _allocate(_rollup(items), wip_limit=2, teams=teams)
    assert found.people[0].flags == ()


def test_one_person_on_the_critical_paths_of_two_outcomes_is_flagged() -> None:
    history = [done(f"PAY-{100 + n}", 1 + n * 2, assignee="Cy") for n in range(30)]
    history += [done(f"WEB-{100 + n}", 1 + n * 2, assignee="Cy") for n in range(30)]
    chain = [item("PAY-1", assignee="Ana"), item("PAY-2", assignee="Cy")]
    chain += [item("WEB-1", assignee="Ana"), item("WEB-2", assignee="Cy")]
    deps = [dep("PAY-1", "PAY-2"), dep("WEB-1", "WEB-2")]
    pay = outcome("pay")
    web = outcome("web", Selector("jira", projects=("WEB",)))
    rollup = _rollup(history + chain, deps, outcomes=(pay, web))
    assert ("jira", "PAY-1") in rollup.outcomes[0].critical_path
    found = _allocate(rollup)
    ana = next(p for p in found.people if p.name == "Ana")
    assert [f.rule for f in ana.flags] == ["several_critical_paths"]
    assert dict(ana.critical) == {"pay": (("jira", "PAY-1"),), "web": (("jira", "WEB-1"),)}


def test_unassigned_remaining_work_is_listed_per_outcome() -> None:
    items = [
        item("PAY-1", assignee=None, estimate=2.0),
        item("PAY-2", assignee=None),
        done("PAY-3", 1, assignee=None),
    ]
    found = _allocate(_rollup(items))
    assert [(u.outcome, u.remaining, u.estimate, u.unestimated) for u in found.unassigned] == [
        ("pay", (("jira", "PAY-1"), ("jira", "PAY-2")), 2.0, 1)
    ]


def _team_world(slow_remaining: int) -> ProgramRollup:
    """Payments finishes three a week, Web one a week; each holds some remaining work."""
    fast = [done(f"PAY-{100 + n}", 1 + n * 7 / 3, assignee="Ana") for n in range(30)]
    slow = [done(f"PAY-{200 + n}", 1 + n * 7, assignee="Bo") for n in range(10)]
    left = [item(f"PAY-{n}", assignee="Ana") for n in range(1, 7)]
    left += [item(f"PAY-{10 + n}", assignee="Bo") for n in range(slow_remaining)]
    return _rollup(fast + slow + left)


def _forecasts(rollup: ProgramRollup):  # type: ignore[no-untyped-def]
    items = [c.item for o in rollup.outcomes for c in o.progress.contributors]
    directory = match(identities(items), (), TEAMS)
    names = {t.key: t.name for t in TEAMS}
    return team_forecasts(rollup, directory, names, zone=UTC, rng=random.Random(1))


def test_the_slow_teams_share_decides_the_outcomes_date() -> None:
    (forecast,) = _forecasts(_team_world(slow_remaining=6))
    assert forecast.basis == "monte_carlo"
    assert forecast.deciding == "web"
    shares = {s.key: s for s in forecast.shares}
    assert shares["web"].decides is not None
    assert shares["web"].decides > 0.9
    assert shares["payments"].p85 is not None
    assert shares["web"].p50 is not None
    assert shares["payments"].p85 < shares["web"].p50
    assert forecast.p50 is not None
    assert forecast.p50 >= shares["web"].p50


def test_with_little_slow_work_the_fast_teams_larger_share_decides() -> None:
    (forecast,) = _forecasts(_team_world(slow_remaining=0))
    assert forecast.deciding == "payments"
    assert {s.key: s.basis for s in forecast.shares} == {"payments": "monte_carlo", "web": "done"}


def test_shares_without_history_make_the_team_forecast_partial() -> None:
    rollup = _team_world(slow_remaining=2)
    extra = [item("PAY-50", assignee="Newcomer"), item("PAY-51", assignee=None)]
    rollup = _rollup([c.item for c in rollup.outcomes[0].progress.contributors] + extra)
    (forecast,) = _forecasts(rollup)
    bases = {s.key: s.basis for s in forecast.shares}
    assert bases[NO_TEAM] == "insufficient_history"
    # Nothing was ever finished while unassigned: there is no pace to forecast it by
    # (the whole outcome's pace is the teams', already spoken for).
    assert bases[UNASSIGNED] == "insufficient_history"
    assert forecast.basis == "partial"


def test_unassigned_work_is_paced_by_the_work_finished_unassigned() -> None:
    rollup = _team_world(slow_remaining=2)
    picked_up = [done(f"PAY-{300 + n}", 2 + n * 7, assignee=None) for n in range(8)]
    extra = [item("PAY-60", assignee=None), item("PAY-61", assignee=None)]
    rollup = _rollup([c.item for c in rollup.outcomes[0].progress.contributors] + picked_up + extra)
    (forecast,) = _forecasts(rollup)
    unassigned = next(s for s in forecast.shares if s.key == UNASSIGNED)
    assert unassigned.basis == "monte_carlo"
    assert unassigned.completed == 8


def test_a_team_shares_its_pace_across_the_outcomes_it_works_on() -> None:
    pay = Outcome("pay", "Pay", selectors=(Selector("jira", projects=("PAY",)),))
    web = Outcome("web", "Web", selectors=(Selector("jira", projects=("WEB",)),))
    # Ana's work went half to each outcome: with Web's work left, Pay gets half her pace.
    history = [
        done(f"{'PAY' if n % 2 else 'WEB'}-{100 + n}", 1 + n * 7 / 3, assignee="Ana")
        for n in range(30)
    ]
    pay_left = [item(f"PAY-{n}", assignee="Ana") for n in range(1, 7)]
    web_left = [item(f"WEB-{n}", assignee="Ana") for n in range(1, 31)]
    alone = _forecasts(_rollup(history + pay_left, outcomes=(pay, web)))[0]
    shared = _forecasts(_rollup(history + pay_left + web_left, outcomes=(pay, web)))[0]
    assert alone.p85 is not None
    assert shared.p85 is not None
    assert shared.p85 > alone.p85


@pytest.mark.parametrize(
    ("work", "mix", "finish"),
    [
        pytest.param({"a": 10.0, "b": 10.0}, {}, {"a": 20.0, "b": 20.0}, id="even"),
        # a gets (3 + 4/16) of 5 parts of the pace: done at 4 / 0.65; then b has it all.
        pytest.param(
            {"a": 4.0, "b": 12.0}, {"a": 3.0, "b": 1.0}, {"a": 4 / 0.65, "b": 16.0}, id="mix"
        ),
        pytest.param({"a": 0.0, "b": 5.0}, {"a": 9.0}, {"a": 0.0, "b": 5.0}, id="nothing-left"),
    ],
)
def test_a_pool_works_its_outcomes_in_proportion_and_moves_on_when_one_is_done(
    work: dict[str, float], mix: dict[str, float], finish: dict[str, float]
) -> None:
    assert share_schedule(work, mix) == pytest.approx(finish)


def test_an_outcome_with_no_work_has_no_team_forecast() -> None:
    rollup = _rollup(
        [item("WEB-1", kind=ItemKind.STORY)],
        outcomes=(Outcome("pay", "Pay", selectors=(Selector("jira", projects=("PAY",)),)),),
    )
    (forecast,) = _forecasts(rollup)
    assert forecast.basis == "no_work"
    assert forecast.shares == ()
