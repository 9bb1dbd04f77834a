"""The ``webhook_event`` inbox: store deduplicated, claim in arrival order, settle, replay.

Nothing here commits: intake stores in its own short transaction, the worker claims and
settles in the transaction that writes the events' data, so an event is marked applied
exactly when its effect is committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.store import bulk
from app.store.tables import WebhookEventRow
from vocabulary import EventState

MAX_RETRY_DELAY = timedelta(hours=1)
TRIM_BATCH = 5_000
"""Events deleted per statement when the inbox is trimmed (each batch its own transaction)."""
SETTLED = (EventState.APPLIED, EventState.REJECTED)


EVENT_COLUMNS = (
    "source_id",
    "delivery_id",
    "event_type",
    "received_at",
    "body",
    "headers",
    "trusted",
    "state",
    "attempts",
    "next_attempt_at",
    "processed_at",
    "error",
)
_STORE_TAIL = "ON CONFLICT (source_id, delivery_id) DO NOTHING RETURNING source_id, delivery_id"
_BULK: dict[bool, bulk.BulkTable] = {}


async def store_events(
    session: AsyncSession, rows: Sequence[Mapping[str, Any]]
) -> set[tuple[int, str]]:
    """Insert many deliveries at once; return the (source, delivery id) stored new.

    Rows must be distinct on (source_id, delivery_id); those already stored are skipped.
    Below the ORM (``app.store.bulk``): on PostgreSQL one statement whose text is the same
    for any number of rows (psycopg prepares it once), on SQLite a few multi-row ``VALUES``
    of pre-converted values; intake's commits are that much shorter.
    """
    if not rows:
        return set()
    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    table = _BULK.get(postgres)
    if table is None:
        table = _BULK[postgres] = bulk.BulkTable(
            WebhookEventRow.__table__,  # type: ignore[arg-type]
            EVENT_COLUMNS,
            postgres,
        )
    values = [_event_values(row, postgres) for row in rows]
    stored: set[tuple[int, str]] = set()
    for start, stop in table.batches(len(values)):
        chunk = values[start:stop]
        result = await connection.exec_driver_sql(
            table.insert(len(chunk), _STORE_TAIL), table.params(chunk)
        )
        returned: Sequence[Any] = result.all()
        stored.update((int(source), str(delivery)) for source, delivery in returned)
    return stored


def _event_values(row: Mapping[str, Any], postgres: bool) -> tuple[Any, ...]:
    """An ``event_row`` as the bulk statement binds it, in ``EVENT_COLUMNS`` order."""
    stamp = bulk.utc if postgres else bulk.sqlite_datetime
    return (
        row["source_id"],
        row["delivery_id"],
        row["event_type"],
        stamp(row["received_at"]),
        row["body"],
        bulk.json_text(dict(row["headers"])),
        bool(row["trusted"]) if postgres else int(bool(row["trusted"])),
        EventState(row["state"]).value,
        row["attempts"],
        stamp(row["next_attempt_at"]),
        stamp(row["processed_at"]),
        row["error"],
    )


def event_row(
    *,
    source_id: int,
    delivery_id: str,
    event_type: str | None,
    body: str,
    headers: Mapping[str, str],
    trusted: bool,
    now: datetime,
    state: EventState = EventState.PENDING,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "delivery_id": delivery_id,
        "event_type": event_type,
        "received_at": now,
        "body": body,
        "headers": dict(headers),
        "trusted": trusted,
        "state": state,
        "attempts": 0,
        "next_attempt_at": None,
        "processed_at": now if state == EventState.REJECTED else None,
        "error": error,
    }


def _due(now: datetime) -> Any:
    return or_(WebhookEventRow.next_attempt_at.is_(None), WebhookEventRow.next_attempt_at <= now)


async def sources_with_work(session: AsyncSession, *, now: datetime) -> list[int]:
    """Sources that have events due, oldest first."""
    rows = await session.execute(
        select(WebhookEventRow.source_id, func.min(WebhookEventRow.id))
        .where(WebhookEventRow.state == EventState.PENDING, _due(now))
        .group_by(WebhookEventRow.source_id)
        .order_by(func.min(WebhookEventRow.id))
    )
    return [source_id for source_id, _ in rows]


async def newest_id(session: AsyncSession) -> int:
    """The id of the newest event stored (0 for none): it grows while deliveries arrive."""
    return int(await session.scalar(select(func.max(WebhookEventRow.id))) or 0)


async def claim(
    session: AsyncSession, source_id: int, *, limit: int, now: datetime, skip_locked: bool
) -> Sequence[WebhookEventRow]:
    """The source's next due events in arrival order.

    With ``skip_locked`` (PostgreSQL) the rows stay locked until the caller's transaction
    ends and other workers skip them, so each event is applied by one worker; if the
    worker dies, its connection drops and the locks with it.
    """
    stmt = (
        select(WebhookEventRow)
        .where(
            WebhookEventRow.source_id == source_id,
            WebhookEventRow.state == EventState.PENDING,
            _due(now),
        )
        .order_by(WebhookEventRow.id)
        .limit(limit)
    )
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.scalars(stmt)).all()


async def claim_ids(
    session: AsyncSession, ids: Sequence[int], *, skip_locked: bool
) -> Sequence[WebhookEventRow]:
    """The named events that are still pending, in arrival order (claimed as ``claim``
    does: with ``skip_locked``, locked until the caller's transaction ends)."""
    stmt = (
        select(WebhookEventRow)
        .where(WebhookEventRow.id.in_(list(ids)), WebhookEventRow.state == EventState.PENDING)
        .order_by(WebhookEventRow.id)
    )
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.scalars(stmt)).all()


async def settle_applied(session: AsyncSession, ids: Sequence[int], *, now: datetime) -> int:
    """Mark events applied, only those still pending (another drainer may have won)."""
    if not ids:
        return 0
    result = await session.execute(
        update(WebhookEventRow)
        .where(WebhookEventRow.id.in_(list(ids)), WebhookEventRow.state == EventState.PENDING)
        .values(
            state=EventState.APPLIED,
            processed_at=now,
            error=None,
            attempts=WebhookEventRow.attempts + 1,
            next_attempt_at=None,
        )
        .returning(WebhookEventRow.id)
    )
    return len(result.all())


def retry_delay(attempts: int, first: float) -> timedelta:
    """Exponential backoff: ``first``, twice that, … capped at an hour."""
    return min(MAX_RETRY_DELAY, timedelta(seconds=first * 2 ** max(0, attempts - 1)))


async def settle_failed(
    session: AsyncSession,
    errors: Mapping[int, str],
    *,
    now: datetime,
    max_attempts: int,
    retry_seconds: float,
) -> list[int]:
    """Count a failed try of each event; return the ids parked as ``failed`` for good."""
    parked = []
    events = await session.scalars(
        select(WebhookEventRow).where(
            WebhookEventRow.id.in_(list(errors)), WebhookEventRow.state == EventState.PENDING
        )
    )
    for event in events:
        event.attempts += 1
        event.error = errors[event.id][:4000]
        if event.attempts >= max_attempts:
            event.state, event.next_attempt_at, event.processed_at = EventState.FAILED, None, now
            parked.append(event.id)
        else:
            event.next_attempt_at = now + retry_delay(event.attempts, retry_seconds)
    await session.flush()
    return parked


async def list_events(
    session: AsyncSession,
    *,
    state: EventState | None = None,
    source_id: int | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> Sequence[WebhookEventRow]:
    """Events newest first, optionally of one state and one source."""
    stmt = select(WebhookEventRow).order_by(WebhookEventRow.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(WebhookEventRow.state == state)
    if source_id is not None:
        stmt = stmt.where(WebhookEventRow.source_id == source_id)
    if before_id is not None:
        stmt = stmt.where(WebhookEventRow.id < before_id)
    return (await session.scalars(stmt)).all()


async def replay(session: AsyncSession, event_id: int, *, now: datetime) -> WebhookEventRow | None:
    """Put an event back in the queue, due now, with a fresh count of attempts."""
    event = await session.get(WebhookEventRow, event_id)
    if event is None:
        return None
    event.state, event.attempts, event.next_attempt_at = EventState.PENDING, 0, now
    event.error, event.processed_at = None, None
    await session.flush()
    return event


async def count_by_state(session: AsyncSession, source_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(WebhookEventRow.state, func.count())
        .where(WebhookEventRow.source_id == source_id)
        .group_by(WebhookEventRow.state)
    )
    return {state: int(count) for state, count in rows}


async def last_received_at(session: AsyncSession, source_id: int) -> datetime | None:
    """When the source's newest delivery arrived (heartbeats are kept elsewhere)."""
    return await session.scalar(
        select(WebhookEventRow.received_at)
        .where(WebhookEventRow.source_id == source_id)
        .order_by(WebhookEventRow.id.desc())
        .limit(1)
    )


async def trim_settled(session: AsyncSession, *, before: datetime, limit: int = TRIM_BATCH) -> int:
    """Delete up to ``limit`` applied or rejected events settled before ``before``; pending
    and failed ones stay until they are applied (or an operator replays them)."""
    ids = select(WebhookEventRow.id).where(
        WebhookEventRow.state.in_(SETTLED),
        func.coalesce(WebhookEventRow.processed_at, WebhookEventRow.received_at) < before,
    )
    result = await session.execute(
        delete(WebhookEventRow)
        .where(WebhookEventRow.id.in_(ids.order_by(WebhookEventRow.id).limit(limit)))
        .returning(WebhookEventRow.id)
    )
    return len(result.all())
