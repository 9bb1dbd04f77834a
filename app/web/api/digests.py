"""The weekly portfolio digest: every program on one page (JSON and the standalone HTML
page). Reads need a viewer token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from app.reports import portfolio
from app.web.deps import SessionDep, ViewerDep
from app.web.reports import WeekPath, parse_week

router = APIRouter(tags=["reports"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No digest for that week"}}


@router.get("/api/digests", summary="The weeks with a portfolio digest, newest first")
async def list_digests(session: SessionDep, _: ViewerDep) -> dict[str, list[str]]:
    return {"weeks": await portfolio.list_weeks(session)}


@router.get("/api/digests/{week}", summary="A week's portfolio digest", responses=NOT_FOUND)
async def read_digest(
    week: WeekPath, session: SessionDep, _: ViewerDep
) -> portfolio.PortfolioDigest:
    row = await portfolio.get(session, parse_week(week))
    return portfolio.PortfolioDigest.model_validate(row.data)


@router.get(
    "/digests/{week}",
    response_class=HTMLResponse,
    include_in_schema=False,
    responses=NOT_FOUND,
)
async def digest_page(week: WeekPath, session: SessionDep, _: ViewerDep) -> Response:
    row = await portfolio.get(session, parse_week(week))
    return HTMLResponse(row.html)
