"""Sync jobs: what the CLI, the API and the scheduler run for a configured source."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import sync
from app.config import ThroughlineConfig
from app.programs import recompute
from app.runtime.state import AppState
from app.store import catalog, records
from app.store.engine import session_scope
from app.store.locks import Locks, source_key
from app.store.tables import ProgramRow, ProgramStatusRow, SyncRunRow
from app.sync import trackers
from app.sync.crosslinks import ReferenceResolver
from app.telemetry import logs
from app.telemetry.metrics import Metrics
from connectors.base import Connector

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def _connected(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    name: str,
    environ: Mapping[str, str] | None,
    http_client: httpx.AsyncClient | None,
) -> AsyncIterator[tuple[trackers.SourceConfig, int, Connector]]:
    """The source's configuration, its row id and a connector, for one sync or census.

    The HTTP client is built here and closed afterwards unless the caller passed its own.
    """
    source = config.source(name)
    if source is None:
        raise KeyError(f"no source named {name!r} in the configuration")
    async with session_scope(sessionmaker) as session:
        rows = await catalog.apply_config(session, config, now=datetime.now(UTC))
    client = http_client or trackers.build_http_client(source, environ=environ)
    try:
        with logs.source_context(name):
            yield source, rows[name].id, trackers.build_connector(source, client)
    finally:
        if http_client is None:
            await client.aclose()


async def sync_source(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    name: str,
    *,
    full: bool = False,
    environ: Mapping[str, str] | None = None,
    http_client: httpx.AsyncClient | None = None,
    progress: Callable[[sync.SyncProgress], None] | None = None,
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    metrics: Metrics | None = None,
) -> sync.SyncOutcome:
    """Pull one source's changes (or everything, with ``full``) into the store, then
    refresh the roll-ups of the programs that read it.

    It takes no lock: callers that may race another process hold ``locks.source_key``.
    """
    async with _connected(sessionmaker, config, name, environ, http_client) as (
        source,
        source_id,
        connector,
    ):
        outcome = await sync.run_sync(
            sessionmaker,
            connector,
            source_id=source_id,
            full=full,
            overlap=source.overlap,
            max_concurrent_scopes=trackers.scope_concurrency(source),
            progress=progress,
            references=ReferenceResolver.from_config(config),
        )
    if full and _changed(outcome):
        # A full sync is a bulk load: give the planner statistics before the roll-up reads.
        async with session_scope(sessionmaker) as session:
            await records.refresh_statistics(session)
    await refresh_rollups(
        sessionmaker,
        config,
        {name},
        changed=_changed(outcome),
        read_sessionmaker=read_sessionmaker,
        metrics=metrics,
    )
    return outcome


async def census_source(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    name: str,
    *,
    environ: Mapping[str, str] | None = None,
    http_client: httpx.AsyncClient | None = None,
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    metrics: Metrics | None = None,
) -> sync.SyncOutcome:
    """Tombstone the source's stored items that none of its scopes holds any more."""
    async with _connected(sessionmaker, config, name, environ, http_client) as (
        _,
        source_id,
        connector,
    ):
        outcome = await sync.run_census(sessionmaker, connector, source_id=source_id)
    if outcome.counts.deleted:
        await refresh_rollups(
            sessionmaker,
            config,
            {name},
            changed=True,
            read_sessionmaker=read_sessionmaker,
            metrics=metrics,
        )
    return outcome


async def abandon_orphaned_runs(sessionmaker: async_sessionmaker[AsyncSession], name: str) -> int:
    """Mark the source's runs still "running" as abandoned; call only under its lock.

    Whoever holds the source's lock is the only one syncing it, so a run still marked
    running was left by a process that died mid-sync. Its stored pages stay; its cursor
    never moved past them, so the next sync re-reads the rest.
    """
    async with session_scope(sessionmaker) as session:
        row = await records.get_source(session, name)
        if row is None:
            return 0
        result = await session.execute(
            update(SyncRunRow)
            .where(SyncRunRow.source_id == row.id, SyncRunRow.status == "running")
            .values(
                status="abandoned",
                finished_at=datetime.now(UTC),
                error="the process running it stopped before it finished",
            )
        )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.warning("%s: %d sync run(s) left running by a stopped process abandoned", name, count)
    return count


def _changed(outcome: sync.SyncOutcome) -> bool:
    counts = outcome.counts
    return bool(counts.items or counts.links or counts.transitions or counts.deleted)


async def refresh_rollups(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    sources: set[str],
    *,
    changed: bool,
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    metrics: Metrics | None = None,
    now: datetime | None = None,
) -> recompute.RecomputeResult | None:
    """Recompute the programs that read ``sources`` after their data changed.

    Without a change, the roll-ups are still recomputed once a day: forecasts and
    overdue dates move with the calendar even when nobody touches a ticket.
    """
    now = now or datetime.now(UTC)
    if not changed and not await _rollups_stale(
        read_sessionmaker or sessionmaker, config, sources, now
    ):
        return None
    started = time.perf_counter()
    result = await recompute.recompute(
        sessionmaker, config, now=now, sources=sources, read_sessionmaker=read_sessionmaker
    )
    if metrics is not None:
        metrics.rollup_recompute_seconds.observe(time.perf_counter() - started)
    if result.programs:
        log.info(
            "recomputed %s in %.2fs", ", ".join(result.programs), time.perf_counter() - started
        )
    return result


async def _rollups_stale(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    sources: set[str],
    now: datetime,
) -> bool:
    """Whether any program reading ``sources`` has no roll-up computed today (UTC)."""
    keys = [p.key for p in recompute.affected_programs(config, sources)]
    if not keys:
        return False
    async with session_scope(sessionmaker) as session:
        computed, oldest = (
            await session.execute(
                select(func.count(ProgramStatusRow.id), func.min(ProgramStatusRow.computed_at))
                .join(ProgramRow, ProgramRow.id == ProgramStatusRow.program_id)
                .where(ProgramRow.key.in_(keys))
            )
        ).one()
    return bool(computed < len(keys) or oldest is None or oldest.date() < now.date())


# The service's own syncs (API, pages, scheduler): one source at a time across every
# process on the database (``app.locks``), through the process's pooled HTTP client,
# recorded in the Prometheus metrics, with the deletion census after a full sync and
# whenever ``census_every`` has passed.

_TASKS = "sync_tasks"
_LOCKS = "locks"


class UnknownSource(LookupError):
    """No source of that name is configured."""


class SyncAlreadyRunning(RuntimeError):
    """A sync of this source is already running, in this process or another."""


def locks_of(state: AppState) -> Locks:
    """The process's cross-process locks over its database (made on first use)."""
    found: Locks | None = state.services.get(_LOCKS)
    if found is None:
        found = state.services[_LOCKS] = Locks(state.engine)
    return found


def is_running(state: AppState, name: str) -> bool:
    """Whether this process is syncing ``name`` now (a started task counts)."""
    task = state.services.get(_TASKS, {}).get(name)
    return locks_of(state).held_here(source_key(name)) or (task is not None and not task.done())


@contextlib.asynccontextmanager
async def source_lock(state: AppState, name: str) -> AsyncIterator[None]:
    """Hold the source's cross-process lock, or raise ``SyncAlreadyRunning``."""
    if state.config.source(name) is None:
        raise UnknownSource(name)
    async with locks_of(state).hold(source_key(name)) as held:
        if not held:
            raise SyncAlreadyRunning(name)
        yield


async def sync_and_record(
    state: AppState,
    name: str,
    *,
    full: bool = False,
    progress: Callable[[sync.SyncProgress], None] | None = None,
) -> sync.SyncOutcome:
    """Sync one source now for the service; ``SyncAlreadyRunning`` if it already is.

    A second request is refused rather than queued: the running sync picks up the same
    changes.
    """
    async with source_lock(state, name):
        return await sync_locked(state, name, full=full, progress=progress)


async def sync_locked(
    state: AppState,
    name: str,
    *,
    full: bool = False,
    progress: Callable[[sync.SyncProgress], None] | None = None,
) -> sync.SyncOutcome:
    """``sync_and_record`` for a caller that already holds the source's lock."""
    with logs.source_context(name):
        return await _sync_locked(state, name, full=full, progress=progress)


async def _sync_locked(
    state: AppState,
    name: str,
    *,
    full: bool,
    progress: Callable[[sync.SyncProgress], None] | None,
) -> sync.SyncOutcome:
    source = state.config.source(name)
    if source is None:
        raise UnknownSource(name)
    await abandon_orphaned_runs(state.sessionmaker, name)
    client = _pooled_client(state, source)
    started = time.perf_counter()
    outcome = await sync_source(
        state.sessionmaker,
        state.config,
        name,
        full=full,
        http_client=client,
        progress=progress,
        read_sessionmaker=state.read_sessionmaker,
        metrics=state.metrics,
    )
    mode = "full" if full else "incremental"
    await _record(state, name, mode, outcome, started)
    if outcome.status != "failed" and (full or await _census_due(state, name, source)):
        await census_locked(state, name)
    return outcome


async def census_locked(state: AppState, name: str) -> sync.SyncOutcome:
    """Run the source's deletion census; the caller holds the source's lock."""
    with logs.source_context(name):
        return await _census_locked(state, name)


async def _census_locked(state: AppState, name: str) -> sync.SyncOutcome:
    source = state.config.source(name)
    if source is None:
        raise UnknownSource(name)
    await abandon_orphaned_runs(state.sessionmaker, name)
    started = time.perf_counter()
    census = await census_source(
        state.sessionmaker,
        state.config,
        name,
        http_client=_pooled_client(state, source),
        read_sessionmaker=state.read_sessionmaker,
        metrics=state.metrics,
    )
    await _record(state, name, "census", census, started)
    return census


async def start_sync(
    state: AppState, name: str, *, full: bool = False
) -> asyncio.Task[sync.SyncOutcome]:
    """Start a sync in the background (the API's way); the task is kept until it ends.

    The source's lock is taken before this returns, so a caller learns at once that
    another process is already syncing it (``SyncAlreadyRunning``).
    """
    tasks: dict[str, asyncio.Task[sync.SyncOutcome]] = state.services.setdefault(_TASKS, {})
    if name in tasks and not tasks[name].done():
        raise SyncAlreadyRunning(name)
    held = contextlib.AsyncExitStack()
    await held.enter_async_context(source_lock(state, name))
    began = False

    async def run() -> sync.SyncOutcome:
        nonlocal began
        began = True
        async with held:
            return await sync_locked(state, name, full=full)

    def release_if_never_began(done: asyncio.Task[sync.SyncOutcome]) -> None:
        # A task cancelled before its first step never enters ``held``: release it here.
        if not began:
            state.services.setdefault("releases", set()).add(asyncio.ensure_future(held.aclose()))

    task = asyncio.create_task(run(), name=f"sync:{name}")
    tasks[name] = task
    task.add_done_callback(lambda done: _forget(tasks, name, done))
    task.add_done_callback(release_if_never_began)
    return task


async def shutdown(state: AppState, *, grace: float = 0.0) -> None:
    """Let background syncs finish for ``grace`` seconds, then cancel the rest: their
    stored pages stay, their cursors did not move past them (recorded as abandoned)."""
    tasks: dict[str, asyncio.Task[sync.SyncOutcome]] = state.services.get(_TASKS, {})
    running = [t for t in tasks.values() if not t.done()]
    if running and grace > 0:
        log.info("waiting up to %.0fs for %d background sync(s)", grace, len(running))
        await asyncio.wait(running, timeout=grace)
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)


def _forget(
    tasks: dict[str, asyncio.Task[sync.SyncOutcome]],
    name: str,
    done: asyncio.Task[sync.SyncOutcome],
) -> None:
    if tasks.get(name) is done:
        del tasks[name]
    if not done.cancelled() and done.exception() is not None:
        log.error("background sync of %s failed: %r", name, done.exception())


def _pooled_client(state: AppState, source: trackers.SourceConfig) -> httpx.AsyncClient:
    """One pooled client per source for the life of the process (closed by the lifespan)."""
    client = state.http_clients.get(source.name)
    if client is None:
        client = trackers.build_http_client(source)
        state.http_clients[source.name] = client
    return client


async def _census_due(state: AppState, name: str, source: trackers.SourceConfig) -> bool:
    async with session_scope(state.sessionmaker) as session:
        row = await records.get_source(session, name)
        states = await records.list_sync_states(session, row.id) if row else []
    last = min((s.last_census_at for s in states if s.last_census_at), default=None)
    return last is None or datetime.now(UTC) - last >= source.census_every


async def _record(
    state: AppState, name: str, mode: str, outcome: sync.SyncOutcome, started: float
) -> None:
    metrics = state.metrics
    metrics.sync_seconds.labels(name, mode).observe(time.perf_counter() - started)
    metrics.sync_items.labels(name).inc(outcome.counts.items)
    metrics.sync_warnings.labels(name).inc(len(outcome.warnings))
    async with session_scope(state.sessionmaker) as session:
        run = await session.get(SyncRunRow, outcome.run_id)
        metrics.tracker_rate_limited.labels(name).inc(run.rate_limited if run else 0)
    if outcome.status == "failed":
        metrics.sync_errors.labels(name).inc()
    elif mode != "census":
        metrics.last_sync_timestamp.labels(name).set(time.time())
    log.info(
        "%s %s sync %s: %d item(s) written, %d seen, %d warning(s)%s",
        name,
        mode,
        outcome.status,
        outcome.counts.items,
        outcome.items_seen,
        len(outcome.warnings),
        f", error: {'; '.join(outcome.errors.values())}" if outcome.errors else "",
        extra={"sync_run": outcome.run_id},
    )
