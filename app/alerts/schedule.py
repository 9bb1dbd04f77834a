"""The alerts' scheduled work: sending what is due every few seconds (``alerts:send``)."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.interval import IntervalTrigger

from app.alerts import dispatch
from app.store.schedule import JobSpec, PlanContext, utcnow

SEND_EVERY = timedelta(seconds=20)
"""How often due alerts go out: an alert raised by a recomputation is sent within this
(plus the send), well inside a minute."""


def plan(ctx: PlanContext) -> list[JobSpec]:
    return [
        JobSpec(
            id="alerts:send",
            name="check the sources and send the alerts that are due",
            trigger=IntervalTrigger(seconds=SEND_EVERY.total_seconds()),
            run=lambda: dispatch.run(
                ctx.sessionmaker,
                ctx.config,
                now=utcnow(),
                environ=ctx.environ,
                public_url=ctx.settings.server.public_url,
            ),
            misfire_grace=SEND_EVERY,
        )
    ]
