"""The audit log page (admins): who changed what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from app.store import audit
from app.web.api.audit import read_log, utc
from app.web.deps import SessionDep
from app.web.pages.context import AdminPageDep

router = APIRouter(include_in_schema=False)

EMPTY: tuple[object, ...] = (None, "", [], {})


def changed(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each field that differs; empty values left out of what
    was added or removed whole."""
    old, new = before or {}, after or {}
    found = []
    for field in [*old, *(k for k in new if k not in old)]:
        was, now = old.get(field), new.get(field)
        if was != now and not (was in EMPTY and now in EMPTY):
            found.append((field, was, now))
    return found


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
            "entries": [(e, changed(e.before, e.after)) for e in found.entries],
            "filters": {"who": who or "", "what": what or "", "program": program or ""},
            "since": since,
            "until": until,
        },
    )
