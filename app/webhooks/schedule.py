"""The webhooks' scheduled work: expiring webhooks refreshed well before they expire."""

from __future__ import annotations

from datetime import UTC, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from app.store.schedule import EPOCH, JobSpec, PlanContext, utcnow
from app.sync import trackers
from app.webhooks import register

REFRESH_EVERY = timedelta(hours=12)


def plan(ctx: PlanContext, *, pool: trackers.TrackerPool | None = None) -> list[JobSpec]:
    """``webhooks:refresh`` twice a day (Jira dynamic webhooks last 30 days, so a missed
    run or two changes nothing), when any source has webhooks that expire."""
    if not any(trackers.kind_of(s).expiring_webhooks(s) for s in ctx.config.sources):
        return []
    return [
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
    ]
