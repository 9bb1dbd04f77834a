"""A program's flow as JSON and CSV: cycle times, throughput, WIP, cumulative flow, ageing
work and net flow, computed from the stored status history on each read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.programs import flow, lookup
from app.web import csv_export
from app.web.deps import ConfigDep, SessionDep, ViewerDep

router = APIRouter(prefix="/api/programs", tags=["flow"])

NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"description": "No such program or outcome"}}
Weeks = Annotated[int, Query(ge=1, le=104, description="Seven-day windows ending today")]
Outcome = Annotated[str | None, Query(description="One outcome's key (all: leave out)")]
Table = Literal["cycle_times", "throughput", "wip", "cfd", "cfd_status", "aging", "net_flow"]

Rows = Callable[[flow.FlowDocument], tuple[Sequence[str], list[list[csv_export.Cell]]]]
TABLES: dict[str, Rows] = {
    "cycle_times": lambda d: (
        ("key", "title", "started_on", "finished_on", "days"),
        [[c.key, c.title, c.started_on, c.finished_on, c.days] for c in d.cycle_times],
    ),
    "throughput": lambda d: (
        ("week_start", "done"),
        [[w.week_start, w.done] for w in d.throughput_weekly],
    ),
    "wip": lambda d: (("on", "wip"), [[w.on, w.wip] for w in d.wip_daily]),
    "cfd": lambda d: (
        ("on", "todo", "in_progress", "done"),
        [[c.on, c.todo, c.in_progress, c.done] for c in d.cfd_daily],
    ),
    # One row per day and status (no row when the items come from more than one tracker).
    "cfd_status": lambda d: (
        ("on", "status", "category", "items"),
        [
            [day.on, s.name, s.category.value, n]
            for day in d.cfd_status_daily or []
            for s, n in zip(d.cfd_statuses, day.counts, strict=True)
        ],
    ),
    "aging": lambda d: (
        ("key", "title", "started_on", "age_days", "percentile", "past_p85"),
        [[a.key, a.title, a.started_on, a.age_days, a.percentile, a.past_p85] for a in d.aging],
    ),
    "net_flow": lambda d: (
        ("week_start", "arrivals", "departures", "net"),
        [[w.week_start, w.arrivals, w.departures, w.net] for w in d.net_flow_weekly],
    ),
}


async def flow_of(
    session: SessionDep, config: ConfigDep, key: str, outcome: str | None, weeks: int
) -> flow.FlowDocument:
    program = await lookup.get_program(session, config, key)
    return await flow.read_flow(
        session, program, outcome=outcome, weeks=weeks, now=datetime.now(UTC)
    )


def flow_csv(found: flow.FlowDocument, table: str) -> Response:
    header, rows = TABLES[table](found)
    name = f"{found.program}-{found.outcome + '-' if found.outcome else ''}{table}.csv"
    return Response(
        csv_export.lines(header, rows),
        media_type=csv_export.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/{key}/flow",
    summary="How work flows: cycle times, throughput, WIP, cumulative flow, ageing work",
    responses=NOT_FOUND,
)
async def read_flow(
    key: str,
    session: SessionDep,
    config: ConfigDep,
    _: ViewerDep,
    outcome: Outcome = None,
    weeks: Weeks = 12,
) -> flow.FlowDocument:
    return await flow_of(session, config, key, outcome, weeks)


@router.get(
    "/{key}/flow.csv",
    summary="One table of the flow, as CSV",
    response_class=Response,
    responses={**NOT_FOUND, 200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_flow(
    key: str,
    session: SessionDep,
    config: ConfigDep,
    _: ViewerDep,
    table: Table,
    outcome: Outcome = None,
    weeks: Weeks = 12,
) -> Response:
    return flow_csv(await flow_of(session, config, key, outcome, weeks), table)
