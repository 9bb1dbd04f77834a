"""Northwind, the demo's organisation: seeded, and telling the story the demo promises."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from connectors.fake.org import HISTORY_DAYS, Flow, Organisation
from connectors.fake.org.flow import PACE_WEEKS
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


def _live(org: Organisation, flow: Flow, *, seconds: float, tick: float = 3.0) -> list[str]:
    """Step the live organisation on the fakes' clock, as the demo does every ``tick``."""
    changes = []
    for _ in range(int(seconds / tick)):
        org.clock.advance(tick)
        changes += [c.text for c in flow.step()]
    return changes


def _started_live(seed: int = 7) -> tuple[Organisation, Flow]:
    org = Organisation()
    flow = Flow(org, today=TODAY, seed=seed)
    flow.play(HISTORY_DAYS - 1)
    org.set_at(datetime.combine(TODAY, time(10), UTC))
    return org, flow


def test_the_organisation_lives_on_after_its_history() -> None:
    org, flow = _started_live()
    states = {w.key: w.state for w in org.work}
    changes = _live(org, flow, seconds=3600)
    assert len(changes) >= 10
    assert {w.key: w.state for w in org.work if w.key in states} != states
    assert any(w.state == DONE for w in org.work if states.get(w.key) not in (None, DONE))


def test_an_hour_live_is_a_working_week_at_the_historys_pace() -> None:
    org, flow = _started_live()
    done_before = sum(w.state == DONE for w in org.work if w.kind == "story")
    stories_before = sum(w.kind == "story" for w in org.work)
    recent = HISTORY_DAYS - 7 * PACE_WEEKS
    finished = [
        h
        for i in org.jira.data.issues.values()
        for h in i.histories
        if h.to_string == "Done" and h.at >= flow.start + timedelta(days=recent)
    ]
    weekly = len(finished) / PACE_WEEKS

    _live(org, flow, seconds=3600)

    done = sum(w.state == DONE for w in org.work if w.kind == "story") - done_before
    added = sum(w.kind == "story" for w in org.work) - stories_before
    assert HISTORY_DAYS + 4 <= flow.day <= HISTORY_DAYS + 8, "five working days went by"
    assert 1 <= done <= 3 * weekly + 3, (done, weekly)
    assert added <= 6, "scope arrives as it did, a few stories a week"


def test_the_same_clock_gives_the_same_live_changes() -> None:
    first, first_flow = _started_live()
    second, second_flow = _started_live()
    assert _live(first, first_flow, seconds=1800) == _live(second, second_flow, seconds=1800)


def test_an_asana_task_waits_on_late_unfinished_jira_work() -> None:
    org, flow = _started_live()
    _live(org, flow, seconds=3600)
    sign_up = org.by_title["Sign-up with Google Workspace"]
    [blocker] = sign_up.blockers
    assert blocker.jira
    assert not sign_up.jira
    assert blocker.state != DONE
    assert sign_up.state == TODO
    jira_due = org.jira.issue_named(blocker.key).due
    asana_due = org.world.tasks[sign_up.key].due_on
    assert jira_due is not None
    assert asana_due is not None
    assert jira_due > asana_due
    assert f"Blocked by {blocker.key}" in org.world.tasks[sign_up.key].notes
