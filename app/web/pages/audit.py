"""The audit log page (admins): who changed what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from app.store import audit
from app.web.api.audit import read_log, utc
from app.web.deps import SessionDep
from app.web.pages.context import AdminPageDep

router = APIRouter(include_in_schema=False)


@router.get("/audit", name="audit_page")
async def audit_page(
    page: AdminPageDep,
    session: SessionDep,
    who: Annotated[str | None, Query(max_length=128)] = None,
    what: Annotated[str | None, Query(max_length=64)] = None,
    program: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    query = audit.AuditQuery(
        actor=who, action=what, program=program, since=utc(since), until=utc(until)
    )
    found = await read_log(session, query, 200, None)
    return page.render(
        "audit.html",
        {
            "entries": found.entries,
            "filters": {"who": who or "", "what": what or "", "program": program or ""},
            "since": since,
            "until": until,
        },
    )
