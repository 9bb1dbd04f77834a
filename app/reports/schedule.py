"""The reports' scheduled work: each program's weekly report, the portfolio digest on its
own schedule, delivery retries, catch-up."""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from app.config.cron import crontab_trigger
from app.reports import delivery, portfolio, runs
from app.store.schedule import JobSpec, PlanContext, utcnow

DELIVERY_RETRY_EVERY = timedelta(minutes=5)


def plan(ctx: PlanContext) -> list[JobSpec]:
    """``report:<program>`` at its ``report.cron`` in its time zone; the delivery retries;
    and, once at start, the catch-up of reports missed while no scheduler ran."""
    public_url = ctx.settings.server.public_url

    def weekly(key: str) -> Callable[[], Awaitable[object]]:
        return lambda: runs.weekly_report(
            ctx.sessionmaker,
            ctx.config,
            key,
            now=utcnow(),
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
            run=lambda: _retry(ctx, public_url),
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
                now=utcnow(),
                environ=ctx.environ,
                public_url=public_url,
            ),
        )
    )
    digest = ctx.config.digest
    if digest is not None:
        specs.append(
            JobSpec(
                id="digest:portfolio",
                name=f"weekly portfolio digest ({digest.cron}, {digest.timezone})",
                trigger=crontab_trigger(digest.cron, zoneinfo.ZoneInfo(digest.timezone)),
                run=lambda: portfolio.weekly(
                    ctx.sessionmaker,
                    ctx.config,
                    now=utcnow(),
                    environ=ctx.environ,
                    public_url=public_url,
                ),
            )
        )
    return specs


async def _retry(ctx: PlanContext, public_url: str | None) -> int:
    """Deliver again the reports and portfolio digests whose channels are due."""
    now = utcnow()
    reports = await delivery.retry_due(
        ctx.sessionmaker, ctx.config, now=now, environ=ctx.environ, public_url=public_url
    )
    digests = await portfolio.retry_due(
        ctx.sessionmaker, ctx.config, now=now, environ=ctx.environ, public_url=public_url
    )
    return reports + digests
