"""The roadmap's bars: where each starts and ends, its forecast, its group and order, and
the dependencies and milestones drawn with it."""

from __future__ import annotations

import random
from datetime import UTC, date, timedelta

import pytest

from rollup import roadmap
from rollup.model import Dependency, Selector, WorkItem
from rollup.status import ProgramRollup, evaluate
from rollup.trend import Trend
from tests.rollup.builders import AS_OF, at, dep, doing, done, item, outcome, program, world
from vocabulary import ItemKind, StatusCategory


def _epic(key: str, **overrides: object) -> WorkItem:
    return item(key, kind=ItemKind.EPIC, **overrides)  # type: ignore[arg-type]


def _build(
    items: list[WorkItem], deps: list[Dependency] | None = None, **kw: object
) -> roadmap.Roadmap:
    index, graph = world(items, deps or [])
    rollup: ProgramRollup = evaluate(
        program(**kw), index, graph, Trend(), as_of=AS_OF, zone=UTC, rng=random.Random(5)
    )  # type: ignore[arg-type]
    return roadmap.build(rollup, zone=UTC, rng=random.Random(5))


class TestBarStart:
    def test_the_epics_start_date_comes_first(self) -> None:
        epic = _epic("PAY-1", start_on=date(2026, 9, 1), started_at=at(10))
        assert roadmap.bar_start(epic, [], UTC) == (date(2026, 9, 1), "start_date")

    def test_else_the_epics_first_move_to_in_progress(self) -> None:
        epic = _epic("PAY-1", started_at=at(10))
        assert roadmap.bar_start(epic, [], UTC) == (AS_OF - timedelta(days=10), "first_in_progress")

    def test_else_the_earliest_start_of_its_work(self) -> None:
        units = [
            doing("PAY-2", 4),
            item("PAY-3", start_on=AS_OF - timedelta(days=20)),
            item("PAY-4"),
        ]
        assert roadmap.bar_start(_epic("PAY-1"), units, UTC) == (
            AS_OF - timedelta(days=20),
            "earliest_work",
        )

    def test_nothing_started_has_no_start(self) -> None:
        assert roadmap.bar_start(None, [item("PAY-2")], UTC) == (None, None)


class TestBarDue:
    def test_the_epics_due_date(self) -> None:
        units = [item("PAY-2", due_on=date(2027, 5, 1))]
        assert roadmap.bar_due(_epic("PAY-1", due_on=date(2027, 1, 1)), units) == (
            date(2027, 1, 1),
            "due_date",
        )

    def test_else_the_latest_due_date_of_its_work(self) -> None:
        units = [
            item("PAY-2", due_on=date(2027, 5, 1)),
            item("PAY-3", due_on=date(2027, 2, 1)),
            item("PAY-4"),
        ]
        assert roadmap.bar_due(None, units) == (date(2027, 5, 1), "latest_work")


def _steady(prefix: str, parent: str | None, weeks: int = 8) -> list[WorkItem]:
    return [done(f"{prefix}-{100 + n}", 1 + n * 7 / 2, parent_key=parent) for n in range(weeks * 2)]


def test_a_bar_per_epic_and_per_project_of_work_under_no_epic() -> None:
    items = [
        _epic("PAY-1", title="Wallet"),
        item("PAY-2", parent_key="PAY-1"),
        item("PAY-3"),
        item("PAY-4", source="asana", project="900"),
    ]
    pay = outcome("pay", Selector("jira", projects=("PAY",)), Selector("asana", projects=("900",)))
    found = _build(items, outcomes=(pay,))
    assert {(b.id, b.kind, b.title) for b in found.bars} == {
        ("jira:PAY-1", "epic", "Wallet"),
        ("jira/PAY", "project", "PAY"),
        ("asana/900", "project", "900"),
    }


def test_bars_are_grouped_by_outcome_then_project_then_ordered_by_start() -> None:
    items = [
        _epic("WEB-1", start_on=date(2026, 10, 1)),
        item("WEB-2", parent_key="WEB-1"),
        _epic("PAY-1", start_on=date(2026, 12, 1)),
        item("PAY-2", parent_key="PAY-1"),
        _epic("PAY-5", start_on=date(2026, 11, 1)),
        item("PAY-6", parent_key="PAY-5"),
        _epic("PAY-7"),
        item("PAY-8", parent_key="PAY-7"),
    ]
    web = outcome("web", Selector("jira", projects=("WEB",)))
    pay = outcome("pay")
    found = _build(items, outcomes=(web, pay))
    assert [b.id for b in found.bars] == ["jira:WEB-1", "jira:PAY-5", "jira:PAY-1", "jira:PAY-7"]
    assert [lane.key for lane in found.lanes] == ["web", "pay"]


def test_a_bar_feeding_two_outcomes_is_drawn_once_under_the_one_most_of_it_feeds() -> None:
    items = [
        _epic("PAY-1"),
        item("PAY-2", parent_key="PAY-1", labels=("x",)),
        item("PAY-3", parent_key="PAY-1"),
    ]
    small = outcome("small", Selector("jira", labels=("x",)))
    found = _build(items, outcomes=(small, outcome("pay")))
    (bar,) = found.bars
    assert bar.outcome == "pay"
    assert bar.outcomes == ("small", "pay")
    assert bar.scope == 2


def test_a_bar_with_its_own_history_gets_its_own_range() -> None:
    items = [_epic("PAY-1", due_on=AS_OF + timedelta(days=7)), *_steady("PAY", "PAY-1")]
    items += [item(f"PAY-{n}", parent_key="PAY-1") for n in range(2, 12)]
    (bar,) = _build(items).bars
    assert bar.forecast_basis == "own_history"
    assert bar.p50 is not None
    assert bar.p85 is not None
    assert AS_OF < bar.p50 <= bar.p85
    assert bar.late, "ten items at two a week cannot be done in a week"
    assert (bar.scope, bar.done) == (26, 16)


def test_a_bar_without_enough_history_borrows_its_outcomes_range() -> None:
    items = [*_steady("PAY", None), _epic("PAY-1"), item("PAY-2", parent_key="PAY-1")]
    found = _build(items)
    bar = next(b for b in found.bars if b.id == "jira:PAY-1")
    lane = found.lanes[0]
    assert bar.forecast_basis == "outcome"
    assert (bar.p50, bar.p85) == (lane.p50, lane.p85)


def test_a_finished_bar_ends_when_its_last_work_did() -> None:
    items = [_epic("PAY-1", due_on=AS_OF - timedelta(days=5)), done("PAY-2", 3, parent_key="PAY-1")]
    (bar,) = _build(items).bars
    assert bar.forecast_basis == "done"
    assert bar.finished_on == AS_OF - timedelta(days=3)
    assert bar.late


def test_dependencies_are_counted_between_bars_and_late_ones_marked() -> None:
    items = [
        _epic("PAY-1"),
        item("PAY-2", parent_key="PAY-1", due_on=AS_OF + timedelta(days=30)),
        item("PAY-3", parent_key="PAY-1"),
        _epic("PAY-5"),
        item("PAY-6", parent_key="PAY-5", start_on=AS_OF + timedelta(days=2)),
        item("PAY-7", parent_key="PAY-5"),
    ]
    deps = [dep("PAY-2", "PAY-6"), dep("PAY-3", "PAY-7"), dep("PAY-2", "PAY-3")]
    found = _build(items, deps)
    assert [(x.before, x.after, x.count) for x in found.links] == [("jira:PAY-1", "jira:PAY-5", 2)]
    assert found.links[0].late == 1, "PAY-6 starts before PAY-2 is due"


def test_milestones_sit_on_their_epics_bar_or_in_their_outcomes_row() -> None:
    items = [
        _epic("PAY-1"),
        item("PAY-2", parent_key="PAY-1"),
        item("PAY-3", kind=ItemKind.MILESTONE, parent_key="PAY-1", due_on=AS_OF),
        item("PAY-4", kind=ItemKind.MILESTONE, due_on=AS_OF + timedelta(days=9)),
    ]
    found = _build(items)
    assert {m.ref[1]: (m.bar, m.outcome) for m in found.milestones} == {
        "PAY-3": ("jira:PAY-1", "pay"),
        "PAY-4": (None, "pay"),
    }


def test_the_baseline_keeps_each_bars_dates_and_reads_them_back() -> None:
    items = [
        _epic("PAY-1", start_on=date(2026, 9, 1), due_on=date(2027, 1, 1)),
        done("PAY-2", 2, parent_key="PAY-1"),
    ]
    found = _build(items)
    kept = roadmap.baseline_data(found)
    finished = AS_OF - timedelta(days=2)
    assert roadmap.baseline_of(kept) == {
        "jira:PAY-1": (date(2026, 9, 1), date(2027, 1, 1), finished, finished)
    }


@pytest.mark.parametrize(
    "broken", [{"x": "2026-01-01"}, {"x": [1, 2]}, {"x": ["no", None, None, None]}]
)
def test_an_unreadable_baseline_entry_is_left_out(broken: dict[str, object]) -> None:
    assert roadmap.baseline_of(broken) == {}


def test_in_progress_status_of_epics_does_not_make_them_work() -> None:
    items = [_epic("PAY-1", status_category=StatusCategory.IN_PROGRESS, status="In Progress")]
    assert _build(items).bars == ()
