"""A process's life: everything it shares opened in one place, closed in reverse order.

``service_state`` opens the store, applies the configuration to its catalog, opens the
tracker pool, the syncs, the webhook intake (and worker) and, when asked, the scheduler
with every feature's planned work. This module is the one place that knows every
feature's planner; the scheduler itself knows none.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts import schedule as alert_jobs
from app.config import ThroughlineConfig
from app.config.settings import Settings
from app.programs import recompute
from app.programs import schedule as program_jobs
from app.programs.pending import PendingRollups
from app.reports import schedule as report_jobs
from app.runtime.scheduler import JobContext, Scheduler
from app.runtime.state import AppState
from app.runtime.syncs import Syncs
from app.runtime.webhooks import Webhooks, backlog_provider
from app.store import catalog
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.store.locks import Locks
from app.store.schedule import PlanContext, Planner
from app.sync.trackers import TrackerPool
from app.telemetry.metrics import Metrics
from app.webhooks import schedule as webhook_jobs

log = logging.getLogger(__name__)


def planners(syncs: Syncs, pool: TrackerPool) -> Sequence[Planner]:
    """Every feature's scheduled work; a new kind of work adds its planner here."""
    return (
        syncs.plan,
        program_jobs.plan,
        report_jobs.plan,
        alert_jobs.plan,
        functools.partial(webhook_jobs.plan, pool=pool),
    )


@asynccontextmanager
async def service_state(
    settings: Settings,
    config: ThroughlineConfig,
    *,
    environ: Mapping[str, str],
    webhook_worker: bool | None = False,
    scheduler: bool = False,
) -> AsyncIterator[AppState]:
    """The state a process shares, opened and closed around its life.

    ``webhook_worker`` starts the worker that applies stored deliveries (``None``: as the
    settings say); ``scheduler`` plans every feature's jobs (started by the caller).
    """
    async with AsyncExitStack() as stack:
        engine = make_engine(
            settings.database_url,
            echo=settings.database_echo,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout,
        )
        stack.push_async_callback(engine.dispose)
        sessionmaker = make_sessionmaker(engine)
        read_sessionmaker = make_sessionmaker(engine, read_only=True)
        async with session_scope(sessionmaker) as session:
            await catalog.apply_config(session, config, now=datetime.now(UTC))
        metrics = Metrics()
        metrics.backlog = backlog_provider(read_sessionmaker)
        pool = TrackerPool(config.sources, environ=environ)
        stack.push_async_callback(pool.aclose)
        locks = Locks(engine)
        pending = PendingRollups(first=settings.scheduler.recompute_retry_seconds)
        await stack.enter_async_context(
            _retrying(pending, sessionmaker, config, read_sessionmaker, metrics)
        )
        syncs = Syncs(
            sessionmaker,
            config,
            locks=locks,
            pool=pool,
            metrics=metrics,
            read_sessionmaker=read_sessionmaker,
            pending=pending,
        )
        # Runs a killed process left "running" show as what they are from the start.
        await syncs.settle_orphans()
        webhooks = Webhooks.start(
            sessionmaker,
            config,
            settings.webhooks,
            environ=environ,
            metrics=metrics,
            pool=pool,
            read_sessionmaker=read_sessionmaker,
            worker=webhook_worker,
            body_seconds=settings.server.body_timeout_seconds,
            pending=pending,
        )
        state = AppState(
            settings=settings,
            config=config,
            engine=engine,
            sessionmaker=sessionmaker,
            read_sessionmaker=read_sessionmaker,
            metrics=metrics,
            locks=locks,
            trackers=pool,
            syncs=syncs,
            webhooks=webhooks,
            rollups=pending,
        )
        # Closed last-opened first: the scheduler's jobs, then the worker's batch, then
        # background syncs, each within what remains of the shutdown bound.
        stack.push_async_callback(lambda: syncs.aclose(grace=state.time_left()))
        stack.push_async_callback(lambda: webhooks.aclose(grace=state.time_left()))
        if scheduler:
            plan = PlanContext(
                sessionmaker, config, settings, environ, read_sessionmaker=read_sessionmaker
            )
            state.scheduler = Scheduler(
                JobContext(plan, locks=locks, metrics=metrics), planners(syncs, pool)
            )
            stack.push_async_callback(lambda: _close_scheduler(state))
        yield state


@asynccontextmanager
async def _retrying(
    pending: PendingRollups,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    read_sessionmaker: async_sessionmaker[AsyncSession],
    metrics: Metrics,
) -> AsyncIterator[None]:
    """Retry the roll-ups owed by failed recomputes for as long as the process lives."""

    async def again(sources: set[str]) -> None:
        await recompute.refresh_rollups(
            sessionmaker,
            config,
            sources,
            changed=True,
            read_sessionmaker=read_sessionmaker,
            metrics=metrics,
            pending=pending,
        )

    stop = asyncio.Event()
    task = asyncio.create_task(pending.run(again, stop), name="rollup-retries")
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def _close_scheduler(state: AppState) -> None:
    if state.scheduler is not None:
        await state.scheduler.aclose(grace=state.time_left())
