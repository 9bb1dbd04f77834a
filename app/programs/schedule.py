"""The programs' scheduled work: each program's roll-up and snapshot just after midnight."""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable

from app.config.cron import crontab_trigger
from app.programs import recompute
from app.store.schedule import NIGHTLY_GRACE, JobSpec, PlanContext, utcnow


def plan(ctx: PlanContext) -> list[JobSpec]:
    """``snapshot:<program>`` at 00:05 in the program's zone.

    A recompute writes the day's snapshot; syncs recompute only what changed, so without
    this a quiet day would have none and the burnup and "changes since" would skip it.
    """

    def snapshot(key: str) -> Callable[[], Awaitable[object]]:
        return lambda: recompute.recompute(
            ctx.sessionmaker,
            ctx.config,
            now=utcnow(),
            programs={key},
            read_sessionmaker=ctx.read_sessionmaker,
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
