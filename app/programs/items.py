"""Listing stored items: by program, outcome, data-quality check, source, status and text.

Lists are in a stable order (the order items were first stored) and paged with an opaque
cursor that also remembers the filters it was issued for, so a cursor replayed with other
filters is refused rather than silently skipping items. Which items stand behind a
program's figures comes from ``program_item`` (see ``app.programs.membership``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig
from app.programs import access, documents, lookup, membership
from app.store.engine import session_scope
from app.store.tables import (
    MAX_ROW_ID,
    ItemRow,
    ProgramItemRow,
    ProgramRow,
    ProjectRow,
    SourceRow,
)

MAX_LIMIT = 500
EXPORT_BATCH = 1_000


class InvalidQuery(ValueError):
    """A filter or cursor the list cannot use; ``field`` names the query parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """The filters of an item list, as a request states them (names, not row ids)."""

    program: str | None = None
    outcome: str | None = None
    check: str | None = None
    source: str | None = None
    status_category: str | None = None
    q: str | None = None
    keys: tuple[str, ...] = ()
    deleted: bool = False

    def fingerprint(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode_cursor(after_id: int, query: ItemQuery) -> str:
    raw = json.dumps([after_id, query.fingerprint()], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, query: ItemQuery) -> int:
    """The id a cursor continues after; ``InvalidQuery`` if it is not one of ours for
    these filters."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after_id, fingerprint = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidQuery("cursor", "not a cursor this API issued") from None
    if (
        not isinstance(after_id, int)
        or not isinstance(fingerprint, str)
        or not 0 <= after_id <= MAX_ROW_ID
    ):
        raise InvalidQuery("cursor", "not a cursor this API issued")
    if fingerprint != query.fingerprint():
        raise InvalidQuery("cursor", "this cursor was issued for other filters")
    return after_id


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _member(program_id: int, facet: str, name: str | None) -> Any:
    clause = exists().where(
        ProgramItemRow.program_id == program_id,
        ProgramItemRow.facet == facet,
        ProgramItemRow.source_id == ItemRow.source_id,
        ProgramItemRow.key == ItemRow.key,
    )
    return clause.where(ProgramItemRow.name == name) if name is not None else clause


COLUMNS = (
    ItemRow.id,
    SourceRow.name,
    ItemRow.key,
    ItemRow.url,
    ItemRow.title,
    ItemRow.kind,
    ItemRow.status,
    ItemRow.status_category,
    ItemRow.project,
    ProjectRow.name.label("project_name"),
    ItemRow.parent_key,
    ItemRow.assignee,
    ItemRow.estimate,
    ItemRow.start_on,
    ItemRow.due_on,
    ItemRow.created_at,
    ItemRow.updated_at,
    ItemRow.resolved_at,
    ItemRow.labels,
    ItemRow.deleted,
)


async def visible_clause(session: AsyncSession, config: ThroughlineConfig) -> Any | None:
    """A condition on ``ItemRow`` that keeps only items the current reader may see: those
    behind no restricted program's figures, or also behind a program they see. None when
    they see every program."""
    hidden = access.hidden_keys(config)
    if not hidden:
        return None
    ids = dict((await session.execute(select(ProgramRow.key, ProgramRow.id))).all())

    def member(program_ids: list[int]) -> Any:
        return exists().where(
            ProgramItemRow.program_id.in_(program_ids),
            ProgramItemRow.source_id == ItemRow.source_id,
            ProgramItemRow.key == ItemRow.key,
        )

    hidden_ids = [i for k, i in ids.items() if k in hidden]
    return or_(~member(hidden_ids), member([i for k, i in ids.items() if k not in hidden]))


def with_project_names(stmt: Any) -> Any:
    """A select of ``COLUMNS`` joined to the projects' names (an item's project may have
    none yet)."""
    return stmt.outerjoin(
        ProjectRow,
        and_(ProjectRow.source_id == ItemRow.source_id, ProjectRow.project == ItemRow.project),
    )


async def _statement(
    session: AsyncSession, config: ThroughlineConfig, query: ItemQuery
) -> tuple[Any, tzinfo]:
    """The filtered select and the zone its times are shown in; checks every name."""
    stmt = with_project_names(
        select(*COLUMNS).join(SourceRow, SourceRow.id == ItemRow.source_id)
    ).where(ItemRow.deleted.is_(query.deleted))
    seen = await visible_clause(session, config)
    if seen is not None:
        stmt = stmt.where(seen)
    zone: tzinfo = UTC
    if query.program is not None:
        program = await lookup.get_program(session, config, query.program)
        zone = program.zone
        outcomes = [o.key for o in program.config.outcomes]
        if query.outcome is not None and query.outcome not in outcomes:
            raise InvalidQuery(
                "outcome",
                f"program {query.program!r} has no outcome {query.outcome!r}; "
                f"known: {', '.join(outcomes) or 'none'}",
            )
        if query.outcome is not None or query.check is None:
            stmt = stmt.where(_member(program.id, membership.OUTCOME, query.outcome))
        if query.check is not None:
            stmt = stmt.where(_member(program.id, membership.CHECK, query.check))
    elif query.outcome is not None or query.check is not None:
        field = "outcome" if query.outcome is not None else "check"
        raise InvalidQuery(field, f"{field} needs a program")
    if query.source is not None:
        if config.source(query.source) is None:
            known = ", ".join(s.name for s in config.sources) or "none"
            raise InvalidQuery("source", f"unknown source {query.source!r}; known: {known}")
        stmt = stmt.where(SourceRow.name == query.source)
    if query.status_category is not None:
        stmt = stmt.where(ItemRow.status_category == query.status_category)
    if query.q:
        pattern = _like(query.q)
        stmt = stmt.where(
            or_(ItemRow.title.ilike(pattern, escape="\\"), ItemRow.key.ilike(pattern, escape="\\"))
        )
    if query.keys:
        stmt = stmt.where(ItemRow.key.in_(query.keys))
    return stmt, zone


def _local(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return moment.astimezone(zone) if moment is not None else None


def to_out(row: Any, zone: tzinfo) -> documents.Item:
    """A row selected with ``COLUMNS`` as the API's ``Item``."""
    return documents.Item(
        source=row[1],
        key=row.key,
        url=row.url,
        title=row.title,
        kind=row.kind,
        status=row.status,
        status_category=row.status_category,
        project=row.project,
        project_name=row.project_name,
        parent_key=row.parent_key,
        assignee=row.assignee,
        estimate=row.estimate,
        start_on=row.start_on,
        due_on=row.due_on,
        created_at=_local(row.created_at, zone),
        updated_at=row.updated_at.astimezone(zone),
        resolved_at=_local(row.resolved_at, zone),
        labels=list(row.labels or ()),
        deleted=row.deleted,
    )


async def list_items(
    session: AsyncSession,
    config: ThroughlineConfig,
    query: ItemQuery,
    *,
    limit: int = 100,
    cursor: str | None = None,
) -> documents.ItemPage:
    """One page of the items a query selects, and the cursor of the next page."""
    stmt, zone = await _statement(session, config, query)
    if cursor:
        stmt = stmt.where(ItemRow.id > decode_cursor(cursor, query))
    rows = (await session.execute(stmt.order_by(ItemRow.id).limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return documents.ItemPage(
        items=[to_out(r, zone) for r in rows],
        next_cursor=encode_cursor(rows[-1].id, query) if more else None,
    )


async def iter_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    query: ItemQuery,
    *,
    gate: asyncio.Semaphore | None = None,
) -> AsyncIterator[list[documents.Item]]:
    """Every item a query selects, ``EXPORT_BATCH`` at a time, each batch read in a short
    session of its own: a slow reader of the stream holds no database connection between
    batches, only its socket. With ``gate``, batches of every export take turns through
    it, so exports together never take more connections than it lets through.

    The caller checks the query first (``list_items`` with ``limit=1``): once streaming
    has begun, an error can no longer become an error response.
    """
    async with session_scope(sessionmaker) as session:
        stmt, zone = await _statement(session, config, query)
    after = 0
    while True:
        async with gate or contextlib.nullcontext(), session_scope(sessionmaker) as session:
            rows = (
                await session.execute(
                    stmt.where(ItemRow.id > after).order_by(ItemRow.id).limit(EXPORT_BATCH)
                )
            ).all()
        if not rows:
            return
        after = rows[-1].id
        yield [to_out(r, zone) for r in rows]
