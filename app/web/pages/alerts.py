"""The alerts page of a program: what was told, to which channel, and what was held."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from app.alerts import listing
from app.programs import lookup
from app.web.deps import ConfigDep, SessionDep
from app.web.pages.context import PageDep

router = APIRouter(include_in_schema=False)


@router.get("/programs/{key}/alerts", name="alerts_page")
async def alerts_page(key: str, page: PageDep, session: SessionDep, config: ConfigDep) -> Response:
    program = await lookup.get_program(session, config, key)
    found = await listing.list_alerts(session, config, key, limit=200)
    return page.render("alerts.html", {"program": program.config, "alerts": found.alerts})
