"""Sync jobs: what the CLI, the API and the scheduler run for a configured source."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import catalog, recompute, store, sync, trackers
from app.config import ThroughlineConfig
from app.crosslinks import ReferenceResolver
from app.db import session_scope
from app.metrics import Metrics
from app.models import Program, ProgramStatus, SyncRun
from app.state import AppState

log = logging.getLogger(__name__)


async def _source_id(
    sessionmaker: async_sessionmaker[AsyncSession], config: ThroughlineConfig, name: str
) -> int:
    async with session_scope(sessionmaker) as session:
        rows = await catalog.apply_config(session, config, now=datetime.now(UTC))
    return rows[name].id


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

    The HTTP client is built here and closed afterwards unless the caller passed its own.
    """
    source = config.source(name)
    if source is None:
        raise KeyError(f"no source named {name!r} in the configuration")
    source_id = await _source_id(sessionmaker, config, name)
    client = http_client or trackers.build_http_client(source, environ=environ)
    try:
        outcome = await sync.run_sync(
            sessionmaker,
            trackers.build_connector(source, client),
            source_id=source_id,
            full=full,
            overlap=source.overlap,
            max_concurrent_scopes=trackers.scope_concurrency(source),
            progress=progress,
            references=ReferenceResolver.from_config(config),
        )
    finally:
        if http_client is None:
            await client.aclose()
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
    source = config.source(name)
    if source is None:
        raise KeyError(f"no source named {name!r} in the configuration")
    source_id = await _source_id(sessionmaker, config, name)
    client = http_client or trackers.build_http_client(source, environ=environ)
    try:
        connector = trackers.build_connector(source, client)
        outcome = await sync.run_census(sessionmaker, connector, source_id=source_id)
    finally:
        if http_client is None:
            await client.aclose()
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
                select(func.count(ProgramStatus.id), func.min(ProgramStatus.computed_at))
                .join(Program, Program.id == ProgramStatus.program_id)
                .where(Program.key.in_(keys))
            )
        ).one()
    return bool(computed < len(keys) or oldest is None or oldest.date() < now.date())


# The service's own syncs (API now, scheduler later): one source at a time per process,
# through the process's pooled HTTP client, recorded in the Prometheus metrics, with the
# deletion census after a full sync and whenever ``census_every`` has passed.

_LOCKS = "sync_locks"
_TASKS = "sync_tasks"


class UnknownSource(LookupError):
    """No source of that name is configured."""


class SyncAlreadyRunning(RuntimeError):
    """A sync of this source is already running in this process."""


def is_running(state: AppState, name: str) -> bool:
    lock: asyncio.Lock | None = state.services.get(_LOCKS, {}).get(name)
    return lock is not None and lock.locked()


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
    source = state.config.source(name)
    if source is None:
        raise UnknownSource(name)
    lock = state.services.setdefault(_LOCKS, {}).setdefault(name, asyncio.Lock())
    if lock.locked():
        raise SyncAlreadyRunning(name)
    async with lock:
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
            started = time.perf_counter()
            census = await census_source(
                state.sessionmaker,
                state.config,
                name,
                http_client=client,
                read_sessionmaker=state.read_sessionmaker,
                metrics=state.metrics,
            )
            await _record(state, name, "census", census, started)
        return outcome


def start_sync(state: AppState, name: str, *, full: bool = False) -> asyncio.Task[sync.SyncOutcome]:
    """Start a sync in the background (the API's way); the task is kept until it ends."""
    if state.config.source(name) is None:
        raise UnknownSource(name)
    tasks: dict[str, asyncio.Task[sync.SyncOutcome]] = state.services.setdefault(_TASKS, {})
    # A task just created has not taken the source's lock yet: it counts as running too.
    if is_running(state, name) or (name in tasks and not tasks[name].done()):
        raise SyncAlreadyRunning(name)
    task = asyncio.create_task(sync_and_record(state, name, full=full), name=f"sync:{name}")
    tasks[name] = task
    task.add_done_callback(lambda done: _forget(tasks, name, done))
    return task


async def shutdown(state: AppState) -> None:
    """Cancel background syncs: their stored pages stay, their cursors did not move."""
    tasks: dict[str, asyncio.Task[sync.SyncOutcome]] = state.services.get(_TASKS, {})
    for task in list(tasks.values()):
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)


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
        row = await store.get_source(session, name)
        states = await store.list_sync_states(session, row.id) if row else []
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
        run = await session.get(SyncRun, outcome.run_id)
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
    )
