"""What changed between two days: the diff of two snapshots of a program.

A ``State`` is what a program looked like at the end of a day, item by item; the store
keeps one per program per day. ``diff`` compares two and names the items behind every
change, so "3 items added" is always three keys a program manager can open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from rollup.model import Color, ItemRef, WorkItem
from rollup.status import ProgramRollup
from vocabulary import StatusCategory


@dataclass(frozen=True, slots=True)
class ItemState:
    category: StatusCategory
    due_on: date | None
    estimate: float | None
    outcomes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Standing:
    """How a program (``key`` empty) or an outcome stood: colour and forecast."""

    key: str
    rag: Color
    p50: date | None = None
    p85: date | None = None
    probability_on_time: float | None = None


@dataclass(frozen=True, slots=True)
class State:
    on: date
    items: Mapping[ItemRef, ItemState]
    """Every unit of work the program's outcomes count."""
    edges: frozenset[tuple[ItemRef, ItemRef]]
    standings: Mapping[str, Standing]
    late: frozenset[tuple[ItemRef, ItemRef]] = frozenset()
    """The dependencies that were late."""


def capture(rollup: ProgramRollup) -> State:
    """The state a roll-up describes, as it will be kept in the day's snapshot."""
    outcomes: dict[ItemRef, list[str]] = {}
    items: dict[ItemRef, WorkItem] = {}
    for part in rollup.outcomes:
        for c in part.progress.contributors:
            items[c.item.ref] = c.item
            outcomes.setdefault(c.item.ref, []).append(part.outcome.key)
    standings = {
        o.outcome.key: Standing(
            o.outcome.key,
            o.rag.color,
            o.forecast.p50.on if o.forecast.p50 else None,
            o.forecast.p85.on if o.forecast.p85 else None,
            o.forecast.probability_on_time,
        )
        for o in rollup.outcomes
    }
    forecast = rollup.forecast
    standings[""] = Standing(
        "",
        rollup.rag.color,
        forecast.p50.on if forecast.p50 else None,
        forecast.p85.on if forecast.p85 else None,
        forecast.probability_on_time,
    )
    return State(
        on=rollup.as_of,
        items={
            ref: ItemState(i.status_category, i.due_on, i.estimate, tuple(outcomes[ref]))
            for ref, i in items.items()
        },
        edges=frozenset((e.before, e.after) for e in rollup.edges),
        standings=standings,
        late=frozenset((d.edge.before, d.edge.after) for d in rollup.late),
    )


@dataclass(frozen=True, slots=True)
class StatusFlip:
    ref: ItemRef
    before: StatusCategory
    after: StatusCategory


@dataclass(frozen=True, slots=True)
class DateChange:
    ref: ItemRef
    before: date | None
    after: date | None

    @property
    def days(self) -> int | None:
        """How many days later (negative: earlier); None when a date came or went."""
        return (self.after - self.before).days if self.before and self.after else None


@dataclass(frozen=True, slots=True)
class ForecastChange:
    key: str
    """The outcome, or ``""`` for the program."""
    p50_before: date | None
    p50_after: date | None
    p85_before: date | None
    p85_after: date | None


@dataclass(frozen=True, slots=True)
class RagChange:
    key: str
    before: Color
    after: Color


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """A derived or register risk opening or closing, as the store recorded it."""

    risk_id: int
    on: date
    kind: str
    """``opened`` or ``closed``."""
    rule: str | None
    title: str
    severity: str
    items: tuple[str, ...] = ()
    """The keys of the items behind the risk."""


@dataclass(frozen=True, slots=True)
class Changes:
    since: date
    until: date
    completed: tuple[ItemRef, ...] = ()
    added: tuple[ItemRef, ...] = ()
    removed: tuple[ItemRef, ...] = ()
    due_changes: tuple[DateChange, ...] = ()
    forecast_changes: tuple[ForecastChange, ...] = ()
    status_flips: tuple[StatusFlip, ...] = ()
    rag_changes: tuple[RagChange, ...] = ()
    risks_opened: tuple[RiskEvent, ...] = ()
    risks_closed: tuple[RiskEvent, ...] = ()
    dependencies_added: tuple[tuple[ItemRef, ItemRef], ...] = ()
    dependencies_removed: tuple[tuple[ItemRef, ItemRef], ...] = ()
    newly_late: tuple[tuple[ItemRef, ItemRef], ...] = ()
    """Dependencies late now that were not late (or not there) before."""
    outcomes: Mapping[ItemRef, tuple[str, ...]] = field(default_factory=dict)
    """The outcomes each item behind a change feeds (then or now)."""


def diff(before: State, after: State, risk_events: Iterable[RiskEvent] = ()) -> Changes:
    """Everything that changed from ``before`` to ``after``, each with its items.

    ``completed`` is work that reached done; other moves between categories (started,
    reopened) are ``status_flips``. Due-date changes of work still in scope are listed
    whichever way they moved; ``DateChange.days`` says how far.
    """
    old, new = before.items, after.items
    kept = old.keys() & new.keys()
    done = StatusCategory.DONE
    flips = [
        StatusFlip(r, old[r].category, new[r].category)
        for r in sorted(kept)
        if old[r].category != new[r].category
    ]
    events = [e for e in risk_events if before.on < e.on <= after.on]
    return Changes(
        since=before.on,
        until=after.on,
        completed=tuple(f.ref for f in flips if f.after is done)
        + tuple(sorted(r for r in new.keys() - old.keys() if new[r].category is done)),
        added=tuple(sorted(new.keys() - old.keys())),
        removed=tuple(sorted(old.keys() - new.keys())),
        due_changes=tuple(
            DateChange(r, old[r].due_on, new[r].due_on)
            for r in sorted(kept)
            if old[r].due_on != new[r].due_on
        ),
        forecast_changes=_forecast_changes(before, after),
        status_flips=tuple(f for f in flips if f.after is not done),
        rag_changes=tuple(
            RagChange(k, before.standings[k].rag, s.rag)
            for k, s in sorted(after.standings.items())
            if k in before.standings and before.standings[k].rag != s.rag
        ),
        risks_opened=tuple(e for e in events if e.kind == "opened"),
        risks_closed=tuple(e for e in events if e.kind == "closed"),
        dependencies_added=tuple(sorted(after.edges - before.edges)),
        dependencies_removed=tuple(sorted(before.edges - after.edges)),
        newly_late=tuple(sorted(after.late - before.late)),
        outcomes={r: s.outcomes for r, s in (*old.items(), *new.items())},
    )


def _forecast_changes(before: State, after: State) -> tuple[ForecastChange, ...]:
    found = []
    for key, now in sorted(after.standings.items()):
        then = before.standings.get(key)
        if then is not None and (then.p50, then.p85) != (now.p50, now.p85):
            found.append(ForecastChange(key, then.p50, now.p50, then.p85, now.p85))
    return tuple(found)
