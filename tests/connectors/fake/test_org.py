"""Northwind, the demo's organisation: seeded, and telling the story the demo promises."""

from __future__ import annotations

from datetime import date

from connectors.fake.org import HISTORY_DAYS, Flow, Organisation
from connectors.fake.org.world import DOING, DONE, TODO

TODAY = date(2026, 11, 21)


def _played(seed: int = 7, today: date = TODAY) -> Organisation:
    org = Organisation()
    Flow(org, today=today, seed=seed).play(HISTORY_DAYS - 1)
    return org


def test_the_same_seed_and_day_give_the_same_organisation() -> None:
    first, second = _played(), _played()
    assert [(w.key, w.title, w.state) for w in first.work] == [
        (w.key, w.title, w.state) for w in second.work
    ]
    assert len(first.jira.data) == len(second.jira.data)
    assert first.world.tasks.keys() == second.world.tasks.keys()


def test_the_history_ends_yesterday_and_spans_six_months() -> None:
    org = _played()
    created = [i.created for i in org.jira.data.issues.values()]
    assert min(created).date() <= date(2026, 6, 1)
    assert max(i.updated for i in org.jira.data.issues.values()).date() < TODAY
    done = [h for i in org.jira.data.issues.values() for h in i.histories if h.to_string == "Done"]
    assert len({h.at.date().isocalendar()[1] for h in done}) > 15, "work finished most weeks"


def test_the_cycle_never_starts_and_the_impatient_story_waits_on_its_blocker() -> None:
    org = _played()
    cycle = [
        "Move trial limits into the entitlement service",
        "Enforce seat limits at sign-up",
        "Expose entitlements in the accounts API",
    ]
    assert {org.by_title[t].state for t in cycle} == {TODO}
    waiting = org.by_title["Show saved cards on the payment step"]
    assert waiting.state == DOING
    assert [b.state for b in waiting.blockers] == [TODO]


def test_the_same_people_work_in_both_trackers_under_one_address() -> None:
    org = _played()
    jira = {u.email for u in org.jira.data.users}
    asana = {u.email for u in org.world.users.values()}
    assert "priya.raman@northwind.example" in jira & asana
    assert any(t.assignee for t in org.world.tasks.values())


def test_a_cross_tracker_blocker_is_written_where_a_connector_finds_it() -> None:
    org = _played()
    picker = org.by_title["Plan picker page"]
    plans = org.by_title["Plans API: list plans and prices"]
    assert f"Blocked by {plans.key}" in org.world.tasks[picker.key].notes


def test_the_organisation_lives_on_after_its_history() -> None:
    org = Organisation()
    flow = Flow(org, today=TODAY, seed=7)
    flow.play(HISTORY_DAYS - 1)
    org.clock.offset = 0.0
    states = {w.key: w.state for w in org.work}
    changes = [flow.step() for _ in range(30)]
    assert sum(c is not None for c in changes) >= 20
    assert {w.key: w.state for w in org.work if w.key in states} != states
    assert any(w.state == DONE for w in org.work if states.get(w.key) not in (None, DONE))
