"""The portfolio: one tile per program, the page a program manager opens first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter
from markupsafe import Markup
from starlette.responses import Response

from app.programs import documents, lookup
from app.render.bar import progress_bar
from app.web.deps import ConfigDep, SessionDep
from app.web.pages.context import PageDep
from app.web.pages.links import items_url

router = APIRouter(include_in_schema=False)
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True, slots=True)
class Tile:
    program: documents.ProgramSummary
    bar: Markup
    scope_url: str
    done_url: str
    risks_url: str
    p50_late: bool
    p85_late: bool
    risks: list[tuple[str, int]]


def tile(program: documents.ProgramSummary) -> Tile:
    """One program's tile: its figures, and where each of them leads."""
    target, forecast = program.target, program.forecast
    progress = program.progress
    return Tile(
        program=program,
        bar=progress_bar(
            progress.percent,
            color=program.rag.color,
            label=f"{progress.percent:.0f} % done",
        ),
        scope_url=items_url(program=program.key),
        done_url=items_url(program=program.key, status_category="done"),
        risks_url=f"/programs/{program.key}/risks",
        p50_late=bool(target and forecast.p50 and forecast.p50 > target),
        p85_late=bool(target and forecast.p85 and forecast.p85 > target),
        risks=[
            (name, count) for name in SEVERITIES if (count := getattr(program.risk_counts, name))
        ],
    )


@router.get("/", name="portfolio")
async def portfolio(page: PageDep, session: SessionDep, config: ConfigDep) -> Response:
    async def build() -> Response:
        found = await lookup.list_programs(session, config, now=datetime.now(UTC))
        return page.render("portfolio.html", {"tiles": [tile(p) for p in found.programs]})

    return await page.cached(build)
