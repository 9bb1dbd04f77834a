"""What a week's report needs beyond the figures, read off a program's roll-up: what was
finished under each epic, what falls due soon, what is blocked and by whom, and which
critical work has not started.

A report is written later from the day's snapshot, so this is captured with it: each
list is short (``LIMIT``), sorted, and names items with their assignees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from rollup.history import local_date
from rollup.model import ItemRef, WorkItem
from rollup.risk import blocked_items
from rollup.status import ProgramRollup
from vocabulary import ItemKind, StatusCategory

LIMIT = 100
RECENT_DAYS = 28
"""Units finished this many days back are listed under their epic: a report compares two
snapshots about a week apart, and a gap between snapshots can make that longer."""
AHEAD_DAYS = 28

_NOUNS = {
    ItemKind.STORY: "stories",
    ItemKind.TASK: "tasks",
    ItemKind.BUG: "bugs",
    ItemKind.SUBTASK: "subtasks",
}


@dataclass(frozen=True, slots=True)
class EpicTally:
    """One epic of an outcome (or the outcome's work under no epic, ``epic`` None)."""

    outcome: str
    epic: WorkItem | None
    noun: str
    """What its units are, in the plural: "stories", or "items" when they are mixed."""
    done: int
    left: int
    recent: tuple[tuple[ItemRef, date], ...]
    """Units finished in the last ``RECENT_DAYS`` days, with the day each was finished."""


@dataclass(frozen=True, slots=True)
class Upcoming:
    item: WorkItem
    outcome: str | None
    expected_on: date | None
    critical: bool


@dataclass(frozen=True, slots=True)
class Blocked:
    item: WorkItem
    outcome: str | None
    blockers: tuple[WorkItem, ...]
    """Unfinished work it waits on; none when its status alone says it is blocked."""


@dataclass(frozen=True, slots=True)
class Outlook:
    epics: tuple[EpicTally, ...]
    due: tuple[Upcoming, ...]
    """Unfinished work due within ``AHEAD_DAYS`` days, or overdue, soonest first."""
    blocked: tuple[Blocked, ...]
    not_started: tuple[Upcoming, ...]
    """Critical work (on a critical path, or deciding the date often) not started yet."""


def _noun(units: Iterable[WorkItem]) -> str:
    kinds = {u.kind for u in units}
    return _NOUNS.get(kinds.pop(), "items") if len(kinds) == 1 else "items"


def _epics(rollup: ProgramRollup, zone: tzinfo) -> list[EpicTally]:
    since = rollup.as_of - timedelta(days=RECENT_DAYS)
    found = []
    for o in rollup.outcomes:
        groups: dict[ItemRef | None, list[WorkItem]] = {}
        for c in o.progress.contributors:
            groups.setdefault(rollup.index.epic_of(c.item.ref), []).append(c.item)
        for epic, units in groups.items():
            recent = sorted(
                (u.ref, local_date(u.completed_at, zone))
                for u in units
                if u.completed_at is not None and local_date(u.completed_at, zone) > since
            )
            found.append(
                EpicTally(
                    outcome=o.outcome.key,
                    epic=rollup.index.items.get(epic) if epic else None,
                    noun=_noun(units),
                    done=sum(1 for u in units if u.done),
                    left=sum(1 for u in units if not u.done),
                    recent=tuple(recent[:LIMIT]),
                )
            )
    return sorted(found, key=lambda e: (e.outcome, e.epic is None, e.epic.key if e.epic else ""))


def _units(rollup: ProgramRollup) -> dict[ItemRef, tuple[WorkItem, str]]:
    """Every unit of work once, with the first outcome it feeds."""
    found: dict[ItemRef, tuple[WorkItem, str]] = {}
    for o in rollup.outcomes:
        for c in o.progress.contributors:
            found.setdefault(c.item.ref, (c.item, o.outcome.key))
    return found


def _predecessors(rollup: ProgramRollup) -> Mapping[ItemRef, list[ItemRef]]:
    before: dict[ItemRef, list[ItemRef]] = {}
    for edge in rollup.edges:
        item = rollup.index.items.get(edge.before)
        if item is not None and not item.done:
            before.setdefault(edge.after, []).append(edge.before)
    return before


def capture(rollup: ProgramRollup, zone: tzinfo) -> Outlook:
    """The outlook of a program on its roll-up's day."""
    units = _units(rollup)
    as_of, horizon = rollup.as_of, rollup.as_of + timedelta(days=AHEAD_DAYS)
    open_units = [(u, o) for u, o in units.values() if not u.done]
    due = sorted(
        (
            Upcoming(u, o, rollup.expected.get(u.ref), u.ref in rollup.critical)
            for u, o in open_units
            if u.due_on is not None and u.due_on <= horizon
        ),
        key=lambda x: (x.item.due_on or as_of, x.item.source, x.item.key),
    )
    waiting = _predecessors(rollup)
    statuses = rollup.program.policy.risks.blocked_statuses
    blocked_units = blocked_items([u for u, _ in open_units], set(waiting), statuses)
    blocked = sorted(
        (
            Blocked(
                u,
                units[u.ref][1],
                tuple(rollup.index.items[r] for r in sorted(waiting.get(u.ref, ()))),
            )
            for u in blocked_units
        ),
        key=lambda b: (b.item.due_on or date.max, b.item.source, b.item.key),
    )
    not_started = sorted(
        (
            Upcoming(u, o, rollup.expected.get(u.ref), True)
            for u, o in open_units
            if u.ref in rollup.critical and u.status_category is StatusCategory.TODO
        ),
        key=lambda x: (x.expected_on or x.item.due_on or date.max, x.item.source, x.item.key),
    )
    return Outlook(
        epics=tuple(_epics(rollup, zone)),
        due=tuple(due[:LIMIT]),
        blocked=tuple(blocked[:LIMIT]),
        not_started=tuple(not_started[:LIMIT]),
    )
