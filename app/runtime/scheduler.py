"""The scheduler: APScheduler 3 running the jobs the features plan, once across every
process on the database.

It knows no feature. ``Scheduler`` is handed planners (``app.store.schedule.Planner``:
each feature plans its own ``JobSpec``\\ s) and runs each job under its cross-process lock,
claiming its due time in ``job_run`` so that a due time runs once however many processes
fire it (see ``app.store.schedule``).

**Defaults, chosen deliberately.** ``coalesce=True``: runs that piled up while a process
was busy or asleep are one run (a sync reads everything since its cursor anyway);
``max_instances=1``: a job never overlaps itself in a process (the lock covers other
processes); ``misfire_grace_time``: a sync late by more than its own interval is skipped
(the next one is as good), reports allow ``scheduler.misfire_grace_seconds`` and catch up
on start, the census and snapshots allow an hour.

**Shutdown.** ``drain`` stops the scheduler taking work, lets running jobs finish for a
bounded time, then cancels them (a cancelled sync is recorded as abandoned; its stored
pages stay and its cursor never moved past them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.store.locks import Locks
from app.store.schedule import JobSpec, PlanContext, Planner, claim, due_time, finish, utcnow
from app.telemetry import logs
from app.telemetry.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(slots=True)
class JobRuntime:
    """What a running scheduler tracks: the job tasks in flight and whether it drains."""

    running: set[asyncio.Task[None]] = field(default_factory=set)
    draining: bool = False


@dataclass(frozen=True, slots=True)
class JobContext:
    """What running a job needs: the plan's context, the locks and where to count."""

    plan: PlanContext
    locks: Locks | None = None
    metrics: Metrics | None = None
    runtime: JobRuntime = field(default_factory=JobRuntime)


def planned_jobs(ctx: PlanContext, planners: Sequence[Planner]) -> list[JobSpec]:
    return [spec for planner in planners for spec in planner(ctx)]


async def run_job(spec: JobSpec, ctx: JobContext | None = None) -> None:
    """Run one job once for its due time, under its lock, logging its outcome.

    A busy lock or a due time another process already ran means nothing to do; a failure
    is logged and counted, and the schedule goes on.
    """
    token = logs.job_var.set(spec.id)
    task = asyncio.current_task()
    try:
        if ctx is None:
            await _run_logged(spec, None)
            return
        if ctx.runtime.draining:
            _count(ctx, spec, "skipped_stopping")
            return
        if task is not None:
            ctx.runtime.running.add(task)
        if ctx.locks is None:
            await _run_logged(spec, ctx)
            return
        async with ctx.locks.hold(spec.lock or spec.id) as held:
            if not held:
                log.info("job %s skipped: %s is held elsewhere", spec.id, spec.lock or spec.id)
                _count(ctx, spec, "skipped_busy")
                return
            due = None
            if spec.once_per_due_time:
                settings = ctx.plan.settings.scheduler
                lookback = spec.misfire_grace or timedelta(seconds=settings.misfire_grace_seconds)
                due = due_time(spec.trigger, utcnow(), lookback + timedelta(minutes=1))
                if not await claim(ctx.plan.sessionmaker, spec.id, due):
                    log.info("job %s due %s already ran", spec.id, due.isoformat())
                    _count(ctx, spec, "skipped_done")
                    return
            if await _run_logged(spec, ctx) and due is not None:
                await finish(ctx.plan.sessionmaker, spec.id, due)
    finally:
        if ctx is not None and task is not None:
            ctx.runtime.running.discard(task)
        logs.job_var.reset(token)


async def _run_logged(spec: JobSpec, ctx: JobContext | None) -> bool:
    started = time.perf_counter()
    try:
        await spec.run()
    except asyncio.CancelledError:
        # Only a shutdown that ran out of time cancels a job: say so, and end quietly.
        log.warning(
            "job %s stopped by shutdown after %.1fs", spec.id, time.perf_counter() - started
        )
        if ctx is not None:
            _count(ctx, spec, "stopped")
        return False
    except Exception:
        log.exception("job %s failed after %.1fs", spec.id, time.perf_counter() - started)
        if ctx is not None:
            _count(ctx, spec, "failed")
        return False
    log.info("job %s finished in %.1fs", spec.id, time.perf_counter() - started)
    if ctx is not None:
        _count(ctx, spec, "ran")
    return True


def _count(ctx: JobContext, spec: JobSpec, outcome: str) -> None:
    if ctx.metrics is not None:
        ctx.metrics.jobs.labels(spec.id.partition(":")[0], outcome).inc()


def build_scheduler(ctx: JobContext, specs: Sequence[JobSpec]) -> AsyncIOScheduler:
    """An unstarted APScheduler holding ``specs``."""
    default_grace = ctx.plan.settings.scheduler.misfire_grace_seconds
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": default_grace,
        },
    )
    for spec in specs:
        scheduler.add_job(
            run_job,
            trigger=spec.trigger,
            args=[spec, ctx],
            id=spec.id,
            name=spec.name,
            replace_existing=True,
            misfire_grace_time=int(spec.misfire_grace.total_seconds())
            if spec.misfire_grace
            else default_grace,
        )
    return scheduler


async def drain(scheduler: AsyncIOScheduler, ctx: JobContext, *, grace: float) -> None:
    """Stop taking work, give running jobs ``grace`` seconds, then cancel the rest."""
    ctx.runtime.draining = True
    if scheduler.running:
        scheduler.pause()
    # Jobs the scheduler submitted a moment ago take their first step now, see that the
    # process is draining and return.
    for _ in range(2):
        await asyncio.sleep(0)
    running = set(ctx.runtime.running)
    if running:
        log.info("waiting up to %.0fs for %d running job(s)", grace, len(running))
        _, pending = await asyncio.wait(running, timeout=max(0.0, grace))
        if pending:
            log.warning("stopping %d job(s) still running", len(pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    if scheduler.running:
        scheduler.shutdown(wait=False)


class Scheduler:
    """The process's scheduler: the planned jobs, started, and drained on stop."""

    def __init__(self, ctx: JobContext, planners: Sequence[Planner]) -> None:
        self.context = ctx
        self.specs = planned_jobs(ctx.plan, planners)
        self.apscheduler = build_scheduler(ctx, self.specs)

    def start(self) -> None:
        self.apscheduler.start()

    @property
    def running(self) -> bool:
        return bool(self.apscheduler.running)

    def request_stop(self) -> None:
        """Take no new job from now on (running ones finish in ``aclose``)."""
        self.context.runtime.draining = True

    def job(self, job_id: str) -> JobSpec | None:
        return next((s for s in self.specs if s.id == job_id), None)

    async def run_now(self, job_id: str) -> bool:
        """Run one planned job at once under its lock; False when its lock is held."""
        spec = self.job(job_id)
        if spec is None:
            raise KeyError(job_id)
        if self.context.locks is None:
            await spec.run()
            return True
        async with self.context.locks.hold(spec.lock or spec.id) as held:
            if not held:
                return False
            await spec.run()
        return True

    async def aclose(self, *, grace: float = 0.0) -> None:
        await drain(self.apscheduler, self.context, grace=grace)
