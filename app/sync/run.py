"""Running a connector against the store: cursors, transactions and the sync run record.

A sync asks the connector for its scopes (projects) and fetches them concurrently. Each
page is stored in its own short transaction through ``store.save_page`` (newer-wins, so a
repeated page is harmless); a scope's cursor is written in the same transaction as that
scope's last page. Killing a sync at any moment therefore loses nothing — the cursor has
not moved past anything unstored — and duplicates nothing — upserts are idempotent.

The next run asks for ``cursor - overlap``: tracker search indexes are eventually
consistent and time filters have minute granularity, so the window is re-read on purpose.

A listing whose pages carry checkpoints (Jira's, by ascending id) keeps the last one
stored in the same transaction as its page, so a sync cut short at any moment (a 100,000
issue project, killed half-way) continues after it instead of starting over; the scope's
cursor then stops at the first part's start, so nothing changed meanwhile is missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store import records
from app.store.engine import session_scope
from app.store.tables import SyncRunRow, SyncStateRow
from app.sync.crosslinks import ReferenceResolver
from app.telemetry import logs
from connectors.base import (
    Connector,
    ConnectorError,
    Page,
    SyncWarning,
    TrackerAuthError,
    WarningKind,
)
from vocabulary import RunMode, RunStatus

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_STORED_WARNINGS = 500
"""A sync run keeps this many warnings in full; the count covers the rest."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class SyncProgress:
    """Running totals a progress bar or log line can show."""

    scopes_total: int = 0
    scopes_done: int = 0
    items_seen: int = 0
    items_written: int = 0


@dataclass(slots=True)
class SyncOutcome:
    run_id: int
    status: RunStatus
    counts: records.WriteCounts
    items_seen: int
    warnings: list[SyncWarning] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


class _Run:
    """Shared state of one sync while its scopes are fetched concurrently."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        source_id: int,
        started_at: datetime,
        progress: Callable[[SyncProgress], None] | None,
        references: ReferenceResolver | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.references = references
        self.source_id = source_id
        self.started_at = started_at
        # One writer at a time: SQLite has a single write lock anyway, and a test session
        # bound to one connection must not be used concurrently.
        self.db_lock = asyncio.Lock()
        self.counts = records.WriteCounts()
        self.progress = SyncProgress()
        self.report = progress
        self.warnings: list[SyncWarning] = []
        self.errors: dict[str, str] = {}

    def note(self, page: Page, written: records.WriteCounts) -> None:
        self.counts.add(written)
        self.warnings.extend(page.warnings)
        self.progress.items_seen += len(page.items)
        self.progress.items_written += written.items
        if self.report:
            self.report(self.progress)


async def run_sync(
    sessionmaker: async_sessionmaker[AsyncSession],
    connector: Connector,
    *,
    source_id: int,
    full: bool = False,
    overlap: timedelta = timedelta(minutes=5),
    max_concurrent_scopes: int = 4,
    now: Callable[[], datetime] = utcnow,
    progress: Callable[[SyncProgress], None] | None = None,
    references: ReferenceResolver | None = None,
) -> SyncOutcome:
    """Pull what changed (or everything, with ``full``) from one source into the store.

    With ``references``, mentions of other trackers' items become links of the mentioning
    item before it is stored (see ``app.sync.crosslinks``).
    """
    started_at = now()
    run_id = await _start_run(
        sessionmaker, source_id, RunMode.FULL if full else RunMode.INCREMENTAL, started_at
    )
    logs.sync_run_var.set(run_id)
    run = _Run(sessionmaker, source_id, started_at, progress, references)
    try:
        scopes = list(await connector.scopes())
        run.progress.scopes_total = len(scopes)
        limit = asyncio.Semaphore(max_concurrent_scopes)

        async def one(scope: str) -> None:
            async with limit:
                await _sync_scope(run, connector, scope, full=full, overlap=overlap)

        async with asyncio.TaskGroup() as group:
            for scope in scopes:
                group.create_task(one(scope))
    except* ConnectorError as caught:
        run.errors["*"] = str(caught.exceptions[0])
    except* asyncio.CancelledError:
        # Stopped (shutdown, or the caller gave up): the pages stored so far stay, the
        # cursors did not move past the page in hand, so the next sync re-reads it.
        run.errors["*"] = "stopped before it finished; the next sync resumes from here"
        await asyncio.shield(_finish_run(run, run_id, connector, RunStatus.ABANDONED, now()))
        raise
    except* BaseException as caught:
        # A defect or a lost database: record the run as failed, then let it surface.
        run.errors["*"] = f"internal error: {caught.exceptions[0]!r}"
        await _finish_run(run, run_id, connector, RunStatus.FAILED, now())
        raise
    if "*" in run.errors or (run.errors and not run.progress.scopes_done):
        status = RunStatus.FAILED
    else:
        status = RunStatus.PARTIAL if run.errors else RunStatus.SUCCEEDED
    await _finish_run(run, run_id, connector, status, now())
    return SyncOutcome(
        run_id, status, run.counts, run.progress.items_seen, run.warnings, run.errors
    )


async def _in_db(run: _Run, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in its own transaction, one writer at a time, safe from cancellation.

    When a sibling scope fails and this task is cancelled, the transaction in hand still
    completes or rolls back as a whole instead of stopping between two statements.
    """

    async def guarded() -> T:
        async with run.db_lock, session_scope(run.sessionmaker) as session:
            return await work(session)

    return await asyncio.shield(guarded())


@dataclass(frozen=True, slots=True)
class _Listing:
    """Where a scope's listing stands, for the checkpoints its pages carry."""

    scope: str
    since: datetime | None
    began: datetime


def _resumable(state: SyncStateRow | None, since: datetime | None) -> str | None:
    """The checkpoint a listing with ``since`` may continue after: one left by a listing
    of the same window (a full one, or the same cursor) that was cut short."""
    if state is None or not state.checkpoint or state.checkpoint_started_at is None:
        return None
    return state.checkpoint if state.checkpoint_since == since else None


async def _sync_scope(
    run: _Run, connector: Connector, scope: str, *, full: bool, overlap: timedelta
) -> None:
    state = await _in_db(run, lambda s: records.get_sync_state(s, run.source_id, scope))
    since = None if full or state is None or state.cursor_at is None else state.cursor_at - overlap
    token = state.token if state is not None else None
    resume = _resumable(state, since)
    began = state.checkpoint_started_at if resume and state else None
    listing = _Listing(scope, since, began or run.started_at)
    if resume:
        log.info("scope %s: continuing a listing begun at %s after %s", scope, began, resume)
        # Only a connector whose pages carry checkpoints is asked to continue after one.
        pages = connector.fetch(scope, since, token=token, after=resume)  # type: ignore[call-arg]
    else:
        pages = connector.fetch(scope, since, token=token)
    newest: datetime | None = None
    pending: Page | None = None
    census: frozenset[str] | None = None
    unread = False
    try:
        async for page in pages:
            if pending is not None:
                # Past an item that exists but could not be read, no checkpoint is kept:
                # a continued listing must ask for it again.
                await _store(run, pending, listing=None if unread else listing)
            unread = unread or any(w.kind == WarningKind.UNREAD for w in page.warnings)
            for item in page.items:
                if newest is None or item.updated_at > newest:
                    newest = item.updated_at
            token = page.token or token
            census = page.census if page.census is not None else census
            pending = page
        if census is not None:
            if pending is not None:
                await _store(run, pending, listing=None if unread else listing)
            pending = await _recheck_missing(run, connector, scope, census)
    except TrackerAuthError:
        raise
    except ConnectorError as exc:
        # Pages already stored stay stored; the cursor stays, so the window is repeated
        # (from the last checkpoint, for a listing that leaves them).
        if pending is not None:
            await _store(run, pending, listing=None if unread else listing)
        run.errors[scope] = str(exc)
        async with run.db_lock, session_scope(run.sessionmaker) as session:
            await records.advance_cursor(
                session,
                run.source_id,
                scope,
                None,
                run_started_at=run.started_at,
                status=RunStatus.FAILED,
                error=str(exc),
            )
        log.warning("sync of scope %s failed: %s", scope, exc)
        return
    # Singer's signpost: never move past the listing's start, which may hide late-indexed
    # rows (a continued listing began when the first part of it did). An item that exists
    # but could not be read holds the cursor: the next run asks again.
    cursor = min(newest, listing.began) if newest is not None and not unread else None
    if cursor is None and resume and since is None and not unread:
        cursor = listing.began  # a full listing ended whose pages all came before the cut
    await _store(run, pending or Page(scope=scope), cursor=cursor, scope=scope, token=token)
    run.progress.scopes_done += 1
    if run.report:
        run.report(run.progress)


async def _recheck_missing(
    run: _Run, connector: Connector, scope: str, census: frozenset[str]
) -> Page:
    """Re-read stored items of the scope that its complete listing no longer has.

    Missing from one project is not gone: the item may have moved to, or still be in,
    another configured project. The tracker decides: ``fetch_items`` returns it as it is
    now, or a deletion when it no longer exists or left every scope.
    """
    members = await _in_db(run, lambda s: records.list_live_in_scope(s, run.source_id, scope))
    missing = [key for external_id, key in members.items() if external_id not in census]
    if not missing:
        return Page(scope)
    log.info("scope %s: %d stored item(s) no longer listed; re-checking", scope, len(missing))
    found = await connector.fetch_items(missing)
    return Page(scope, found.items, found.deletions, found.warnings)


async def _store(
    run: _Run,
    page: Page,
    *,
    cursor: datetime | None = None,
    scope: str | None = None,
    token: str | None = None,
    listing: _Listing | None = None,
) -> None:
    """Store a page (and, with ``scope``, move that scope's cursor; with ``listing``, keep
    the page's checkpoint) in one transaction.

    A page the database refuses as a whole is stored again record by record: a record
    that still cannot be stored is left out with a warning naming it, and the rest of the
    page, the cursor with it, lands.
    """
    if run.references is not None:
        page = run.references.resolve_page(page)

    async def advance(session: AsyncSession) -> None:
        if scope is not None:
            await records.advance_cursor(
                session, run.source_id, scope, cursor, run_started_at=run.started_at, token=token
            )
        elif listing is not None and page.checkpoint is not None:
            await records.save_checkpoint(
                session,
                run.source_id,
                listing.scope,
                page.checkpoint,
                since=listing.since,
                started_at=listing.began,
            )

    async def save(session: AsyncSession) -> records.WriteCounts:
        written = await records.save_page(
            session, run.source_id, page, now=utcnow(), read_after=run.started_at
        )
        await advance(session)
        return written

    async def save_each(session: AsyncSession) -> tuple[records.WriteCounts, list[SyncWarning]]:
        stored = await records.save_page_each(
            session, run.source_id, page, now=utcnow(), read_after=run.started_at
        )
        await advance(session)
        return stored

    try:
        written = await _in_db(run, save)
    except Exception as exc:
        if not records.is_record_fault(exc):
            raise
        log.warning(
            "a page of %s was refused whole (%r); storing it record by record", page.scope, exc
        )
        written, skipped = await _in_db(run, save_each)
        for warning in skipped:
            log.warning("%s skipped: %s", warning.key, warning.reason)
        page = replace(page, warnings=[*page.warnings, *skipped])
    run.note(page, written)


async def run_census(
    sessionmaker: async_sessionmaker[AsyncSession],
    connector: Connector,
    *,
    source_id: int,
    now: Callable[[], datetime] = utcnow,
) -> SyncOutcome:
    """Tombstone stored items that no longer exist in any of the source's scopes.

    Ids are gathered from every scope first: an item moved between two configured projects
    is still present, and a census that failed anywhere deletes nothing. A listing is not
    proof (search indexes lag behind writes): stored items it misses are read back by id,
    and only those the tracker confirms gone are tombstoned. Tombstoned items it lists are
    read back too, which lifts a tombstone a short read once left.
    """
    started_at = now()
    run_id = await _start_run(sessionmaker, source_id, RunMode.CENSUS, started_at)
    logs.sync_run_var.set(run_id)
    run = _Run(sessionmaker, source_id, started_at, None)
    present: set[str] = set()
    status = RunStatus.SUCCEEDED
    try:
        for scope in await connector.scopes():
            present |= await connector.census(scope)
    except ConnectorError as exc:
        run.errors["*"] = str(exc)
        status = RunStatus.FAILED
    else:
        try:
            await _confirm_census(run, connector, present)
        except ConnectorError as exc:
            run.errors["*"] = str(exc)
            status = RunStatus.FAILED
        if run.counts.deleted:
            log.info("census marked %d item(s) deleted", run.counts.deleted)
    await _finish_run(run, run_id, connector, status, now())
    return SyncOutcome(run_id, status, run.counts, len(present), run.warnings, run.errors)


async def _confirm_census(run: _Run, connector: Connector, present: set[str]) -> None:
    async with session_scope(run.sessionmaker) as session:
        live = await records.list_live_external_ids(session, run.source_id)
        tombstoned = await records.list_deleted_external_ids(session, run.source_id)
    missing = live - present
    recheck = sorted(missing | (tombstoned & present))
    found = await connector.fetch_items(recheck) if recheck else Page("*")
    # Deleted are only those the census missed *and* the tracker confirms gone.
    confirmed = [d for d in found.deletions if d.external_id in missing]
    page = Page("*", found.items, [replace(d, at=run.started_at) for d in confirmed])
    async with session_scope(run.sessionmaker) as session:
        written = await records.save_page(
            session, run.source_id, page, now=utcnow(), read_after=run.started_at
        )
        for state in await records.list_sync_states(session, run.source_id):
            state.last_census_at = run.started_at
    run.counts.add(written)
    run.warnings.extend(found.warnings)


async def _start_run(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    mode: RunMode,
    started_at: datetime,
) -> int:
    async with session_scope(sessionmaker) as session:
        row = SyncRunRow(
            source_id=source_id,
            mode=mode,
            status=RunStatus.RUNNING,
            started_at=started_at,
            warnings=[],
        )
        session.add(row)
        await session.flush()
        return row.id


async def _finish_run(
    run: _Run, run_id: int, connector: Connector, status: RunStatus, finished_at: datetime
) -> None:
    async with run.db_lock, session_scope(run.sessionmaker) as session:
        row = await session.get_one(SyncRunRow, run_id)
        row.status = status
        row.finished_at = finished_at
        row.items_seen = run.progress.items_seen
        row.items_written = run.counts.items
        row.links_written = run.counts.links
        row.transitions_written = run.counts.transitions
        row.items_deleted = run.counts.deleted
        row.requests = connector.stats.requests
        row.retries = connector.stats.retries
        row.rate_limited = connector.stats.rate_limited
        row.warnings = [
            {"key": w.key, "reason": w.reason, "kind": str(w.kind)}
            for w in run.warnings[:MAX_STORED_WARNINGS]
        ]
        if len(run.warnings) > MAX_STORED_WARNINGS:
            row.warnings.append(
                {"key": "…", "reason": f"{len(run.warnings) - MAX_STORED_WARNINGS} more not shown"}
            )
        row.error = "; ".join(f"{k}: {v}" if k != "*" else v for k, v in run.errors.items()) or None
