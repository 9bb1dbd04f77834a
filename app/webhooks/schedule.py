"""The webhooks' scheduled work: expiring webhooks refreshed well before they expire, and
the inbox trimmed of what was settled long ago."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config.cron import crontab_trigger
from app.store.engine import session_scope
from app.store.schedule import EPOCH, NIGHTLY_GRACE, JobSpec, PlanContext, utcnow
from app.sync import trackers
from app.webhooks import inbox, register

log = logging.getLogger(__name__)

REFRESH_EVERY = timedelta(hours=12)
RETENTION_CRON = "45 3 * * *"
"""When the inbox is trimmed (UTC): nightly, away from the census at 02:30."""


def plan(ctx: PlanContext, *, pool: trackers.TrackerPool | None = None) -> list[JobSpec]:
    """``webhooks:retention`` nightly; ``webhooks:refresh`` twice a day (Jira dynamic
    webhooks last 30 days, so a missed run or two changes nothing), when any source has
    webhooks that expire."""
    days = ctx.settings.webhooks.retention_days
    keep = timedelta(days=days)
    specs = [
        JobSpec(
            id="webhooks:retention",
            name=f"trim applied and rejected webhook events after {days:g} days",
            trigger=crontab_trigger(RETENTION_CRON, UTC),
            run=lambda: trim_inbox(ctx.sessionmaker, keep=keep, now=utcnow()),
            misfire_grace=NIGHTLY_GRACE,
        )
    ]
    if any(trackers.kind_of(s).expiring_webhooks(s) for s in ctx.config.sources):
        specs.append(
            JobSpec(
                id="webhooks:refresh",
                name="refresh Jira dynamic webhooks before they expire",
                trigger=IntervalTrigger(
                    seconds=REFRESH_EVERY.total_seconds(), start_date=EPOCH, timezone=UTC
                ),
                run=lambda: register.refresh_jira_webhooks(
                    ctx.sessionmaker, ctx.config, now=utcnow(), environ=ctx.environ, pool=pool
                ),
            )
        )
    return specs


async def trim_inbox(
    sessionmaker: async_sessionmaker[AsyncSession], *, keep: timedelta, now: datetime
) -> int:
    """Delete applied and rejected events settled more than ``keep`` ago, a batch per
    transaction (so intake never waits long for the write lock); return how many."""
    trimmed = 0
    while True:
        async with session_scope(sessionmaker) as session:
            count = await inbox.trim_settled(session, before=now - keep)
        trimmed += count
        if count < inbox.TRIM_BATCH:
            break
    if trimmed:
        log.info("webhook inbox: %d settled event(s) older than %s trimmed", trimmed, keep)
    return trimmed
