"""The service's own syncs (API, pages, scheduler): one source at a time across every
process on the database (``app.store.locks``), through the process's ``TrackerPool``,
recorded in the Prometheus metrics, with the deletion census after a full sync and
whenever ``census_every`` has passed. Their scheduled runs are planned here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zoneinfo
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import sync
from app.config import AsanaSourceConfig, ThroughlineConfig
from app.config.cron import crontab_trigger
from app.programs.pending import PendingRollups
from app.store import records
from app.store.engine import session_scope
from app.store.locks import Locks, source_key
from app.store.schedule import EPOCH, NIGHTLY_GRACE, JobSpec, PlanContext
from app.store.tables import SyncRunRow
from app.sync import pull
from app.sync.trackers import SourceConfig, TrackerPool
from app.telemetry import logs
from app.telemetry.metrics import Metrics
from vocabulary import RunMode, RunStatus

log = logging.getLogger(__name__)

Progress = Callable[[sync.SyncProgress], None]


class UnknownSource(LookupError):
    """No source of that name is configured."""


class SyncAlreadyRunning(RuntimeError):
    """A sync of this source is already running, in this process or another."""


class Syncs:
    """Starts, runs, records and stops the syncs of one process."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        config: ThroughlineConfig,
        *,
        locks: Locks,
        pool: TrackerPool,
        metrics: Metrics,
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        pending: PendingRollups | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._pending = pending
        self._read_sessionmaker = read_sessionmaker
        self._config = config
        self._locks = locks
        self._pool = pool
        self._metrics = metrics
        self._tasks: dict[str, asyncio.Task[sync.SyncOutcome]] = {}
        self._releases: set[asyncio.Future[None]] = set()

    def is_running(self, name: str) -> bool:
        """Whether this process is syncing ``name`` now (a started task counts)."""
        task = self._tasks.get(name)
        return self._locks.held_here(source_key(name)) or (task is not None and not task.done())

    @contextlib.asynccontextmanager
    async def source_lock(self, name: str) -> AsyncIterator[None]:
        """Hold the source's cross-process lock, or raise ``SyncAlreadyRunning``."""
        if self._config.source(name) is None:
            raise UnknownSource(name)
        async with self._locks.hold(source_key(name)) as held:
            if not held:
                raise SyncAlreadyRunning(name)
            yield

    async def sync_and_record(
        self, name: str, *, full: bool = False, progress: Progress | None = None
    ) -> sync.SyncOutcome:
        """Sync one source now; ``SyncAlreadyRunning`` if it already is.

        A second request is refused rather than queued: the running sync picks up the same
        changes.
        """
        async with self.source_lock(name):
            return await self.sync_locked(name, full=full, progress=progress)

    async def sync_locked(
        self, name: str, *, full: bool = False, progress: Progress | None = None
    ) -> sync.SyncOutcome:
        """``sync_and_record`` for a caller that already holds the source's lock."""
        source = self._source(name)
        with logs.source_context(name):
            await pull.abandon_orphaned_runs(self._sessionmaker, name)
            started = time.perf_counter()
            outcome = await pull.sync_source(
                self._sessionmaker,
                self._config,
                name,
                full=full,
                pool=self._pool,
                progress=progress,
                read_sessionmaker=self._read_sessionmaker,
                metrics=self._metrics,
                pending=self._pending,
            )
            mode = RunMode.FULL if full else RunMode.INCREMENTAL
            await self._record(name, mode, outcome, started)
            if outcome.status != RunStatus.FAILED and (full or await self._census_due(source)):
                await self._census(name)
            return outcome

    async def census_locked(self, name: str) -> sync.SyncOutcome:
        """Run the source's deletion census; the caller holds the source's lock."""
        self._source(name)
        with logs.source_context(name):
            return await self._census(name)

    async def _census(self, name: str) -> sync.SyncOutcome:
        await pull.abandon_orphaned_runs(self._sessionmaker, name)
        started = time.perf_counter()
        census = await pull.census_source(
            self._sessionmaker,
            self._config,
            name,
            pool=self._pool,
            read_sessionmaker=self._read_sessionmaker,
            metrics=self._metrics,
            pending=self._pending,
        )
        await self._record(name, RunMode.CENSUS, census, started)
        return census

    async def start_sync(self, name: str, *, full: bool = False) -> asyncio.Task[sync.SyncOutcome]:
        """Start a sync in the background (the API's way); the task is kept until it ends.

        The source's lock is taken before this returns, so a caller learns at once that
        another process is already syncing it (``SyncAlreadyRunning``).
        """
        running = self._tasks.get(name)
        if running is not None and not running.done():
            raise SyncAlreadyRunning(name)
        held = contextlib.AsyncExitStack()
        await held.enter_async_context(self.source_lock(name))
        began = False

        async def run() -> sync.SyncOutcome:
            nonlocal began
            began = True
            async with held:
                return await self.sync_locked(name, full=full)

        def release_if_never_began(done: asyncio.Task[sync.SyncOutcome]) -> None:
            # A task cancelled before its first step never enters ``held``: release it here.
            if not began:
                release = asyncio.ensure_future(held.aclose())
                self._releases.add(release)
                release.add_done_callback(self._releases.discard)

        task = asyncio.create_task(run(), name=f"sync:{name}")
        self._tasks[name] = task
        task.add_done_callback(lambda done: self._forget(name, done))
        task.add_done_callback(release_if_never_began)
        return task

    async def settle_orphan(self, name: str) -> bool:
        """Mark the source's runs left "running" by a process that died (``kill -9``, a lost
        host) as abandoned, if nobody syncs it now (its lock is free); whether any was."""
        if self._config.source(name) is None or self.is_running(name):
            return False
        async with self._locks.hold(source_key(name)) as held:
            return held and await pull.abandon_orphaned_runs(self._sessionmaker, name) > 0

    async def settle_orphans(self) -> list[str]:
        """``settle_orphan`` for every configured source (a process does it as it starts)."""
        return [s.name for s in self._config.sources if await self.settle_orphan(s.name)]

    def running(self) -> list[asyncio.Task[sync.SyncOutcome]]:
        return [task for task in self._tasks.values() if not task.done()]

    async def aclose(self, *, grace: float = 0.0) -> None:
        """Let background syncs finish for ``grace`` seconds, then cancel the rest: their
        stored pages stay, their cursors did not move past them (recorded as abandoned)."""
        running = self.running()
        if running and grace > 0:
            log.info("waiting up to %.0fs for %d background sync(s)", grace, len(running))
            await asyncio.wait(running, timeout=grace)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)

    def plan(self, ctx: PlanContext) -> list[JobSpec]:
        """``sync:<source>`` at its ``sync_every`` (aligned to the epoch, so every process
        computes the same due times), ``census:<source>`` at ``scheduler.census_cron``
        (UTC) and, for Asana, ``full-listing:<source>`` at its ``full_listing_every``, all
        under the source's lock."""
        grace = timedelta(seconds=ctx.settings.scheduler.misfire_grace_seconds)
        cron = ctx.settings.scheduler.census_cron

        def run_sync(name: str) -> Callable[[], Awaitable[object]]:
            return lambda: self.sync_locked(name)

        def run_census(name: str) -> Callable[[], Awaitable[object]]:
            return lambda: self.census_locked(name)

        def run_full_listing(name: str) -> Callable[[], Awaitable[object]]:
            # Asana's events are at-most-once: a full sync lists every task and subtask
            # again, repairing what a lost event left stale.
            return lambda: self.sync_locked(name, full=True)

        specs = [
            JobSpec(
                id=f"sync:{s.name}",
                name=f"sync {s.name} every {s.sync_every}",
                trigger=IntervalTrigger(
                    seconds=s.sync_every.total_seconds(), start_date=EPOCH, timezone=UTC
                ),
                run=run_sync(s.name),
                lock=source_key(s.name),
                # A sync late by more than its interval is skipped: the next one is as good.
                misfire_grace=min(s.sync_every, grace),
            )
            for s in ctx.config.sources
        ]
        specs += [
            JobSpec(
                id=f"census:{s.name}",
                name=f"deletion census of {s.name} ({cron} UTC)",
                trigger=crontab_trigger(cron, zoneinfo.ZoneInfo("UTC")),
                run=run_census(s.name),
                lock=source_key(s.name),
                misfire_grace=NIGHTLY_GRACE,
            )
            for s in ctx.config.sources
        ]
        specs += [
            JobSpec(
                id=f"full-listing:{s.name}",
                name=f"full listing of {s.name} every {s.full_listing_every}",
                trigger=IntervalTrigger(
                    seconds=s.full_listing_every.total_seconds(), start_date=EPOCH, timezone=UTC
                ),
                run=run_full_listing(s.name),
                lock=source_key(s.name),
                misfire_grace=NIGHTLY_GRACE,
            )
            for s in ctx.config.sources
            if isinstance(s, AsanaSourceConfig)
        ]
        return specs

    def _source(self, name: str) -> SourceConfig:
        source = self._config.source(name)
        if source is None:
            raise UnknownSource(name)
        return source

    def _forget(self, name: str, done: asyncio.Task[sync.SyncOutcome]) -> None:
        if self._tasks.get(name) is done:
            del self._tasks[name]
        if not done.cancelled() and done.exception() is not None:
            log.error("background sync of %s failed: %r", name, done.exception())

    async def _census_due(self, source: SourceConfig) -> bool:
        async with session_scope(self._sessionmaker) as session:
            row = await records.get_source(session, source.name)
            states = await records.list_sync_states(session, row.id) if row else []
        last = min((s.last_census_at for s in states if s.last_census_at), default=None)
        return last is None or datetime.now(UTC) - last >= source.census_every

    async def _record(
        self, name: str, mode: RunMode, outcome: sync.SyncOutcome, started: float
    ) -> None:
        metrics = self._metrics
        metrics.sync_seconds.labels(name, mode.value).observe(time.perf_counter() - started)
        metrics.sync_items.labels(name).inc(outcome.counts.items)
        metrics.sync_warnings.labels(name).inc(len(outcome.warnings))
        async with session_scope(self._sessionmaker) as session:
            run = await session.get(SyncRunRow, outcome.run_id)
            metrics.tracker_rate_limited.labels(name).inc(run.rate_limited if run else 0)
        if outcome.status == RunStatus.FAILED:
            metrics.sync_errors.labels(name).inc()
        elif mode != RunMode.CENSUS:
            metrics.last_sync_timestamp.labels(name).set(time.time())
        log.info(
            "%s %s sync %s: %d item(s) written, %d seen, %d warning(s)%s",
            name,
            mode.value,
            outcome.status,
            outcome.counts.items,
            outcome.items_seen,
            len(outcome.warnings),
            f", error: {'; '.join(outcome.errors.values())}" if outcome.errors else "",
            extra={"sync_run": outcome.run_id},
        )
