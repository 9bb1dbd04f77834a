"""Pulling one configured source into the store — a sync or the deletion census — and then
refreshing the roll-ups of the programs that read it.

The CLI calls these directly; the service's own syncs (``app.runtime.syncs``) call them
under the source's cross-process lock, through the process's ``TrackerPool``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import sync
from app.config import ThroughlineConfig
from app.programs import recompute, scoping
from app.programs.pending import PendingRollups
from app.store import catalog, records
from app.store.engine import session_scope
from app.store.tables import SyncRunRow
from app.sync import trackers
from app.sync.crosslinks import ReferenceResolver
from app.telemetry import logs
from app.telemetry.metrics import Metrics
from connectors.base import Connector
from vocabulary import RunStatus

log = logging.getLogger(__name__)

ORPHANED = "the process running it stopped before it finished"


@contextlib.asynccontextmanager
async def _connected(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    name: str,
    environ: Mapping[str, str] | None,
    pool: trackers.TrackerPool | None,
) -> AsyncIterator[tuple[trackers.SourceConfig, int, Connector]]:
    """The source's configuration, its row id and a connector, for one sync or census.

    Without the caller's pool, a pool of one source is opened here and closed afterwards.
    """
    source = config.source(name)
    if source is None:
        raise KeyError(f"no source named {name!r} in the configuration")
    async with session_scope(sessionmaker) as session:
        rows = await catalog.apply_config(session, config, now=datetime.now(UTC))
    own = pool is None
    used = trackers.TrackerPool([source], environ=environ) if pool is None else pool
    try:
        with logs.source_context(name):
            yield source, rows[name].id, used.connector(name)
    finally:
        if own:
            await used.aclose()


async def sync_source(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    name: str,
    *,
    full: bool = False,
    environ: Mapping[str, str] | None = None,
    pool: trackers.TrackerPool | None = None,
    progress: Callable[[sync.SyncProgress], None] | None = None,
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    metrics: Metrics | None = None,
    pending: PendingRollups | None = None,
) -> sync.SyncOutcome:
    """Pull one source's changes (or everything, with ``full``) into the store, then
    refresh the roll-ups of the programs that read it (a failed refresh is kept in
    ``pending`` to be retried, when given).

    It takes no lock: callers that may race another process hold ``locks.source_key``.
    """
    since = datetime.now(UTC)
    async with _connected(sessionmaker, config, name, environ, pool) as (
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
            max_concurrent_scopes=trackers.kind_of(source).scope_concurrency(source),
            progress=progress,
            references=ReferenceResolver.from_config(config),
        )
    if full and _changed(outcome):
        # A full sync is a bulk load: give the planner statistics before the roll-up reads.
        async with session_scope(sessionmaker) as session:
            await records.refresh_statistics(session)
    keys = None
    if not full and outcome.counts.items and not outcome.counts.deleted:
        # An incremental sync recomputes the programs its stored items touch.
        async with session_scope(read_sessionmaker or sessionmaker) as session:
            keys = {name: await scoping.keys_synced_since(session, source_id, since)}
    await recompute.refresh_rollups(
        sessionmaker,
        config,
        {name},
        changed=_changed(outcome),
        keys=keys,
        read_sessionmaker=read_sessionmaker,
        metrics=metrics,
        pending=pending,
    )
    return outcome


async def census_source(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    name: str,
    *,
    environ: Mapping[str, str] | None = None,
    pool: trackers.TrackerPool | None = None,
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    metrics: Metrics | None = None,
    pending: PendingRollups | None = None,
) -> sync.SyncOutcome:
    """Tombstone the source's stored items that none of its scopes holds any more."""
    async with _connected(sessionmaker, config, name, environ, pool) as (
        _,
        source_id,
        connector,
    ):
        outcome = await sync.run_census(sessionmaker, connector, source_id=source_id)
    if outcome.counts.deleted:
        await recompute.refresh_rollups(
            sessionmaker,
            config,
            {name},
            changed=True,
            read_sessionmaker=read_sessionmaker,
            metrics=metrics,
            pending=pending,
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
            .where(SyncRunRow.source_id == row.id, SyncRunRow.status == RunStatus.RUNNING)
            .values(
                status=RunStatus.ABANDONED,
                finished_at=datetime.now(UTC),
                error=ORPHANED,
            )
        )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.warning("%s: %d sync run(s) left running by a stopped process abandoned", name, count)
    return count


def _changed(outcome: sync.SyncOutcome) -> bool:
    counts = outcome.counts
    return bool(counts.items or counts.links or counts.transitions or counts.deleted)
