"""A program's flow (``rollup.flow``) from the stored items and their status history.

The items are the program's units of work as its last recomputation counted them
(``program_item``); each item's history is its stored transitions with a category.
Items whose tracker history is not stored count in their current category from their
creation, and finish at the tracker's completion time (the page says so).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.programs import lookup
from app.programs.membership import OUTCOME
from app.store.tables import ItemRow, ProgramItemRow, TransitionRow
from rollup import flow
from rollup.flow import FlowItem, Move
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
    "Items whose tracker history is not stored (Asana tasks) count in their current "
    "category from their creation and finish when the tracker marked them complete.",
)
_CATEGORIES = {c.value: c for c in StatusCategory}


class Percentiles(BaseModel):
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
    cycle_time: Percentiles
    done_without_start: list[str]
    cycle_times: list[CycleTimeOut]
    throughput_weekly: list[WeekOut]
    throughput_trend_per_week: float
    wip_daily: list[WipOut]
    cfd_daily: list[CfdOut]
    aging: list[AgingOut]
    unknown_start: int
    net_flow_weekly: list[NetWeekOut]
    definitions: list[str]


async def load_flow_items(session: AsyncSession, program_id: int) -> list[FlowItem]:
    """The program's units of work, each with its outcomes and its status history."""
    members = select(ProgramItemRow.source_id, ProgramItemRow.key, ProgramItemRow.name).where(
        ProgramItemRow.program_id == program_id, ProgramItemRow.facet == OUTCOME
    )
    outcomes: dict[tuple[int, str], list[str]] = defaultdict(list)
    for source_id, key, name in await session.execute(members):
        outcomes[(source_id, key)].append(name)
    wanted = members.with_only_columns(ProgramItemRow.source_id, ProgramItemRow.key).distinct()
    picked = wanted.subquery()
    on_member = and_(ItemRow.source_id == picked.c.source_id, ItemRow.key == picked.c.key)
    rows = await session.execute(
        select(
            ItemRow.source_id,
            ItemRow.external_id,
            ItemRow.key,
            ItemRow.title,
            ItemRow.status_category,
            ItemRow.created_at,
            ItemRow.resolved_at,
        )
        .join(picked, on_member)
        .where(ItemRow.deleted.is_(False))
    )
    items = {(r[0], r[1]): r for r in rows}
    moves: dict[tuple[int, str], list[Move]] = defaultdict(list)
    history = await session.execute(
        select(
            TransitionRow.source_id,
            TransitionRow.item_external_id,
            TransitionRow.at,
            TransitionRow.to_category,
        )
        .join(
            ItemRow,
            and_(
                ItemRow.source_id == TransitionRow.source_id,
                ItemRow.external_id == TransitionRow.item_external_id,
            ),
        )
        .join(picked, on_member)
        .where(ItemRow.deleted.is_(False), TransitionRow.to_category.is_not(None))
    )
    for source_id, external_id, at, category in history:
        found = _CATEGORIES.get(category or "")
        if found is not None:
            moves[(source_id, external_id)].append(Move(at, found))
    return [
        _flow_item(row, moves.get(ref, ()), outcomes[(row[0], row[2])])
        for ref, row in items.items()
    ]


def _flow_item(row: Any, moves: Any, outcomes: list[str]) -> FlowItem:
    _source_id, _external_id, key, title, category, created_at, resolved_at = row
    return FlowItem(
        key=key,
        title=title,
        category=_CATEGORIES[category],
        created_at=created_at,
        moves=tuple(moves),
        resolved_at=resolved_at,
        outcomes=tuple(sorted(outcomes)),
    )


def document(
    measured: flow.Flow, *, program: str, outcome: str | None, timezone: str, weeks: int
) -> FlowDocument:
    """The flow as the API serves it."""
    return FlowDocument(
        program=program,
        outcome=outcome,
        as_of=measured.as_of,
        timezone=timezone,
        weeks=weeks,
        cycle_time=Percentiles(
            p50=measured.percentiles.p50,
            p85=measured.percentiles.p85,
            p95=measured.percentiles.p95,
            count=measured.percentiles.count,
        ),
        done_without_start=list(measured.done_without_start),
        cycle_times=[
            CycleTimeOut(
                key=c.key,
                title=c.title,
                started_on=c.started_on,
                finished_on=c.finished_on,
                days=c.days,
            )
            for c in measured.cycle_times
        ],
        throughput_weekly=[WeekOut(week_start=w.start, done=w.departures) for w in measured.weeks],
        throughput_trend_per_week=measured.trend_per_week,
        wip_daily=[WipOut(on=d.on, wip=d.in_progress) for d in measured.days],
        cfd_daily=[
            CfdOut(on=d.on, todo=d.todo, in_progress=d.in_progress, done=d.done)
            for d in measured.days
        ],
        aging=[
            AgingOut(
                key=a.key,
                title=a.title,
                started_on=a.started_on,
                age_days=a.age_days,
                percentile=a.percentile,
                past_p85=a.past_p85,
            )
            for a in measured.aging
        ],
        unknown_start=measured.unknown_start,
        net_flow_weekly=[
            NetWeekOut(week_start=w.start, arrivals=w.arrivals, departures=w.departures, net=w.net)
            for w in measured.weeks
        ],
        definitions=list(DEFINITIONS),
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
    items = await load_flow_items(session, program.id)
    if outcome is not None:
        items = [i for i in items if outcome in i.outcomes]
    zone = program.zone
    measured = flow.measure(items, as_of=now.astimezone(zone).date(), zone=zone, weeks=weeks)
    return document(
        measured,
        program=program.config.key,
        outcome=outcome,
        timezone=program.config.timezone,
        weeks=weeks,
    )
