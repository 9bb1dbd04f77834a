"""Alerts: every exception told to a program's channels (and those held back), newest
first. Reads need a viewer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.alerts import listing
from app.web.deps import ConfigDep, SessionDep, ViewerDep

router = APIRouter(tags=["alerts"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such program"}}
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/api/alerts", summary="Every program's alerts")
async def list_all_alerts(
    session: SessionDep, config: ConfigDep, _: ViewerDep, limit: Limit = 100
) -> listing.AlertList:
    return await listing.list_alerts(session, config, limit=limit)


@router.get("/api/programs/{key}/alerts", summary="A program's alerts", responses=NOT_FOUND)
async def list_program_alerts(
    key: str, session: SessionDep, config: ConfigDep, _: ViewerDep, limit: Limit = 100
) -> listing.AlertList:
    return await listing.list_alerts(session, config, key, limit=limit)
