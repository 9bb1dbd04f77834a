"""A program with two weeks of snapshots: what the report tests write reports from.

``rollup_data`` seeds the checkout program; it is recomputed on Friday 6 and Friday 13
November 2026 (Berlin), with PAY-5 finished and PAY-3 (which blocks PAY-4) re-dated
past PAY-4's start in between, so the report of 2026-W47
(covering up to Sunday 15 November) compares the 13th with the 6th.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig, parse_config
from app.programs.recompute import recompute
from app.reports.weeks import Week
from app.store import catalog, records
from app.store.engine import session_scope
from app.store.tables import SyncRunRow
from connectors.base import LinkRef, Page
from tests.app import rollup_data as data

FIRST = datetime(2026, 11, 6, 9, 0, tzinfo=UTC)
SECOND = datetime(2026, 11, 13, 9, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
"""Monday 08:00 in Berlin: when the report of 2026-W47 is scheduled."""
WEEK = Week(2026, 47)


def config_text(report: str = "") -> str:
    """The roll-up test configuration, with ``report`` settings for the checkout program."""
    if not report:
        return data.CONFIG
    return data.CONFIG.replace(
        "    timezone: Europe/Berlin\n", f"    timezone: Europe/Berlin\n    report: {report}\n"
    )


def config(report: str = "") -> ThroughlineConfig:
    return parse_config(config_text(report))


async def build(
    sessionmaker: async_sessionmaker[AsyncSession], cfg: ThroughlineConfig | None = None
) -> ThroughlineConfig:
    cfg = cfg or config()
    async with session_scope(sessionmaker) as session:
        await catalog.apply_config(session, cfg, now=FIRST)
        source_id = await data.seed(session)
        session.add(_run(source_id, FIRST - timedelta(minutes=5)))
    await recompute(sessionmaker, cfg, now=FIRST)
    async with session_scope(sessionmaker) as session:
        await _finish_pay_5(session)
        session.add(_run(source_id, SECOND - timedelta(minutes=5)))
    await recompute(sessionmaker, cfg, now=SECOND)
    return cfg


HOSTILE = "<script>alert(1)</script> [pay](javascript:alert(2)) **now** & <b>"
"""PAY-5's title once it is finished: tracker text that must stay text everywhere."""


async def _finish_pay_5(session: AsyncSession) -> None:
    source = await records.get_source(session, "jira")
    assert source is not None
    # Later than the seeded copy, so newer-wins takes it.
    at = data.NOW + timedelta(hours=1)
    done = data.story(
        "PAY-5",
        started_days_ago=2,
        done_days_ago=0,
        updated_at=at,
        title=HOSTILE,
        url="javascript:alert(3)",
    )
    # PAY-3 now finishes long after PAY-4, which it blocks, must start: a late dependency.
    blocker = data.story(
        "PAY-3",
        started_days_ago=2,
        updated_at=at,
        due_on=date(2027, 3, 1),
        links=(LinkRef("jira", "PAY-3", "jira", "PAY-4"),),
    )
    blocked = data.story("PAY-4", updated_at=at, start_on=date(2026, 11, 20))
    await records.save_page(session, source.id, Page("PAY", [done, blocker, blocked]), now=at)


def _run(source_id: int, at: datetime) -> SyncRunRow:
    return SyncRunRow(
        source_id=source_id,
        mode="incremental",
        status="succeeded",
        started_at=at - timedelta(minutes=1),
        finished_at=at,
    )
