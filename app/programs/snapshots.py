"""Daily snapshots of every program and outcome, and the item-level state behind them.

A recomputation rewrites today's snapshot (the day in the program's time zone), so each
day keeps how it ended. The program's row also keeps the state of every unit of work and
every dependency, which is what ``changes since DATE`` compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.tables import SnapshotRow
from rollup import inputs
from rollup.change import ItemState, Standing, State, capture
from rollup.forecast import Forecast
from rollup.model import Color, ItemRef
from rollup.progress import ProgramProgress, Progress
from rollup.rag import Rag
from rollup.status import ProgramRollup
from vocabulary import StatusCategory

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
    indexes: dict[tuple[str, ...], list[int]] = {}
    items = {}
    for ref, s in state.items.items():
        if s.outcomes not in indexes:
            indexes[s.outcomes] = [position[k] for k in s.outcomes]
        due = s.due_on.isoformat() if s.due_on else None
        items[f"{ref[0]}:{ref[1]}"] = [_CODE[s.category], due, s.estimate, indexes[s.outcomes]]
    return {
        "outcomes": outcome_keys,
        "items": items,
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


def kept_forecast(forecast: Forecast, rag: Rag, target: date | None) -> dict[str, Any]:
    """What a snapshot keeps of a forecast beyond its dates: its basis, the target its
    probability was stated against, the verdict (``rollup.hysteresis``) and its inputs."""
    verdict = rag.verdict
    return {
        "basis": forecast.basis.value,
        "target": target.isoformat() if target else None,
        "verdict": verdict.shown.value if verdict else None,
        "verdict_raw": verdict.raw.value if verdict else None,
        "inputs": inputs.to_data(forecast.inputs) if forecast.inputs else None,
    }


def _figures(
    progress: Progress | ProgramProgress, rag: Rag, forecast: Forecast, target: date | None
) -> dict[str, Any]:
    return {
        "scope_count": progress.scope_count,
        "done_count": progress.done_count,
        "scope_estimate": progress.scope_estimate,
        "done_estimate": progress.done_estimate,
        "rag": rag.color.value,
        "forecast_p50_on": forecast.p50.on if forecast.p50 else None,
        "forecast_p85_on": forecast.p85.on if forecast.p85 else None,
        "forecast_p95_on": forecast.p95.on if forecast.p95 else None,
        "probability_on_time": forecast.probability_on_time,
        "forecast": kept_forecast(forecast, rag, target),
    }


async def save(
    session: AsyncSession,
    program_id: int,
    rollup: ProgramRollup,
    *,
    taken_at: datetime,
    document: dict[str, Any] | None = None,
    bars: dict[str, Any] | None = None,
) -> None:
    """Write (or rewrite) today's snapshot of the program and of each outcome.

    ``document`` goes on the program's row: what a weekly report of the day is written
    from (``app.programs.record``); ``bars`` too, beside the item state: each roadmap
    bar's dates, which later roadmaps draw as their baseline. Rows are written without
    being read back: today's item state can be large, and it is replaced whole.
    """
    day = rollup.as_of
    existing = dict(
        (
            await session.execute(
                select(SnapshotRow.outcome_key, SnapshotRow.id).where(
                    SnapshotRow.program_id == program_id, SnapshotRow.taken_on == day
                )
            )
        ).all()
    )
    rows = [
        (
            "",
            _figures(rollup.progress, rollup.rag, rollup.forecast, rollup.target),
            state_data(capture(rollup)) | ({"bars": bars} if bars is not None else {}),
        ),
        *(
            (o.outcome.key, _figures(o.progress, o.rag, o.forecast, o.outcome.target), {})
            for o in rollup.outcomes
        ),
    ]
    for key, figures, data in rows:
        values = {**figures, "taken_at": taken_at, "data": data}
        if key == "":
            values["document"] = document
        if key in existing:
            await session.execute(
                update(SnapshotRow).where(SnapshotRow.id == existing[key]).values(**values)
            )
        else:
            await session.execute(
                insert(SnapshotRow).values(
                    program_id=program_id, outcome_key=key, taken_on=day, **values
                )
            )


async def load_state(
    session: AsyncSession, program_id: int, *, on_or_before: date | None
) -> State | None:
    """The program's state at the end of the last day on or before ``on_or_before``
    (None: the latest); None when there is no such snapshot."""
    stmt = select(SnapshotRow.taken_on).where(
        SnapshotRow.program_id == program_id, SnapshotRow.outcome_key == ""
    )
    if on_or_before is not None:
        stmt = stmt.where(SnapshotRow.taken_on <= on_or_before)
    day = await session.scalar(stmt.order_by(SnapshotRow.taken_on.desc()).limit(1))
    if day is None:
        return None
    return state_from(day, await day_rows(session, program_id, day))


async def day_rows(session: AsyncSession, program_id: int, day: date) -> list[SnapshotRow]:
    """The program's and its outcomes' snapshot rows of one day."""
    return list(
        await session.scalars(
            select(SnapshotRow).where(
                SnapshotRow.program_id == program_id, SnapshotRow.taken_on == day
            )
        )
    )


def state_from(day: date, rows: Iterable[SnapshotRow]) -> State:
    """The state a day's snapshot rows (the program's among them) describe."""
    rows = list(rows)
    standings = [
        Standing(
            r.outcome_key, Color(r.rag), r.forecast_p50_on, r.forecast_p85_on, r.probability_on_time
        )
        for r in rows
    ]
    program_row = next(r for r in rows if r.outcome_key == "")
    return state_of(day, program_row.data, standings)


async def last_day(session: AsyncSession, program_id: int, *, on_or_before: date) -> date | None:
    """The program's last snapshot day on or before a day."""
    return await session.scalar(
        select(func.max(SnapshotRow.taken_on)).where(
            SnapshotRow.program_id == program_id,
            SnapshotRow.outcome_key == "",
            SnapshotRow.taken_on <= on_or_before,
        )
    )


async def first_day(session: AsyncSession, program_id: int) -> date | None:
    return await session.scalar(
        select(SnapshotRow.taken_on)
        .where(SnapshotRow.program_id == program_id, SnapshotRow.outcome_key == "")
        .order_by(SnapshotRow.taken_on)
        .limit(1)
    )
