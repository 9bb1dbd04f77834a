"""What changed between two snapshots of a program, with the items behind each change."""

from __future__ import annotations

from datetime import timedelta

from rollup.change import ItemState, RiskEvent, Standing, State, diff
from rollup.model import Color
from tests.rollup.builders import AS_OF, ref
from vocabulary import StatusCategory

TODO, DOING, DONE = StatusCategory.TODO, StatusCategory.IN_PROGRESS, StatusCategory.DONE
WEEK_AGO = AS_OF - timedelta(days=7)
D1 = AS_OF + timedelta(days=10)


def state(on, items, edges=(), rag=Color.GREEN, p85=None, late=()) -> State:  # type: ignore[no-untyped-def]
    return State(
        on=on,
        items={ref(k): ItemState(c, due, None, ("pay",)) for k, (c, due) in items.items()},
        edges=frozenset((ref(a), ref(b)) for a, b in edges),
        standings={"": Standing("", rag, None, p85), "pay": Standing("pay", rag, None, p85)},
        late=frozenset((ref(a), ref(b)) for a, b in late),
    )


BEFORE = state(
    WEEK_AGO,
    {"A-1": (DOING, None), "A-2": (TODO, D1), "A-3": (DONE, None), "A-4": (TODO, None)},
    edges=[("A-1", "A-2"), ("A-2", "A-4")],
    p85=AS_OF + timedelta(days=20),
    late=[("A-2", "A-4")],
)
AFTER = state(
    AS_OF,
    {
        "A-1": (DONE, None),
        "A-2": (DOING, D1 + timedelta(days=5)),
        "A-3": (TODO, None),
        "A-5": (DONE, None),
    },
    edges=[("A-1", "A-2"), ("A-2", "A-5")],
    rag=Color.AMBER,
    late=[("A-1", "A-2")],
    p85=AS_OF + timedelta(days=27),
)


def test_completed_added_and_removed_scope() -> None:
    changes = diff(BEFORE, AFTER)
    assert changes.completed == (ref("A-1"), ref("A-5"))
    assert changes.added == (ref("A-5"),)
    assert changes.removed == (ref("A-4"),)


def test_status_flips_other_than_completion() -> None:
    flips = [(f.ref[1], f.before, f.after) for f in diff(BEFORE, AFTER).status_flips]
    assert flips == [("A-2", TODO, DOING), ("A-3", DONE, TODO)]


def test_date_slips_of_due_dates_and_forecasts() -> None:
    changes = diff(BEFORE, AFTER)
    assert [(c.ref, c.days) for c in changes.due_changes] == [(ref("A-2"), 5)]
    assert [(c.key, (c.p85_after - c.p85_before).days) for c in changes.forecast_changes] == [
        ("", 7),
        ("pay", 7),
    ]  # type: ignore[operator]


def test_rag_changes_and_dependency_changes() -> None:
    changes = diff(BEFORE, AFTER)
    assert [(c.key, c.before, c.after) for c in changes.rag_changes] == [
        ("", Color.GREEN, Color.AMBER),
        ("pay", Color.GREEN, Color.AMBER),
    ]
    assert changes.dependencies_added == ((ref("A-2"), ref("A-5")),)
    assert changes.dependencies_removed == ((ref("A-2"), ref("A-4")),)
    assert changes.newly_late == ((ref("A-1"), ref("A-2")),)


def test_risks_opened_and_closed_within_the_window() -> None:
    events = [
        RiskEvent(1, WEEK_AGO, "opened", "overdue", "old", "medium"),
        RiskEvent(2, AS_OF - timedelta(days=3), "opened", "stale_work", "new", "medium"),
        RiskEvent(1, AS_OF, "closed", "overdue", "old", "medium"),
    ]
    changes = diff(BEFORE, AFTER, events)
    assert [e.risk_id for e in changes.risks_opened] == [2]
    assert [e.risk_id for e in changes.risks_closed] == [1]


def test_nothing_changed() -> None:
    changes = diff(BEFORE, BEFORE)
    assert (changes.completed, changes.added, changes.removed, changes.status_flips) == (
        (),
        (),
        (),
        (),
    )
