"""A program's flow (``rollup.flow``) from the stored items and their status history.

The items are the program's units of work as its last recomputation counted them
(``program_item``); each item's history is its stored transitions with a category.
Items whose tracker history is not stored count in their current category from their
creation, and finish at the tracker's completion time (the page says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.programs import lookup
from app.programs.membership import OUTCOME
from app.store import epoch
from app.store.epoch import instant
from app.store.tables import ItemRow, ProgramItemRow, SourceRow, TransitionRow
from rollup import flow
from rollup.flow import FlowData
from vocabulary import StatusCategory

DEFINITIONS = (
    "Start: an item's first move into an in-progress status.",
    "Finish: its last move into a done status, while it is done now; work re-opened and "
    "finished again counts once, to its final finish.",
    "Cycle time: local days from the start's day to the finish's day in the program's time "
    "zone, both counted (started and finished the same day: 1 day).",
    "Items finished without ever being in progress have no cycle time; they are counted apart.",
    "Age: local days since the start of work still in progress, counted the same way.",
    "Weeks: seven-day windows ending today; throughput counts the finishes in each.",
    "Arrivals: items created in the week; departures: items finished in it.",
    "Items whose tracker history is not stored (Asana subtasks, or a source set to "
    "`status_history: false`) count in their current "
    "category from their creation and finish when the tracker marked them complete.",
    "By status (items from one tracker): an item counts in the status its day's last move "
    "went into; before its first move, in the status that move left ('(status not "
    "recorded)' when the history does not say). Statuses are ordered by category, then "
    "by name.",
)
_CODES = {c.value: n for n, c in enumerate(flow.CATEGORIES)}


class FlowPercentiles(BaseModel):
    p50: int | None
    p85: int | None
    p95: int | None
    count: int


class CycleTimeOut(BaseModel):
    key: str
    title: str
    started_on: date
    finished_on: date
    days: int


class WeekOut(BaseModel):
    week_start: date
    done: int


class NetWeekOut(BaseModel):
    week_start: date
    arrivals: int
    departures: int
    net: int


class WipOut(BaseModel):
    on: date
    wip: int


class CfdOut(BaseModel):
    on: date
    todo: int
    in_progress: int
    done: int


class CfdStatusOut(BaseModel):
    """One band of the cumulative flow by status."""

    name: str
    category: StatusCategory


class CfdStatusDayOut(BaseModel):
    """Items in each status at the end of a day, in the order of ``cfd_statuses``."""

    on: date
    counts: list[int]


_STATUS_EXAMPLE = [
    {"name": "To Do", "category": "todo"},
    {"name": "In Review", "category": "in_progress"},
    {"name": "Done", "category": "done"},
]


class AgingOut(BaseModel):
    key: str
    title: str
    started_on: date
    age_days: int
    percentile: float
    past_p85: bool


class FlowDocument(BaseModel):
    """A program's (or one outcome's) flow over the last ``weeks`` weeks."""

    program: str
    outcome: str | None
    as_of: date
    timezone: str
    weeks: int
    cycle_time: FlowPercentiles
    done_without_start: list[str]
    cycle_times: list[CycleTimeOut]
    throughput_weekly: list[WeekOut]
    throughput_trend_per_week: float
    wip_daily: list[WipOut]
    cfd_daily: list[CfdOut]
    cfd_statuses: list[CfdStatusOut] = Field(
        default_factory=list,
        description="The bands of the cumulative flow by status, in order: by category "
        "(to do, in progress, done), then by name. Empty when the items come from more "
        "than one tracker.",
        examples=[_STATUS_EXAMPLE],
    )
    cfd_status_daily: list[CfdStatusDayOut] | None = Field(
        default=None,
        description="Per day, the items in each of `cfd_statuses` at its end. Only when "
        "every item comes from one tracker (one workflow); otherwise null, and "
        "`cfd_status_note` says why.",
        examples=[
            [
                {"on": "2026-11-30", "counts": [12, 5, 40]},
                {"on": "2026-12-01", "counts": [11, 4, 42]},
            ]
        ],
    )
    cfd_status_note: str | None = Field(
        default=None,
        description="Why the cumulative flow is by status category only (items from more "
        "than one tracker); null when it is also by status.",
    )
    aging: list[AgingOut]
    unknown_start: int
    net_flow_weekly: list[NetWeekOut]
    definitions: list[str]


@dataclass(frozen=True, slots=True)
class Loaded:
    data: FlowData
    sources: list[str]
    """The trackers (configured sources) the items come from, by name."""


def _code(column: Any) -> Any:
    """A stored category as its index in ``flow.CATEGORIES``, computed by the database."""
    return case(*((column == value, code) for value, code in _CODES.items()), else_=-1)


async def load_flow(
    session: AsyncSession, program_id: int, *, outcome: str | None = None
) -> Loaded:
    """The program's (or one outcome's) units of work with their status history; with
    their statuses too when they all come from one tracker."""
    # Core statements on the session's connection, every result fetched whole and turned
    # into columns: no ORM rows, and no Python work per row beyond reading it — at
    # 100,000 items each conversion per value shows.
    connection = await session.connection()
    chosen = select(ProgramItemRow.source_id, ProgramItemRow.key).where(
        ProgramItemRow.program_id == program_id, ProgramItemRow.facet == OUTCOME
    )
    if outcome is not None:
        chosen = chosen.where(ProgramItemRow.name == outcome)
    members = {(source_id, key) for source_id, key in (await connection.execute(chosen)).all()}
    sources = sorted({source_id for source_id, _ in members})
    names = dict(
        (
            await connection.execute(
                select(SourceRow.id, SourceRow.name).where(SourceRow.id.in_(sources))
            )
        ).all()
    )
    by_status = len(sources) == 1
    # Whole sources are read and sifted here: at 100,000 items a plain scan and a set
    # lookup cost a fraction of asking the database to join each row to the members.
    rows = [
        row
        for row in (
            await connection.execute(
                select(
                    ItemRow.source_id,
                    ItemRow.external_id,
                    ItemRow.key,
                    ItemRow.title,
                    _code(ItemRow.status_category),
                    instant(ItemRow.created_at),
                    instant(ItemRow.resolved_at),
                    *([ItemRow.status] if by_status else []),
                ).where(ItemRow.source_id.in_(sources), ItemRow.deleted.is_(False))
            )
        ).all()
        if (row[0], row[2]) in members
    ]
    index = {(row[0], row[1]): n for n, row in enumerate(rows)}
    found = index.get
    history = [
        (n, *rest)
        for source_id, external_id, *rest in (
            await connection.execute(
                select(
                    TransitionRow.source_id,
                    TransitionRow.item_external_id,
                    instant(TransitionRow.at),
                    _code(TransitionRow.to_category),
                    *([TransitionRow.to_status, TransitionRow.from_status] if by_status else []),
                ).where(
                    _scanned(TransitionRow.source_id, connection.dialect.name).in_(sources),
                    TransitionRow.to_category.in_(list(_CODES)),
                )
            )
        ).all()
        if (n := found((source_id, external_id))) is not None
    ]
    items = _columns(rows, 8 if by_status else 7)
    moves = _columns(history, 5 if by_status else 3)
    data = FlowData.columns(
        list(items[2]),
        list(items[3]),
        items[4],
        epoch.seconds(items[5]),
        epoch.seconds(items[6]),
        moves[0],
        epoch.seconds(moves[1]),
        moves[2],
    )
    if by_status:
        codes: dict[str, int] = {}
        code = codes.setdefault
        status = [code(s, len(codes)) for s in items[7]]
        move_status = [code(s, len(codes)) for s in moves[3]]
        move_from = [code(s, len(codes)) if s else -1 for s in moves[4]]
        data = replace(
            data,
            statuses=list(codes),
            status=np.asarray(status, dtype=np.int64),
            move_status=np.asarray(move_status, dtype=np.int64),
            move_from=np.asarray(move_from, dtype=np.int64),
        )
    return Loaded(data.in_order(), sorted(names[s] for s in sources))


def _scanned(column: Any, dialect: str) -> Any:
    """``column`` as SQLite should read it for a whole source: a plain table scan.

    SQLite would otherwise walk the source's rows through an index in time order and look
    each up in the table, twice the work of reading the table through (measured on the
    flow benchmark's 100,000 items). ``+ 0`` keeps the index out of that choice.
    """
    return column + 0 if dialect == "sqlite" else column


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[Sequence[Any]]:
    """Rows as columns (``width`` empty ones for no rows)."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


def mixed_note(sources: list[str]) -> str | None:
    """Why the flow is by status category only, or None when it is by status too."""
    if len(sources) < 2:
        return None
    return (
        f"The items come from {len(sources)} trackers ({', '.join(sources)}); their "
        "workflows' statuses do not line up, so the cumulative flow is shown by status "
        "category only."
    )


def document(
    measured: flow.Flow,
    *,
    program: str,
    outcome: str | None,
    timezone: str,
    weeks: int,
    sources: list[str] | None = None,
) -> FlowDocument:
    """The flow as the API serves it, validated in one pass (tens of thousands of rows:
    one model per row built in Python would cost more than measuring them)."""
    p = measured.percentiles
    by_status = bool(measured.statuses)
    return FlowDocument.model_validate(
        {
            "program": program,
            "outcome": outcome,
            "as_of": measured.as_of,
            "timezone": timezone,
            "weeks": weeks,
            "cycle_time": {"p50": p.p50, "p85": p.p85, "p95": p.p95, "count": p.count},
            "done_without_start": list(measured.done_without_start),
            "cycle_times": [
                {
                    "key": c.key,
                    "title": c.title,
                    "started_on": c.started_on,
                    "finished_on": c.finished_on,
                    "days": c.days,
                }
                for c in measured.cycle_times
            ],
            "throughput_weekly": [
                {"week_start": w.start, "done": w.departures} for w in measured.weeks
            ],
            "throughput_trend_per_week": measured.trend_per_week,
            "wip_daily": [{"on": d.on, "wip": d.in_progress} for d in measured.days],
            "cfd_daily": [
                {"on": d.on, "todo": d.todo, "in_progress": d.in_progress, "done": d.done}
                for d in measured.days
            ],
            "cfd_statuses": [{"name": s.name, "category": s.category} for s in measured.statuses],
            "cfd_status_daily": [
                {"on": d.on, "counts": list(counts)}
                for d, counts in zip(measured.days, measured.status_days, strict=True)
            ]
            if by_status
            else None,
            "cfd_status_note": None if by_status else mixed_note(sources or []),
            "aging": [
                {
                    "key": a.key,
                    "title": a.title,
                    "started_on": a.started_on,
                    "age_days": a.age_days,
                    "percentile": a.percentile,
                    "past_p85": a.past_p85,
                }
                for a in measured.aging
            ],
            "unknown_start": measured.unknown_start,
            "net_flow_weekly": [
                {
                    "week_start": w.start,
                    "arrivals": w.arrivals,
                    "departures": w.departures,
                    "net": w.net,
                }
                for w in measured.weeks
            ],
            "definitions": list(DEFINITIONS),
        }
    )


async def read_flow(
    session: AsyncSession,
    program: lookup.ConfiguredProgram,
    *,
    outcome: str | None,
    weeks: int,
    now: datetime,
) -> FlowDocument:
    """The flow of a program (or of one of its outcomes) up to today in its time zone."""
    if outcome is not None and outcome not in {o.key for o in program.config.outcomes}:
        raise lookup.NotFound(f"Program {program.config.key!r} has no outcome {outcome!r}.")
    loaded = await load_flow(session, program.id, outcome=outcome)
    zone = program.zone
    measured = flow.measure(
        loaded.data,
        as_of=now.astimezone(zone).date(),
        zone=zone,
        weeks=weeks,
        by_status=len(loaded.sources) == 1,
    )
    return document(
        measured,
        program=program.config.key,
        outcome=outcome,
        timezone=program.config.timezone,
        weeks=weeks,
        sources=loaded.sources,
    )
