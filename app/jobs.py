"""Sync jobs, the same for the CLI, the API and the scheduler: one source at a time.

A job pulls what changed (or everything), then runs the deletion census when it is due
(after a full sync, or ``census_every`` after the last one), and records what happened in
the Prometheus metrics. One job per source runs at a time in a process; a second request
is refused rather than queued, since the running one will pick up the same changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from app import store, sync, trackers
from app.db import session_scope
from app.state import AppState
from connectors.base import Connector

log = logging.getLogger(__name__)

_LOCKS = "sync_locks"
_TASKS = "sync_tasks"


class UnknownSource(LookupError):
    """No source of that name is configured."""


class SyncAlreadyRunning(RuntimeError):
    """A sync of this source is already running in this process."""


def is_running(state: AppState, name: str) -> bool:
    lock: asyncio.Lock | None = state.services.get(_LOCKS, {}).get(name)
    return lock is not None and lock.locked()


async def sync_source(
    state: AppState,
    name: str,
    *,
    full: bool = False,
    progress: Callable[[sync.SyncProgress], None] | None = None,
) -> sync.SyncOutcome:
    """Sync one configured source now; raises ``SyncAlreadyRunning`` if it already is."""
    source = state.config.source(name)
    if source is None:
        raise UnknownSource(name)
    lock = state.services.setdefault(_LOCKS, {}).setdefault(name, asyncio.Lock())
    if lock.locked():
        raise SyncAlreadyRunning(name)
    async with lock:
        async with session_scope(state.sessionmaker) as session:
            row = await store.get_source(session, name)
        if row is None:
            raise UnknownSource(name)
        http = _http_client(state, source)
        started = time.perf_counter()
        connector = trackers.build_connector(source, http)
        outcome = await sync.run_sync(
            state.sessionmaker,
            connector,
            source_id=row.id,
            full=full,
            overlap=source.overlap,
            progress=progress,
        )
        _record(state, name, "full" if full else "incremental", outcome, connector, started)
        if outcome.status != "failed" and (full or await _census_due(state, row.id, source)):
            started = time.perf_counter()
            census_connector = trackers.build_connector(source, http)
            census = await sync.run_census(state.sessionmaker, census_connector, source_id=row.id)
            _record(state, name, "census", census, census_connector, started)
        return outcome


def start_sync(state: AppState, name: str, *, full: bool = False) -> asyncio.Task[sync.SyncOutcome]:
    """Start a sync in the background (the API's way); the task is kept until it ends."""
    if state.config.source(name) is None:
        raise UnknownSource(name)
    if is_running(state, name):
        raise SyncAlreadyRunning(name)
    tasks: dict[str, asyncio.Task[sync.SyncOutcome]] = state.services.setdefault(_TASKS, {})
    task = asyncio.create_task(sync_source(state, name, full=full), name=f"sync:{name}")
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


def _http_client(state: AppState, source: trackers.SourceConfig) -> httpx.AsyncClient:
    """One pooled client per source for the life of the process (closed by the lifespan)."""
    client = state.http_clients.get(source.name)
    if client is None:
        client = trackers.build_http_client(source)
        state.http_clients[source.name] = client
    return client


async def _census_due(state: AppState, source_id: int, source: trackers.SourceConfig) -> bool:
    async with session_scope(state.sessionmaker) as session:
        states = await store.list_sync_states(session, source_id)
    last = min((s.last_census_at for s in states if s.last_census_at), default=None)
    return last is None or datetime.now(UTC) - last >= source.census_every


def _record(
    state: AppState,
    name: str,
    mode: str,
    outcome: sync.SyncOutcome,
    connector: Connector,
    started: float,
) -> None:
    metrics = state.metrics
    metrics.sync_seconds.labels(name, mode).observe(time.perf_counter() - started)
    metrics.sync_items.labels(name).inc(outcome.counts.items)
    metrics.sync_warnings.labels(name).inc(len(outcome.warnings))
    metrics.tracker_rate_limited.labels(name).inc(connector.stats.rate_limited)
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
