"""Daily snapshots of every program and outcome, and the item-level state behind them.

A recomputation rewrites today's snapshot (the day in the program's time zone), so each
day keeps how it ended. The program's row also keeps the state of every unit of work and
every dependency, which is what ``changes since DATE`` compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Snapshot
from rollup.change import ItemState, Standing, State, capture
from rollup.forecast import Forecast
from rollup.model import Color, ItemRef, StatusCategory
from rollup.progress import ProgramProgress, Progress
from rollup.rag import Rag
from rollup.status import ProgramRollup

_CATEGORIES = list(StatusCategory)
_CODE = {c: i for i, c in enumerate(_CATEGORIES)}


def _ref_text(ref: ItemRef) -> str:
    # Source names are slugs without ":", so the first ":" always splits source from key.
    return f"{ref[0]}:{ref[1]}"


def _ref_of(text: str) -> ItemRef:
    source, _, key = text.partition(":")
    return (source, key)


def state_data(state: State) -> dict[str, Any]:
    """A program's item-level state, compact enough to keep one per day.

    ``items`` maps ``source:key`` to [category code, due date, estimate, outcome indexes].
    """
    outcome_keys = sorted({k for s in state.items.values() for k in s.outcomes})
    position = {k: i for i, k in enumerate(outcome_keys)}
    return {
        "outcomes": outcome_keys,
        "items": {
            _ref_text(ref): [
                _CODE[s.category],
                s.due_on.isoformat() if s.due_on else None,
                s.estimate,
                [position[k] for k in s.outcomes],
            ]
            for ref, s in sorted(state.items.items())
        },
        "edges": [[_ref_text(a), _ref_text(b)] for a, b in sorted(state.edges)],
        "late": [[_ref_text(a), _ref_text(b)] for a, b in sorted(state.late)],
    }


def state_of(on: date, data: Mapping[str, Any], standings: Iterable[Standing]) -> State:
    """The state ``state_data`` kept."""
    outcome_keys: list[str] = list(data.get("outcomes", []))
    items: Mapping[str, list[Any]] = data.get("items", {})
    return State(
        on=on,
        items={
            _ref_of(text): ItemState(
                _CATEGORIES[code],
                date.fromisoformat(due) if due else None,
                estimate,
                tuple(outcome_keys[i] for i in positions),
            )
            for text, (code, due, estimate, positions) in items.items()
        },
        edges=frozenset((_ref_of(a), _ref_of(b)) for a, b in data.get("edges", [])),
        standings={s.key: s for s in standings},
        late=frozenset((_ref_of(a), _ref_of(b)) for a, b in data.get("late", [])),
    )


def _figures(
    row: Snapshot, progress: Progress | ProgramProgress, rag: Rag, forecast: Forecast
) -> None:
    row.scope_count = progress.scope_count
    row.done_count = progress.done_count
    row.scope_estimate = progress.scope_estimate
    row.done_estimate = progress.done_estimate
    row.rag = rag.color.value
    row.forecast_p50_on = forecast.p50.on if forecast.p50 else None
    row.forecast_p85_on = forecast.p85.on if forecast.p85 else None
    row.forecast_p95_on = forecast.p95.on if forecast.p95 else None
    row.probability_on_time = forecast.probability_on_time


async def save(
    session: AsyncSession, program_id: int, rollup: ProgramRollup, *, taken_at: datetime
) -> None:
    """Write (or rewrite) today's snapshot of the program and of each outcome."""
    existing = {
        row.outcome_key: row
        for row in await session.scalars(
            select(Snapshot).where(
                Snapshot.program_id == program_id, Snapshot.taken_on == rollup.as_of
            )
        )
    }

    def row_for(key: str) -> Snapshot:
        row = existing.get(key)
        if row is None:
            row = Snapshot(program_id=program_id, outcome_key=key, taken_on=rollup.as_of)
            session.add(row)
        row.taken_at = taken_at
        return row

    program_row = row_for("")
    _figures(program_row, rollup.progress, rollup.rag, rollup.forecast)
    program_row.data = state_data(capture(rollup))
    for part in rollup.outcomes:
        row = row_for(part.outcome.key)
        _figures(row, part.progress, part.rag, part.forecast)
        row.data = {}


async def load_state(
    session: AsyncSession, program_id: int, *, on_or_before: date | None
) -> State | None:
    """The program's state at the end of the last day on or before ``on_or_before``
    (None: the latest); None when there is no such snapshot."""
    stmt = select(Snapshot.taken_on).where(
        Snapshot.program_id == program_id, Snapshot.outcome_key == ""
    )
    if on_or_before is not None:
        stmt = stmt.where(Snapshot.taken_on <= on_or_before)
    day = await session.scalar(stmt.order_by(Snapshot.taken_on.desc()).limit(1))
    if day is None:
        return None
    rows = list(
        await session.scalars(
            select(Snapshot).where(Snapshot.program_id == program_id, Snapshot.taken_on == day)
        )
    )
    standings = [
        Standing(
            r.outcome_key, Color(r.rag), r.forecast_p50_on, r.forecast_p85_on, r.probability_on_time
        )
        for r in rows
    ]
    program_row = next(r for r in rows if r.outcome_key == "")
    return state_of(day, program_row.data, standings)


async def first_day(session: AsyncSession, program_id: int) -> date | None:
    return await session.scalar(
        select(Snapshot.taken_on)
        .where(Snapshot.program_id == program_id, Snapshot.outcome_key == "")
        .order_by(Snapshot.taken_on)
        .limit(1)
    )
