"""Six months of history, stored the way a running service would have stored it.

The fakes' clock goes back to the start of the history and the organisation's work is
played forward. At the end of each snapshot day the real connectors sync both fakes over
HTTP and the roll-ups are recomputed as of that evening, which writes that day's
snapshots and risks. Then the weekly reports of the past weeks are written from those
snapshots, as ``throughline report --all --week`` writes them.

Snapshot days are every Sunday of the older history and every day of the last four weeks:
the burnup and the trends have their shape, and the demo starts in well under a minute.
"""

from __future__ import annotations

import functools
import logging
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import sync
from app.config import ThroughlineConfig
from app.programs import recompute
from app.reports import runs
from app.reports.weeks import Week, latest_ready
from app.store import catalog
from app.store.engine import session_scope
from app.sync import trackers
from app.sync.crosslinks import ReferenceResolver
from connectors.fake.org import HISTORY_DAYS, Flow
from vocabulary import RunStatus

log = logging.getLogger(__name__)

DAILY_DAYS = 28


@dataclass(frozen=True, slots=True)
class Backfill:
    days: int
    syncs: int
    reports: int


def snapshot_days(start: date) -> list[int]:
    """History days that end with a sync and a snapshot: Sundays, then every day."""
    daily_from = HISTORY_DAYS - DAILY_DAYS
    return [
        d
        for d in range(HISTORY_DAYS)
        if d >= daily_from or (start + timedelta(days=d)).weekday() == 6
    ]


async def _direct(change: Callable[[], None]) -> None:
    change()


async def backfill(
    flow: Flow,
    config: ThroughlineConfig,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    environ: Mapping[str, str],
    progress: Callable[[str], None] = lambda _: None,
    in_fakes: Callable[[Callable[[], None]], Awaitable[None]] = _direct,
) -> Backfill:
    """Play the history into the fakes and store it; the clock ends at the wall clock's.

    ``in_fakes`` runs a change to the fakes where they may be changed (the thread that
    serves them); by default, here.
    """
    clock = flow.org.clock
    async with session_scope(sessionmaker) as session:
        rows = await catalog.apply_config(session, config, now=flow.moment(0))
    clients = {s.name: trackers.build_http_client(s, environ=environ) for s in config.sources}
    references = ReferenceResolver.from_config(config)
    days = snapshot_days(flow.start.date())
    syncs = 0
    try:
        for n, day in enumerate(days):
            await in_fakes(functools.partial(_play, flow, day))
            for source in config.sources:
                outcome = await sync.run_sync(
                    sessionmaker,
                    trackers.build_connector(source, clients[source.name]),
                    source_id=rows[source.name].id,
                    overlap=source.overlap,
                    max_concurrent_scopes=trackers.kind_of(source).scope_concurrency(source),
                    now=clock.now,
                    references=references,
                )
                if outcome.status == RunStatus.FAILED:
                    raise RuntimeError(f"{source.name}: {outcome.errors}")
                syncs += 1
            await recompute.recompute(sessionmaker, config, now=clock.now())
            if n % 10 == 0:
                progress(f"history: {flow.moment(day).date()} ({n + 1}/{len(days)} days)")
    finally:
        for client in clients.values():
            await client.aclose()
    await in_fakes(lambda: setattr(clock, "offset", 0.0))
    log.info("history stored: %d days, %d syncs", len(days), syncs)
    reports = await write_reports(flow, config, sessionmaker, environ=environ)
    return Backfill(len(days), syncs, reports)


def _play(flow: Flow, day: int) -> None:
    flow.play(day)
    flow.org.set_at(flow.moment(day))


async def write_reports(
    flow: Flow,
    config: ThroughlineConfig,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    environ: Mapping[str, str],
) -> int:
    """Each program's report of every past week its snapshots cover."""
    now = datetime.now(UTC)
    written = 0
    for program in config.programs:
        zone = zoneinfo.ZoneInfo(program.timezone)
        week = latest_ready(now.astimezone(zone).date(), program.report.cron, zone)
        first = Week.of(flow.start.date() + timedelta(days=7))
        weeks = []
        while week.monday >= first.monday:
            weeks.append(week)
            week = week.previous()
        for week in reversed(weeks):
            outcome = await runs.weekly_report(
                sessionmaker, config, program.key, now=now, environ=environ, week=week
            )
            written += outcome.generated
    return written
