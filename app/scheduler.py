"""The scheduler: APScheduler 3 jobs for the service's periodic work.

Each kind of work contributes ``JobSpec``\\ s from a planner (``PLANNERS``): a stable id
(``report:checkout``), a trigger, and a thin coroutine that calls a plain async function
tests call directly. ``build_scheduler`` adds them all with ``replace_existing`` and the
same defaults: runs that pile up while one is late are coalesced into one, a job never
overlaps itself, and a run missed by more than the grace time is skipped (weekly reports
have their own catch-up on start instead).

The scheduler runs in ``throughline serve`` when ``THROUGHLINE_SCHEDULER__ENABLED=true``,
or alone as ``python -m app.scheduler``; ``--now JOB_ID`` runs one job at once and exits.
It must be on in exactly one process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ConfigError, ThroughlineConfig, load_config
from app.cron import crontab_trigger
from app.reports import delivery, runs
from app.settings import Settings

log = logging.getLogger(__name__)

DELIVERY_RETRY_EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What jobs need, built once by the process that runs the scheduler."""

    sessionmaker: async_sessionmaker[AsyncSession]
    config: ThroughlineConfig
    settings: Settings
    environ: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class JobSpec:
    id: str
    name: str
    trigger: BaseTrigger
    run: Callable[[], Awaitable[object]]


def _now() -> datetime:
    return datetime.now(UTC)


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
            trigger=IntervalTrigger(seconds=WEBHOOK_REFRESH_EVERY.total_seconds()),
            run=lambda: register.refresh_jira_webhooks(
                ctx.sessionmaker, ctx.config, now=_now(), environ=ctx.environ
            ),
        )
    ]


PLANNERS: Sequence[Callable[[JobContext], list[JobSpec]]] = (report_jobs, webhook_jobs)
"""Every kind of scheduled work; a new kind (syncs, the deletion census) adds a planner."""


def planned_jobs(ctx: JobContext) -> list[JobSpec]:
    return [spec for planner in PLANNERS for spec in planner(ctx)]


async def run_job(spec: JobSpec) -> None:
    """Run one job, logging its outcome; a failure is logged and the schedule goes on."""
    started = time.perf_counter()
    try:
        await spec.run()
    except Exception:
        log.exception("job %s failed after %.1fs", spec.id, time.perf_counter() - started)
        return
    log.info("job %s finished in %.1fs", spec.id, time.perf_counter() - started)


def build_scheduler(ctx: JobContext) -> AsyncIOScheduler:
    """An unstarted scheduler holding every planned job."""
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": ctx.settings.scheduler.misfire_grace_seconds,
        },
    )
    for spec in planned_jobs(ctx):
        scheduler.add_job(
            run_job,
            trigger=spec.trigger,
            args=[spec],
            id=spec.id,
            name=spec.name,
            replace_existing=True,
        )
    return scheduler


async def _serve(ctx: JobContext, now_job: str | None) -> int:
    if now_job is not None:
        spec = next((s for s in planned_jobs(ctx) if s.id == now_job), None)
        if spec is None:
            known = ", ".join(s.id for s in planned_jobs(ctx))
            print(f"no job {now_job!r}; jobs: {known}", file=sys.stderr)  # noqa: T201
            return 2
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
    scheduler.shutdown(wait=False)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m app.scheduler [--now JOB_ID]``: the scheduler as its own process."""
    from app import catalog
    from app.db import make_engine, make_sessionmaker, session_scope
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
        engine = make_engine(settings.database_url)
        try:
            ctx = JobContext(make_sessionmaker(engine), config, settings, os.environ)
            async with session_scope(ctx.sessionmaker) as session:
                await catalog.apply_config(session, config, now=_now())
            return await _serve(ctx, args.now)
        finally:
            await engine.dispose()

    sys.exit(asyncio.run(run()))


if __name__ == "__main__":
    main()
