"""The audit log: every change made through the service, who made it, and the before and
after. ``record_audit`` is the one way in; it cleans the values first, so no token,
password or secret is ever stored, whatever a caller passes. Nothing here commits: the
entry lands with the change it describes, or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.tables import AuditRow
from app.telemetry import logs

SECRET_FIELD = re.compile(
    r"(token|secret|password|passwd|digest|authorization|cookie|credential|api[_-]?key)",
    re.IGNORECASE,
)
"""Fields whose values are never kept (replaced by ``WITHHELD``)."""
WITHHELD = "(withheld)"
MAX_TEXT = 4_000


def clean(value: Any) -> Any:
    """``value`` as JSON data, with secret fields' values withheld and long texts cut."""
    if isinstance(value, Mapping):
        return {
            str(k): WITHHELD if SECRET_FIELD.search(str(k)) else clean(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [clean(v) for v in value]
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


async def record_audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    program: str | None = None,
    subject: str | int = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditRow:
    """Record one change in the request's transaction (it is committed with the change)."""
    row = AuditRow(
        at=now or datetime.now(UTC),
        actor=actor[:128],
        action=action[:64],
        program=program,
        subject=str(subject)[:256],
        before=clean(before) if before is not None else None,
        after=clean(after) if after is not None else None,
        request_id=logs.request_id_var.get(),
    )
    session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None
    """An action (``risk.update``) or a kind of thing (``risk``: every risk action)."""
    program: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_audit(
    session: AsyncSession, query: AuditQuery, *, limit: int = 100, before_id: int | None = None
) -> Sequence[AuditRow]:
    """Entries matching ``query``, newest first; ``before_id`` pages back."""
    stmt = select(AuditRow)
    if query.actor:
        stmt = stmt.where(AuditRow.actor == query.actor)
    if query.action:
        if "." in query.action:
            stmt = stmt.where(AuditRow.action == query.action)
        else:
            stmt = stmt.where(AuditRow.action.startswith(f"{query.action}.", autoescape=True))
    if query.program:
        stmt = stmt.where(AuditRow.program == query.program)
    if query.since:
        stmt = stmt.where(AuditRow.at >= query.since)
    if query.until:
        stmt = stmt.where(AuditRow.at < query.until)
    if before_id is not None:
        stmt = stmt.where(AuditRow.id < before_id)
    rows = await session.scalars(stmt.order_by(AuditRow.id.desc()).limit(limit))
    return rows.all()
