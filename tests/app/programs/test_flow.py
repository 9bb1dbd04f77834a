"""The flow read from the store: the stored history gives the figures a hand count gives."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.programs import flow, lookup
from app.programs.recompute import recompute
from app.store import catalog
from app.store.engine import session_scope
from tests.app import rollup_data as data

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def seeded(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessionmaker) as session:
        await catalog.apply_config(session, data.config(), now=data.NOW)
        await data.seed(session)
    await recompute(sessionmaker, data.config(), now=data.NOW)


def local(days_ago: float) -> int:
    return (data.NOW - timedelta(days=days_ago)).astimezone(BERLIN).date().toordinal()


async def test_cycle_times_from_the_store_are_the_scripted_ones(
    sessionmaker: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    async with session_scope(sessionmaker) as session:
        program = await lookup.get_program(session, data.config(), "checkout")
        found = await flow.read_flow(session, program, outcome="fast-pay", weeks=12, now=data.NOW)
    # The 36 finished stories: done 1 + 2.3n days ago after three days in progress.
    expected = {
        f"PAY-{100 + n}": local(1 + n * 2.3) - local(4 + n * 2.3) + 1
        for n in range(36)
        if local(1 + n * 2.3) > data.TODAY.toordinal() - 84
    }
    assert {c.key: c.days for c in found.cycle_times} == expected
    assert sum(w.done for w in found.throughput_weekly) == len(expected)
    # PAY-2 and PAY-3 are in progress, started 3 and 2 days ago (day 1 counts).
    assert {(a.key, a.age_days) for a in found.aging} == {("PAY-2", 4), ("PAY-3", 3)}
    last = found.cfd_daily[-1]
    assert (last.in_progress, last.done) == (2, 36)
    assert found.wip_daily[-1].wip == 2
