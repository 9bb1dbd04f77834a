"""The portfolio's JSON API: goals above programs, dependencies between programs and people
across them; each table also as CSV (``.csv``, or ``Accept: text/csv``).

Reads need a viewer token and are lookups of what the last rebuild stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel

from app.programs import portfolio
from app.programs.documents import portfolio as out
from app.web import csv_export
from app.web.deps import ConfigDep, ResponseCacheDep, SessionDep, ViewerDep

router = APIRouter(tags=["portfolio"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such goal"}}
ProgramQuery = Annotated[
    str | None, Query(description="Only what this program waits on, holds up or shares")
]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]


def _csv_responses(example: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "As JSON, or as CSV",
            "content": {"text/csv": {"schema": {"type": "string"}, "example": example}},
        }
    }


def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type=csv_export.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


GOALS_HEADER = (
    "key",
    "name",
    "owner",
    "period",
    "period_end",
    "rag",
    "reason",
    "percent",
    "p50",
    "p85",
    "probability_on_time",
    "movement",
    "key_results_met",
    "contributors",
)
PROGRAMS_HEADER = (
    "key",
    "name",
    "owner",
    "rag",
    "reason",
    "percent",
    "done_count",
    "scope_count",
    "target",
    "p50",
    "p85",
    "probability_on_time",
    "movement",
    "goals",
)
CONTRIBUTORS_HEADER = (
    "ref",
    "kind",
    "name",
    "weight",
    "share",
    "rag",
    "percent",
    "done_count",
    "scope_count",
    "target",
    "p50",
    "p85",
    "probability_on_time",
)
DEPENDENCIES_HEADER = (
    "kind",
    "from_programs",
    "from",
    "from_title",
    "from_due_on",
    "to_programs",
    "to",
    "to_title",
    "late",
    "reason",
    "detail",
    "needed_on",
    "expected_on",
    "critical",
)
PEOPLE_HEADER = (
    "id",
    "name",
    "team",
    "programs",
    "wip",
    "wip_limit",
    "remaining",
    "estimate",
    "over_allocated",
    "flags",
    "by_program",
)


def goals_csv(found: out.Portfolio) -> str:
    rows = [
        [
            g.key,
            g.name,
            g.owner,
            g.period.label,
            g.period.end,
            g.rag.color,
            g.rag.reasons[0].detail if g.rag.reasons else "",
            g.progress.percent,
            g.forecast.p50,
            g.forecast.p85,
            g.confidence.probability,
            g.movement.text if g.movement else None,
            f"{sum(1 for k in g.key_results if k.met)}/{len(g.key_results)}",
            [c.ref for c in g.contributors],
        ]
        for g in found.goals
    ]
    return csv_export.lines(GOALS_HEADER, rows)


def programs_csv(found: out.Portfolio) -> str:
    rows = [
        [
            p.key,
            p.name,
            p.owner,
            p.rag,
            p.reason,
            p.percent,
            p.done_count,
            p.scope_count,
            p.target,
            p.p50,
            p.p85,
            p.probability_on_time,
            p.movement,
            list(p.goals),
        ]
        for p in found.programs
    ]
    return csv_export.lines(PROGRAMS_HEADER, rows)


def contributors_csv(goal: out.GoalStatus) -> str:
    return csv_export.of_models(goal.contributors, CONTRIBUTORS_HEADER, with_header=True)


def dependencies_csv(found: out.PortfolioDependencies) -> str:
    rows: list[Sequence[csv_export.Cell]] = [
        [
            "item",
            list(d.from_.programs),
            f"{d.from_.source}:{d.from_.key}",
            d.from_.title,
            d.from_.due_on,
            list(d.to.programs),
            f"{d.to.source}:{d.to.key}",
            d.to.title,
            d.late,
            d.reason,
            d.detail,
            d.needed_on,
            d.expected_on,
            d.critical,
        ]
        for d in found.dependencies
    ]
    rows += [
        [
            "outcome",
            [o.from_.program],
            f"{o.from_.program}/{o.from_.outcome}",
            o.from_.name,
            o.from_.target,
            [o.to.program],
            f"{o.to.program}/{o.to.outcome}",
            o.to.name,
            o.late,
            o.reason,
            o.detail,
            o.needed_on,
            o.expected_on,
            None,
        ]
        for o in found.outcome_links
    ]
    return csv_export.lines(DEPENDENCIES_HEADER, rows)


def people_csv(found: out.PortfolioPeople) -> str:
    rows = [
        [
            p.id,
            p.name,
            p.team,
            p.programs,
            p.wip,
            p.wip_limit,
            p.remaining,
            p.estimate,
            p.over_allocated,
            "; ".join(f.detail for f in p.flags),
            "; ".join(f"{s.name}: {s.remaining} open, {s.wip} in progress" for s in p.shares),
        ]
        for p in found.people
    ]
    return csv_export.lines(PEOPLE_HEADER, rows)


GOALS_EXAMPLE = (
    "key,name,owner,period,period_end,rag,reason,percent,p50,p85,probability_on_time,movement,"
    "key_results_met,contributors\r\n"
    "revenue,Grow online revenue,Fay Green,2027-Q1,2027-03-31,amber,Checkout v2 is amber,"
    '71.4,2027-02-02,2027-03-08,0.8312,"since 13 Nov 2026: green → amber",1/2,'
    "checkout platform/vault\r\n"
)


@router.get(
    "/api/portfolio",
    summary="Goals with their contributors, every program's standing, and tallies",
    response_model=out.Portfolio,
    responses=_csv_responses(GOALS_EXAMPLE),
)
async def read_portfolio(
    session: SessionDep,
    config: ConfigDep,
    cache: ResponseCacheDep,
    _: ViewerDep,
    accept: AcceptHeader = None,
) -> Response:
    if csv_export.wants_csv(accept):
        found = await portfolio.read_portfolio(session, config, now=datetime.now(UTC))
        return _csv(goals_csv(found), "goals")

    async def build() -> Response:
        return _json(await portfolio.read_portfolio(session, config, now=datetime.now(UTC)))

    return await cache.get(("api", "portfolio"), build)


@router.get(
    "/api/portfolio.csv",
    summary="Goals, one row each, as CSV",
    response_class=Response,
    responses=_csv_responses(GOALS_EXAMPLE),
)
async def export_goals(session: SessionDep, config: ConfigDep, _: ViewerDep) -> Response:
    found = await portfolio.read_portfolio(session, config, now=datetime.now(UTC))
    return _csv(goals_csv(found), "goals")


@router.get(
    "/api/portfolio/programs.csv",
    summary="Every program's standing, one row each, as CSV",
    response_class=Response,
)
async def export_programs(session: SessionDep, config: ConfigDep, _: ViewerDep) -> Response:
    found = await portfolio.read_portfolio(session, config, now=datetime.now(UTC))
    return _csv(programs_csv(found), "programs")


@router.get(
    "/api/portfolio/dependencies",
    summary="Dependencies between programs: items and declared outcome links",
    response_model=out.PortfolioDependencies,
)
async def read_dependencies(
    session: SessionDep,
    config: ConfigDep,
    _: ViewerDep,
    program: ProgramQuery = None,
    accept: AcceptHeader = None,
) -> Response:
    found = await portfolio.read_dependencies(
        session, config, now=datetime.now(UTC), program=program
    )
    if csv_export.wants_csv(accept):
        return _csv(dependencies_csv(found), "dependencies")
    return _json(found)


@router.get(
    "/api/portfolio/dependencies.csv",
    summary="Dependencies between programs, as CSV",
    response_class=Response,
)
async def export_dependencies(
    session: SessionDep, config: ConfigDep, _: ViewerDep, program: ProgramQuery = None
) -> Response:
    found = await portfolio.read_dependencies(
        session, config, now=datetime.now(UTC), program=program
    )
    return _csv(dependencies_csv(found), "dependencies")


@router.get(
    "/api/portfolio/people",
    summary="Each person's open work and work in progress across programs",
    response_model=out.PortfolioPeople,
)
async def read_people(
    session: SessionDep,
    config: ConfigDep,
    _: ViewerDep,
    program: ProgramQuery = None,
    accept: AcceptHeader = None,
) -> Response:
    found = await portfolio.read_people(session, config, now=datetime.now(UTC), program=program)
    if csv_export.wants_csv(accept):
        return _csv(people_csv(found), "people")
    return _json(found)


@router.get(
    "/api/portfolio/people.csv",
    summary="People across programs, as CSV",
    response_class=Response,
)
async def export_people(
    session: SessionDep, config: ConfigDep, _: ViewerDep, program: ProgramQuery = None
) -> Response:
    found = await portfolio.read_people(session, config, now=datetime.now(UTC), program=program)
    return _csv(people_csv(found), "people")


@router.get(
    "/api/goals/{key}.csv",
    summary="A goal's contributors, as CSV",
    response_class=Response,
    responses=NOT_FOUND,
)
async def export_goal(key: str, session: SessionDep, config: ConfigDep, _: ViewerDep) -> Response:
    goal = await portfolio.read_goal(session, config, key, now=datetime.now(UTC))
    return _csv(contributors_csv(goal), f"goal-{key}")


@router.get(
    "/api/goals/{key}",
    summary="A goal: its colour and reasons, progress, forecast, confidence, key results",
    response_model=out.GoalStatus,
    responses=NOT_FOUND,
)
async def read_goal(
    key: str, session: SessionDep, config: ConfigDep, _: ViewerDep, accept: AcceptHeader = None
) -> Response:
    goal = await portfolio.read_goal(session, config, key, now=datetime.now(UTC))
    if csv_export.wants_csv(accept):
        return _csv(contributors_csv(goal), f"goal-{key}")
    return _json(goal)
