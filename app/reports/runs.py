"""The scheduled work of weekly reports, as plain functions the scheduler, the CLI and
tests call: the week's report of one program, catching up missed ones, retrying.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ProgramConfig, ThroughlineConfig
from app.config.cron import crontab_trigger
from app.reports import delivery, service
from app.reports.compose import ReportUnavailable
from app.reports.weeks import Week
from app.store.engine import session_scope
from app.store.tables import ProgramRow, ReportRow

log = logging.getLogger(__name__)

LOOK_BACK = timedelta(days=8)
"""How far back a missed run is caught up: any weekly schedule fired within it."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    program: str
    week: str
    generated: bool
    deliveries: Mapping[str, str]
    problem: str | None = None


async def weekly_report(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    key: str,
    *,
    now: datetime,
    environ: Mapping[str, str],
    public_url: str | None = None,
    week: Week | None = None,
) -> RunOutcome:
    """Write a program's report for the week of ``now`` (or ``week``) and deliver it,
    unless the program reviews reports first."""
    program = config.program(key)
    if program is None:
        raise KeyError(f"no program named {key!r} in the configuration")
    week = week or Week.of(now.astimezone(zoneinfo.ZoneInfo(program.timezone)).date())
    try:
        async with session_scope(sessionmaker) as session:
            _, waiting = await service.generate(
                session, config, key, week, now=now, public_url=public_url, deliver=True
            )
    except ReportUnavailable as exc:
        log.warning("report %s %s not written: %s", key, week, exc)
        return RunOutcome(key, str(week), generated=False, deliveries={}, problem=str(exc))
    sent = {}
    if waiting:
        sent = await delivery.deliver(
            sessionmaker, config, key, week, now=now, public_url=public_url, environ=environ
        )
    log.info("report %s %s written%s", key, week, f"; delivered: {sent}" if sent else "")
    return RunOutcome(key, str(week), generated=True, deliveries=sent)


def last_run(program: ProgramConfig, now: datetime) -> datetime | None:
    """The latest time the program's report schedule fired at or before ``now`` (within
    ``LOOK_BACK``)."""
    zone = zoneinfo.ZoneInfo(program.timezone)
    trigger = crontab_trigger(program.report.cron, zone)
    fire = trigger.get_next_fire_time(None, now - LOOK_BACK)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return latest


async def catch_up(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    *,
    now: datetime,
    environ: Mapping[str, str],
    public_url: str | None = None,
) -> list[RunOutcome]:
    """Run every program's last scheduled report that did not happen (the server was
    down): its week has no report generated since the scheduled time."""
    async with session_scope(sessionmaker) as session:
        rows = await session.execute(
            select(ProgramRow.key, ReportRow.week, ReportRow.generated_at).join(
                ProgramRow, ProgramRow.id == ReportRow.program_id
            )
        )
        generated = {(k, w): at for k, w, at in rows}
    outcomes = []
    for program in config.programs:
        fired = last_run(program, now)
        if fired is None:
            continue
        week = Week.of(fired.date())
        at = generated.get((program.key, str(week)))
        if at is not None and at >= fired:
            continue
        log.info("catching up the report of %s for %s (scheduled %s)", program.key, week, fired)
        outcomes.append(
            await weekly_report(
                sessionmaker,
                config,
                program.key,
                now=now,
                environ=environ,
                public_url=public_url,
                week=week,
            )
        )
    return outcomes
