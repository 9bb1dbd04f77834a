"""The scheduler: APScheduler 3 jobs for the service's periodic work, run once across
every process on the database.

Each kind of work contributes ``JobSpec``\\ s from a planner (``PLANNERS``): a stable id
(``sync:acme``, ``report:checkout``), a trigger, the lock it runs under and a thin
coroutine that calls a plain async function tests call directly. The work planned:

- ``sync:<source>`` at the source's ``sync_every``, aligned to the Unix epoch so that
  every process computes the same due times;
- ``census:<source>``, the deletion census, at ``scheduler.census_cron`` (02:30 UTC);
- ``full-listing:<source>``, for Asana, a full sync at the source's ``full_listing_every``;
- ``snapshot:<program>`` just after midnight in the program's zone: a program gets its
  day's snapshot even on a day when no sync changed anything;
- ``report:<program>`` weekly reports, the delivery retries and the start-up catch-up;
- ``webhooks:refresh``: Jira dynamic webhooks renewed twice a day before they expire.

**Exactly once.** Every process may run a scheduler (each ``serve`` by default, and
``throughline worker``). A job fires in all of them at the same due time; each tries the
job's cross-process lock (``app.locks``: a PostgreSQL advisory lock or, on SQLite, a
file lock) and skips when it is busy. The winner then claims the due time in ``job_run``
and skips when another process already finished that due time (its scheduler fired a
little earlier). A claim left unfinished by a process that died is taken over by the
next process to fire; a sync so interrupted resumes from its cursor.

**Defaults, chosen deliberately.** ``coalesce=True``: runs that piled up while a process
was busy or asleep are one run (a sync reads everything since its cursor anyway);
``max_instances=1``: a job never overlaps itself in a process (the lock covers other
processes); ``misfire_grace_time``: a sync late by more than its own interval is skipped
(the next one is as good), reports allow ``scheduler.misfire_grace_seconds`` and catch up
on start, the census and snapshots allow an hour.

**Shutdown.** ``drain`` stops the scheduler taking work, lets running jobs finish for a
bounded time, then cancels them (a cancelled sync is recorded as abandoned; its stored
pages stay and its cursor never moved past them).

``python -m app.scheduler --now JOB_ID`` runs one job at once and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
import time
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import logs
from app.config import AsanaSourceConfig, ConfigError, ThroughlineConfig, load_config
from app.cron import crontab_trigger
from app.db import session_scope
from app.locks import Locks, source_key
from app.models import JobRun
from app.reports import delivery, runs
from app.settings import Settings

if TYPE_CHECKING:
    from app.metrics import Metrics
    from app.state import AppState

log = logging.getLogger(__name__)

DELIVERY_RETRY_EVERY = timedelta(minutes=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Interval triggers start here, so every process computes the same due times."""
NIGHTLY_GRACE = timedelta(hours=1)


@dataclass(slots=True)
class JobRuntime:
    """What a running scheduler tracks: the job tasks in flight and whether it drains."""

    running: set[asyncio.Task[None]] = field(default_factory=set)
    draining: bool = False


@dataclass(frozen=True, slots=True)
class JobContext:
    """What jobs need, built once by the process that runs the scheduler."""

    sessionmaker: async_sessionmaker[AsyncSession]
    config: ThroughlineConfig
    settings: Settings
    environ: Mapping[str, str]
    state: AppState | None = None
    """The service's state: syncs need its pooled clients, metrics and locks. A context
    without it (tests of the report jobs) plans no syncs or censuses."""
    locks: Locks | None = None
    runtime: JobRuntime = field(default_factory=JobRuntime)

    @classmethod
    def from_state(cls, state: AppState, environ: Mapping[str, str]) -> JobContext:
        from app import jobs

        return cls(
            state.sessionmaker,
            state.config,
            state.settings,
            environ,
            state=state,
            locks=jobs.locks_of(state),
        )

    @property
    def metrics(self) -> Metrics | None:
        return self.state.metrics if self.state is not None else None


@dataclass(frozen=True, slots=True)
class JobSpec:
    id: str
    name: str
    trigger: BaseTrigger
    run: Callable[[], Awaitable[object]]
    lock: str | None = None
    """The cross-process lock it runs under (default: its id). A source's sync and census
    share ``source:<name>`` with manual syncs, so none of them overlap."""
    once_per_due_time: bool = True
    """Claim each due time in ``job_run`` (off for the start-up catch-up, which every
    process computes from its own start and which is idempotent)."""
    misfire_grace: timedelta | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def sync_jobs(ctx: JobContext) -> list[JobSpec]:
    """A sync per source at its ``sync_every``, under the source's lock."""
    from app import jobs

    state = ctx.state
    if state is None:
        return []

    def sync(name: str) -> Callable[[], Awaitable[object]]:
        return lambda: jobs.sync_locked(state, name)

    return [
        JobSpec(
            id=f"sync:{s.name}",
            name=f"sync {s.name} every {s.sync_every}",
            trigger=IntervalTrigger(
                seconds=s.sync_every.total_seconds(), start_date=EPOCH, timezone=UTC
            ),
            run=sync(s.name),
            lock=source_key(s.name),
            misfire_grace=min(
                s.sync_every, timedelta(seconds=ctx.settings.scheduler.misfire_grace_seconds)
            ),
        )
        for s in ctx.config.sources
    ]


def census_jobs(ctx: JobContext) -> list[JobSpec]:
    """The deletion census of every source at ``scheduler.census_cron`` (UTC)."""
    from app import jobs

    state = ctx.state
    if state is None:
        return []
    cron = ctx.settings.scheduler.census_cron

    def census(name: str) -> Callable[[], Awaitable[object]]:
        return lambda: jobs.census_locked(state, name)

    return [
        JobSpec(
            id=f"census:{s.name}",
            name=f"deletion census of {s.name} ({cron} UTC)",
            trigger=crontab_trigger(cron, zoneinfo.ZoneInfo("UTC")),
            run=census(s.name),
            lock=source_key(s.name),
            misfire_grace=NIGHTLY_GRACE,
        )
        for s in ctx.config.sources
    ]


def full_listing_jobs(ctx: JobContext) -> list[JobSpec]:
    """A full sync of each Asana source at its ``full_listing_every``: what an at-most-once
    event missed (a change, a subtask's edit) is read again, and what is gone re-checked."""
    from app import jobs

    state = ctx.state
    if state is None:
        return []

    def listing(name: str) -> Callable[[], Awaitable[object]]:
        return lambda: jobs.sync_locked(state, name, full=True)

    return [
        JobSpec(
            id=f"full-listing:{s.name}",
            name=f"full listing of {s.name} every {s.full_listing_every}",
            trigger=IntervalTrigger(
                seconds=s.full_listing_every.total_seconds(), start_date=EPOCH, timezone=UTC
            ),
            run=listing(s.name),
            lock=source_key(s.name),
            misfire_grace=NIGHTLY_GRACE,
        )
        for s in ctx.config.sources
        if isinstance(s, AsanaSourceConfig)
    ]


def snapshot_jobs(ctx: JobContext) -> list[JobSpec]:
    """Each program's roll-up and snapshot just after midnight in its zone.

    A recompute writes the day's snapshot; syncs recompute only what changed, so without
    this a quiet day would have none and the burnup and "changes since" would skip it.
    """
    from app import recompute

    def snapshot(key: str) -> Callable[[], Awaitable[object]]:
        read = ctx.state.read_sessionmaker if ctx.state is not None else None
        return lambda: recompute.recompute(
            ctx.sessionmaker, ctx.config, now=_now(), programs={key}, read_sessionmaker=read
        )

    return [
        JobSpec(
            id=f"snapshot:{p.key}",
            name=f"daily snapshot of {p.key} (00:05, {p.timezone})",
            trigger=crontab_trigger("5 0 * * *", zoneinfo.ZoneInfo(p.timezone)),
            run=snapshot(p.key),
            misfire_grace=NIGHTLY_GRACE,
        )
        for p in ctx.config.programs
    ]


def report_jobs(ctx: JobContext) -> list[JobSpec]:
    """A job per program at its ``report.cron`` in its time zone; the delivery retries;
    and, once at start, the catch-up of reports missed while the server was down."""
    public_url = ctx.settings.server.public_url

    def weekly(key: str) -> Callable[[], Awaitable[object]]:
        return lambda: runs.weekly_report(
            ctx.sessionmaker,
            ctx.config,
            key,
            now=_now(),
            environ=ctx.environ,
            public_url=public_url,
        )

    specs = [
        JobSpec(
            id=f"report:{p.key}",
            name=f"weekly report of {p.key} ({p.report.cron}, {p.timezone})",
            trigger=crontab_trigger(p.report.cron, zoneinfo.ZoneInfo(p.timezone)),
            run=weekly(p.key),
        )
        for p in ctx.config.programs
    ]
    specs.append(
        JobSpec(
            id="reports:deliveries",
            name="retry report deliveries that failed",
            trigger=IntervalTrigger(seconds=DELIVERY_RETRY_EVERY.total_seconds()),
            run=lambda: delivery.retry_due(
                ctx.sessionmaker,
                ctx.config,
                now=_now(),
                environ=ctx.environ,
                public_url=public_url,
            ),
        )
    )
    specs.append(
        JobSpec(
            id="reports:catch-up",
            name="write the reports missed while the scheduler was down",
            trigger=DateTrigger(),
            once_per_due_time=False,
            run=lambda: runs.catch_up(
                ctx.sessionmaker,
                ctx.config,
                now=_now(),
                environ=ctx.environ,
                public_url=public_url,
            ),
        )
    )
    return specs


WEBHOOK_REFRESH_EVERY = timedelta(hours=12)


def webhook_jobs(ctx: JobContext) -> list[JobSpec]:
    """Refresh Jira dynamic webhooks well before their 30-day expiry (twice a day, so a
    missed run or two changes nothing)."""
    from app.webhooks import register

    # Only sources that opted in to unsigned hints ever get dynamic (expiring) webhooks.
    if not any(
        s.kind == "jira" and s.webhook is not None and s.webhook.allow_unsigned
        for s in ctx.config.sources
    ):
        return []
    return [
        JobSpec(
            id="webhooks:refresh",
            name="refresh Jira dynamic webhooks before they expire",
            trigger=IntervalTrigger(
                seconds=WEBHOOK_REFRESH_EVERY.total_seconds(), start_date=EPOCH, timezone=UTC
            ),
            run=lambda: register.refresh_jira_webhooks(
                ctx.sessionmaker, ctx.config, now=_now(), environ=ctx.environ
            ),
        )
    ]


PLANNERS: Sequence[Callable[[JobContext], list[JobSpec]]] = (
    sync_jobs,
    census_jobs,
    full_listing_jobs,
    snapshot_jobs,
    report_jobs,
    webhook_jobs,
)
"""Every kind of scheduled work; a new kind adds a planner."""


def planned_jobs(ctx: JobContext) -> list[JobSpec]:
    return [spec for planner in PLANNERS for spec in planner(ctx)]


def due_time(trigger: BaseTrigger, now: datetime, lookback: timedelta) -> datetime:
    """The latest time at or before ``now`` the trigger fired (looking back ``lookback``).

    APScheduler does not hand a job its scheduled time; every process computes the same
    one from the same trigger, which is what the claim in ``job_run`` compares. A job run
    later than ``lookback`` (or a one-off) is due at ``now``, to the second.
    """
    last = None
    fire = trigger.get_next_fire_time(None, now - lookback)
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return (last or now.replace(microsecond=0)).astimezone(UTC)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: str, due_at: datetime
) -> bool:
    """Claim ``job_id``'s run due at ``due_at``; False when it is done or superseded.

    Called under the job's lock, so no other process reads or writes the row meanwhile.
    """
    async with session_scope(sessionmaker) as session:
        row = await session.get(JobRun, job_id)
        if row is not None:
            if row.due_at > due_at or (row.due_at == due_at and row.finished_at is not None):
                return False
            if row.due_at == due_at:
                log.warning(
                    "job %s due %s was left unfinished by %s; taking it over",
                    job_id,
                    due_at.isoformat(),
                    row.owner,
                )
        else:
            row = JobRun(job_id=job_id)
            session.add(row)
        row.due_at, row.started_at, row.finished_at = due_at, _now(), None
        row.owner = _owner()
    return True


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: str, due_at: datetime
) -> None:
    async with session_scope(sessionmaker) as session:
        row = await session.get(JobRun, job_id)
        if row is not None and row.due_at == due_at:
            row.finished_at = _now()


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
        locks = ctx.locks
        if locks is None:
            await _run_logged(spec, ctx)
            return
        async with locks.hold(spec.lock or spec.id) as held:
            if not held:
                log.info("job %s skipped: %s is held elsewhere", spec.id, spec.lock or spec.id)
                _count(ctx, spec, "skipped_busy")
                return
            due = None
            if spec.once_per_due_time:
                lookback = spec.misfire_grace or timedelta(
                    seconds=ctx.settings.scheduler.misfire_grace_seconds
                )
                due = due_time(spec.trigger, _now(), lookback + timedelta(minutes=1))
                if not await claim(ctx.sessionmaker, spec.id, due):
                    log.info("job %s due %s already ran", spec.id, due.isoformat())
                    _count(ctx, spec, "skipped_done")
                    return
            if await _run_logged(spec, ctx) and due is not None:
                await _finish(ctx.sessionmaker, spec.id, due)
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


def build_scheduler(ctx: JobContext) -> AsyncIOScheduler:
    """An unstarted scheduler holding every planned job."""
    default_grace = ctx.settings.scheduler.misfire_grace_seconds
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": default_grace,
        },
    )
    for spec in planned_jobs(ctx):
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


async def _serve(ctx: JobContext, now_job: str | None) -> int:
    if now_job is not None:
        spec = next((s for s in planned_jobs(ctx) if s.id == now_job), None)
        if spec is None:
            known = ", ".join(s.id for s in planned_jobs(ctx))
            print(f"no job {now_job!r}; jobs: {known}", file=sys.stderr)  # noqa: T201
            return 2
        if ctx.locks is None:
            await spec.run()
            return 0
        async with ctx.locks.hold(spec.lock or spec.id) as held:
            if not held:
                print(f"{spec.id} is running in another process", file=sys.stderr)  # noqa: T201
                return 1
            await spec.run()
        return 0
    scheduler = build_scheduler(ctx)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    scheduler.start()
    log.info("scheduler started with %d job(s)", len(scheduler.get_jobs()))
    await stop.wait()
    await drain(scheduler, ctx, grace=ctx.settings.shutdown_seconds)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m app.scheduler [--now JOB_ID]``: the scheduler as its own process."""
    from app.logs import configure_logging

    parser = argparse.ArgumentParser(prog="python -m app.scheduler", description=main.__doc__)
    parser.add_argument("--now", metavar="JOB_ID", help="run this job once, now, and exit")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log)
    try:
        config = load_config(settings.config, environ=os.environ)
    except ConfigError as exc:
        print(exc, file=sys.stderr)  # noqa: T201
        sys.exit(1)

    async def run() -> int:
        from app.main import service_state

        async with service_state(settings, config) as state:
            return await _serve(JobContext.from_state(state, os.environ), args.now)

    sys.exit(asyncio.run(run()))


if __name__ == "__main__":
    main()
