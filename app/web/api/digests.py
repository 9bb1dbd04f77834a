"""The weekly portfolio digest: every program on one page (JSON and the standalone HTML
page). Reads need a viewer token; a reader who may not see some programs gets the digest
without them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from app.programs import access
from app.reports import portfolio
from app.web.deps import SessionDep, StateDep, ViewerDep
from app.web.reports import WeekPath, parse_week

router = APIRouter(tags=["reports"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No digest for that week"}}


@router.get("/api/digests", summary="The weeks with a portfolio digest, newest first")
async def list_digests(session: SessionDep, _: ViewerDep) -> dict[str, list[str]]:
    return {"weeks": await portfolio.list_weeks(session)}


@router.get("/api/digests/{week}", summary="A week's portfolio digest", responses=NOT_FOUND)
async def read_digest(
    week: WeekPath, session: SessionDep, state: StateDep, _: ViewerDep
) -> portfolio.PortfolioDigest:
    row = await portfolio.get(session, parse_week(week))
    found = portfolio.PortfolioDigest.model_validate(row.data)
    return portfolio.seen_by(found, access.hidden_keys(state.config))


@router.get(
    "/digests/{week}",
    response_class=HTMLResponse,
    include_in_schema=False,
    responses=NOT_FOUND,
)
async def digest_page(
    week: WeekPath, session: SessionDep, state: StateDep, _: ViewerDep
) -> Response:
    row = await portfolio.get(session, parse_week(week))
    hidden = access.hidden_keys(state.config)
    if not hidden:
        return HTMLResponse(row.html)
    # Written for everyone: rendered again without what this reader may not see.
    found = portfolio.seen_by(portfolio.PortfolioDigest.model_validate(row.data), hidden)
    return HTMLResponse(
        portfolio.html(found, portfolio.links_of(state.settings.server.public_url, row.week))
    )
