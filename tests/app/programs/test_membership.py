"""The items behind each figure are stored in full and follow the data from run to run."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.programs import membership
from app.programs.recompute import recompute
from app.store import catalog, records
from app.store.tables import ProgramItemRow
from connectors.base import Deletion, Page
from tests.app import rollup_data as data


async def _rows(session: AsyncSession) -> dict[tuple[str, str], int]:
    found = await session.execute(
        select(ProgramItemRow.facet, ProgramItemRow.name, func.count()).group_by(
            ProgramItemRow.facet, ProgramItemRow.name
        )
    )
    return {(facet, name): n for facet, name, n in found}


async def test_every_unit_and_flagged_item_is_stored_and_follows_deletions(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    config = data.config()
    async with sessionmaker() as session:
        await data.seed(session)
        await catalog.apply_config(session, config, now=data.NOW)
        await session.commit()
    await recompute(sessionmaker, config, now=data.NOW)
    async with sessionmaker() as session:
        assert await _rows(session) == {
            (membership.OUTCOME, "fast-pay"): 41,
            (membership.OUTCOME, "web"): 2,
            (membership.CHECK, "done_without_date"): 1,
        }
        source = await records.get_source(session, "jira")
        assert source is not None
        gone = Deletion("jira", "id-PAY-6", data.NOW + timedelta(hours=1))
        await records.save_page(session, source.id, Page("PAY", [], deletions=[gone]), now=data.NOW)
        await session.commit()
    await recompute(sessionmaker, config, now=data.NOW + timedelta(hours=1))
    async with sessionmaker() as session:
        assert (await _rows(session))[(membership.OUTCOME, "fast-pay")] == 40
        keys = set(await session.scalars(select(ProgramItemRow.key)))
        assert "PAY-6" not in keys
