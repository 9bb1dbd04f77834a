"""The portfolio's pages: goals with their programs (``/portfolio``), one goal, the
dependencies between programs and the people across them — over the same lookups as
``/api/portfolio``. Every figure links to the contributors or items behind it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from markupsafe import Markup, escape
from starlette.responses import Response

from app.config import ThroughlineConfig
from app.programs import portfolio
from app.programs.documents import portfolio as out
from app.render.bar import progress_bar
from app.render.depmap import MapEdge, MapNode, dependency_map_svg
from app.web.deps import ConfigDep, SessionDep
from app.web.pages.context import PageDep
from app.web.pages.links import external, item_url, items_url

router = APIRouter(include_in_schema=False)


def contributor_url(ref: str) -> str:
    """A contributor's page: its program's, or its outcome's."""
    program, _, outcome = ref.partition("/")
    return f"/programs/{program}/outcomes/{outcome}" if outcome else f"/programs/{program}"


def contributor_items_url(c: out.GoalContributor, status_category: str | None = None) -> str:
    return items_url(program=c.program, outcome=c.outcome, status_category=status_category)


def _names(config: ThroughlineConfig) -> dict[str, str]:
    """Every program and outcome ref by name, for reasons and lists."""
    names = {p.key: p.name for p in config.programs}
    names.update(
        {f"{p.key}/{o.key}": f"{p.name} › {o.name}" for p in config.programs for o in p.outcomes}
    )
    return names


_LINK = Markup('<a href="{}">{}</a>')


def reason_html(reason: out.GoalReason, names: dict[str, str]) -> Markup:
    """A reason with its contributors linked: the name in its sentence where it opens it
    ("<a>Checkout v2</a> is red"), else listed after it."""
    refs = reason.contributors
    if len(refs) == 1:
        name = names.get(refs[0], refs[0])
        if reason.detail.startswith(name):
            rest = reason.detail[len(name) :]
            return _LINK.format(contributor_url(refs[0]), name) + escape(rest)
    links = Markup(", ").join(_LINK.format(contributor_url(r), names.get(r, r)) for r in refs)
    return escape(reason.detail) + (Markup(" — ") + links if refs else Markup(""))


@router.get("/portfolio", name="goals_page")
async def goals_page(page: PageDep, session: SessionDep, config: ConfigDep) -> Response:
    async def build() -> Response:
        found = await portfolio.read_portfolio(session, config, now=datetime.now(UTC))
        return page.render(
            "goals.html",
            {
                "portfolio": found,
                "bars": {
                    g.key: progress_bar(
                        g.progress.percent or 0.0,
                        color=g.rag.color,
                        label=f"{g.progress.percent or 0:.0f} % done",
                    )
                    for g in found.goals
                },
                "names": _names(config),
                "goal_names": {g.key: g.name for g in found.goals},
                "contributor_url": contributor_url,
                "reason_html": reason_html,
                "items_url": items_url,
            },
        )

    return await page.cached(build)


@router.get("/portfolio/goals/{key}", name="goal_page")
async def goal_page(key: str, page: PageDep, session: SessionDep, config: ConfigDep) -> Response:
    async def build() -> Response:
        found = await portfolio.read_portfolio(session, config, now=datetime.now(UTC))
        goal = portfolio.goal_of(found, key)
        return page.render(
            "goal.html",
            {
                "goal": goal,
                "bar": progress_bar(
                    goal.progress.percent or 0.0,
                    color=goal.rag.color,
                    label=f"{goal.progress.percent or 0:.0f} % done",
                ),
                "names": _names(config),
                "contributor_url": contributor_url,
                "reason_html": reason_html,
                "contributor_items_url": contributor_items_url,
            },
        )

    return await page.cached(build)


def program_map(found: out.PortfolioDependencies) -> tuple[list[MapNode], list[MapEdge]]:
    """Programs as boxes, the dependencies between them as arrows (only programs that
    take part in one)."""
    involved = {k for e in found.edges for k in (e.from_, e.to)}
    late = {k for e in found.edges if e.late for k in (e.from_, e.to)}
    nodes = [
        MapNode(
            id=p.key,
            label=p.name,
            detail=f"{p.rag} · owner {p.owner}" if p.owner else f"{p.rag} · no owner named",
            href=f"/programs/{p.key}/dependencies",
            late=p.key in late,
        )
        for p in found.programs
        if p.key in involved
    ]
    edges = [MapEdge(e.from_, e.to, count=e.count, late=e.late) for e in found.edges]
    return nodes, edges


@router.get("/portfolio/dependencies", name="portfolio_dependencies_page")
async def dependencies_page(page: PageDep, session: SessionDep, config: ConfigDep) -> Response:
    async def build() -> Response:
        found = await portfolio.read_dependencies(session, config, now=datetime.now(UTC))
        nodes, edges = program_map(found)
        return page.render(
            "portfolio_dependencies.html",
            {
                "deps": found,
                "svg": dependency_map_svg(nodes, edges, title="Dependencies between programs")
                if edges
                else None,
                "programs": {p.key: p for p in found.programs},
                "item_url": item_url,
                "external": external,
            },
        )

    return await page.cached(build)


@router.get("/portfolio/people", name="portfolio_people_page")
async def people_page(page: PageDep, session: SessionDep, config: ConfigDep) -> Response:
    async def build() -> Response:
        found = await portfolio.read_people(session, config, now=datetime.now(UTC))
        ordered = sorted(found.people, key=lambda p: (not p.over_allocated, -p.programs))
        return page.render(
            "portfolio_people.html",
            {
                "people": found,
                "ordered": ordered,
                "team_names": {t.key: t.name for t in config.teams},
                "items_url": items_url,
            },
        )

    return await page.cached(build)
