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
import numpy.typing as npt
from pydantic import BaseModel, Field
from sqlalchemy import case, func, select
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
    "Items whose tracker history is not stored (Asana tasks) count in their current "
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
    member_source, member_key = _columns((await connection.execute(chosen)).all(), 2)
    sources = np.unique(np.asarray(member_source, dtype=np.int64)).tolist()
    names = dict(
        (
            await connection.execute(
                select(SourceRow.id, SourceRow.name).where(SourceRow.id.in_(sources))
            )
        ).all()
    )
    by_status = len(sources) == 1
    # Whole sources are read and sifted here: at 100,000 items a plain scan and a sorted
    # match cost a fraction of asking the database to join each row to the members.
    items = _columns(
        (
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
        ).all(),
        8 if by_status else 7,
    )
    item_source = np.asarray(items[0], dtype=np.int64)
    kept = np.flatnonzero(match(member_source, member_key, item_source, _text(items[2])) >= 0)
    moves = _columns(
        (
            await connection.execute(
                select(
                    TransitionRow.source_id,
                    TransitionRow.item_external_id,
                    instant(TransitionRow.at),
                    _code(TransitionRow.to_category),
                    *(
                        [TransitionRow.to_status, func.coalesce(TransitionRow.from_status, "")]
                        if by_status
                        else []
                    ),
                ).where(
                    TransitionRow.source_id.in_(sources),
                    TransitionRow.to_category.in_(list(_CODES)),
                )
            )
        ).all(),
        6 if by_status else 4,
    )
    owner = match(
        item_source[kept],
        _text(items[1])[kept],
        np.asarray(moves[0], dtype=np.int64),
        _text(moves[1]),
    )
    ours = np.flatnonzero(owner >= 0)
    chosen_rows = kept.tolist()
    data = FlowData.columns(
        [items[2][i] for i in chosen_rows],
        [items[3][i] for i in chosen_rows],
        np.asarray(items[4], dtype=np.int64)[kept],
        epoch.seconds(items[5])[kept],
        epoch.seconds(items[6])[kept],
        owner[ours],
        epoch.seconds(moves[2])[ours],
        np.asarray(moves[3], dtype=np.int64)[ours],
    )
    if by_status:
        status, move_status, move_from = np.split(
            np.concatenate(
                [_text(items[7])[kept], _text(moves[4])[ours], _text(moves[5])[ours]]
            ),
            [len(kept), len(kept) + len(ours)],
        )
        listed, codes = np.unique(
            np.concatenate([status, move_status, move_from]), return_inverse=True
        )
        status_code, move_code, from_code = np.split(
            codes.astype(np.int64), [len(kept), len(kept) + len(ours)]
        )
        data = replace(
            data,
            statuses=listed.tolist(),
            status=status_code,
            move_status=move_code,
            move_from=np.where(move_from == "", -1, from_code),
        )
    return Loaded(data.in_order(), sorted(names[s] for s in sources))


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[Sequence[Any]]:
    """Rows as columns (``width`` empty ones for no rows)."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _text(values: Sequence[Any]) -> npt.NDArray[np.str_]:
    return np.asarray(values, dtype=np.str_) if len(values) else np.zeros(0, dtype=np.str_)


def match(
    sources: Sequence[int] | npt.NDArray[np.int64],
    keys: Sequence[str] | npt.NDArray[np.str_],
    find_sources: npt.NDArray[np.int64],
    find_keys: npt.NDArray[np.str_],
) -> npt.NDArray[np.int64]:
    """For each (source, key) to find, its position among ``sources`` and ``keys`` (-1:
    not there); one sort and one binary search per source instead of a lookup per row."""
    source_of = np.asarray(sources, dtype=np.int64)
    key_of = _text(keys) if not isinstance(keys, np.ndarray) else keys
    found = np.full(len(find_keys), -1, dtype=np.int64)
    for source in np.unique(find_sources).tolist():
        here = np.flatnonzero(source_of == source)
        wanted = np.flatnonzero(find_sources == source)
        if not len(here) or not len(wanted):
            continue
        order = np.argsort(key_of[here], kind="stable")
        ranked = key_of[here][order]
        at = np.searchsorted(ranked, find_keys[wanted]).clip(max=len(ranked) - 1)
        hit = ranked[at] == find_keys[wanted]
        found[wanted[hit]] = here[order[at[hit]]]
    return found


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
