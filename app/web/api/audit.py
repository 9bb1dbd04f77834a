"""The audit log: who changed what, when, and the before and after (admin only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.store import audit
from app.store.tables import MAX_ROW_ID
from app.web.deps import AdminDep, SessionDep

router = APIRouter(prefix="/api", tags=["audit"])


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    program: str | None
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class AuditLog(BaseModel):
    entries: list[AuditEntry]
    next_before: int | None = None
    """Pass as ``before`` for the next (older) page; null on the last page."""


async def read_log(
    session: SessionDep,
    query: audit.AuditQuery,
    limit: int,
    before: int | None,
) -> AuditLog:
    rows = await audit.list_audit(session, query, limit=limit + 1, before_id=before)
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditLog(
        entries=[AuditEntry.model_validate(r, from_attributes=True) for r in rows],
        next_before=rows[-1].id if more and rows else None,
    )


@router.get("/audit", summary="The audit log, newest first, with filters (admin)")
async def list_audit(
    session: SessionDep,
    _: AdminDep,
    who: Annotated[str | None, Query(max_length=128, description="The actor's name")] = None,
    what: Annotated[
        str | None,
        Query(max_length=64, description="An action (risk.update) or a kind (risk)"),
    ] = None,
    program: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="From this moment (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Before this moment (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> AuditLog:
    query = audit.AuditQuery(
        actor=who, action=what, program=program, since=utc(since), until=utc(until)
    )
    return await read_log(session, query, limit, before)


def utc(moment: datetime | None) -> datetime | None:
    """A moment without a zone is taken as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
