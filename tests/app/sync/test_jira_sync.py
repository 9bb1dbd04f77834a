"""Syncing a fake Jira into the store: exactness, convergence, kills, time zones, hostile text."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import sync
from app.store import records
from app.store.engine import session_scope
from app.store.tables import ItemRow
from connectors.base import Page
from connectors.fake.jira import FakeJira
from connectors.fake.jira.data import HOSTILE_TITLES, ONE_MB
from connectors.fake.server import serve_in_thread
from connectors.jira import JiraConnector
from connectors.jira import connector as jira_connector_module
from tests.builders import make_source
from tests.jira_fakes import (
    expected_items,
    expected_links,
    expected_transitions,
    jira_connector,
    make_fake,
    stored_items,
    stored_links,
    stored_transition_count,
)


@pytest.fixture
async def source_id(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(sessionmaker) as session:
        return (await make_source(session)).id


@pytest.fixture
def served() -> Iterator[tuple[FakeJira, str]]:
    fake = make_fake(250)
    with serve_in_thread(fake) as base:
        yield fake, base


@pytest.fixture
async def connector(served: tuple[FakeJira, str]) -> AsyncIterator[JiraConnector]:
    async with jira_connector(served[1]) as connector:
        yield connector


async def live_links(sessionmaker: async_sessionmaker[AsyncSession]) -> set[tuple[str, str]]:
    live = {v["key"] for v in (await stored_items(sessionmaker)).values() if not v["deleted"]}
    return {(a, b) for a, b in await stored_links(sessionmaker) if a in live and b in live}


async def assert_store_matches(
    sessionmaker: async_sessionmaker[AsyncSession], fake: FakeJira
) -> None:
    stored = {k: v for k, v in (await stored_items(sessionmaker)).items() if not v["deleted"]}
    assert stored == expected_items(fake.data)
    assert await live_links(sessionmaker) == expected_links(fake.data)


async def test_full_sync_stores_exactly_the_sites_contents(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
    connector: JiraConnector,
) -> None:
    fake, _ = served
    outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    assert outcome.status == "succeeded", outcome.errors
    assert not outcome.warnings
    await assert_store_matches(sessionmaker, fake)
    assert await stored_transition_count(sessionmaker) == expected_transitions(fake.data)


async def test_edits_additions_deletions_and_moves_converge(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
    connector: JiraConnector,
) -> None:
    fake, _ = served
    await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    fake.edit("PAY-2", summary="Renamed after planning", status="Done", points=21.0)
    fake.edit("WEB-3", due=date(2027, 1, 15), labels=("checkout-v2",))
    added = fake.add("INT", "Story", "New partner onboarding")
    fake.link(added.key, "PAY-2")
    fake.delete("MOB-4")
    moved = fake.move("OPS-5", "DATA")
    outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id)
    census = await sync.run_census(sessionmaker, connector, source_id=source_id)
    assert (outcome.status, census.status, census.counts.deleted) == ("succeeded", "succeeded", 1)
    await assert_store_matches(sessionmaker, fake)
    stored = await stored_items(sessionmaker)
    assert stored[str(moved.id)]["key"].startswith("DATA-")
    assert outcome.items_seen < len(fake.data) / 2, "an incremental sync reads only changes"


async def test_changes_made_while_a_sync_runs_are_caught_by_the_next_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
    connector: JiraConnector,
) -> None:
    fake, _ = served

    def meddle(site: FakeJira) -> None:
        site.edit("PAY-1", summary="Edited mid-sync")
        site.add("PAY", "Bug", "Filed mid-sync")
        site.delete("WEB-6")

    fake.after_requests(8, meddle)
    await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    await sync.run_sync(sessionmaker, connector, source_id=source_id)
    await sync.run_census(sessionmaker, connector, source_id=source_id)
    await assert_store_matches(sessionmaker, fake)


class _Killed(Exception):
    pass


class KillAfter:
    """Wraps a connector and dies after it has handed out a number of pages."""

    def __init__(self, inner: JiraConnector, pages: int) -> None:
        self.inner, self.pages = inner, pages
        self.kind, self.stats = inner.kind, inner.stats

    async def scopes(self) -> list[str]:
        return list(await self.inner.scopes())

    async def fetch(
        self, scope: str, since: datetime | None, **options: str | None
    ) -> AsyncIterator[Page]:
        async for page in self.inner.fetch(scope, since, **options):
            if self.pages <= 0:
                raise _Killed
            self.pages -= 1
            yield page

    async def census(self, scope: str) -> frozenset[str]:
        return await self.inner.census(scope)

    async def fetch_items(self, keys: list[str]) -> Page:
        return await self.inner.fetch_items(keys)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_sync_killed_at_a_random_point_reruns_without_loss_or_duplicates(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
    connector: JiraConnector,
    seed: int,
) -> None:
    fake, _ = served
    rng = random.Random(seed)
    await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    for key in rng.sample(sorted(i.key for i in fake.data.issues.values()), 40):
        fake.edit(key, summary=f"Edited {key}")
    with pytest.raises(BaseExceptionGroup):
        await sync.run_sync(
            sessionmaker, KillAfter(connector, rng.randint(0, 3)), source_id=source_id
        )
    await sync.run_sync(sessionmaker, connector, source_id=source_id)
    await assert_store_matches(sessionmaker, fake)
    async with session_scope(sessionmaker) as session:
        keys = (await session.scalars(select(ItemRow.key))).all()
    assert len(keys) == len(set(keys)) == len(fake.data)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
async def test_a_site_whose_user_is_far_from_utc_loses_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int, zone: str
) -> None:
    """Edits land just after the cursor; a UTC wall-clock JQL bound would skip them on a
    +14:00 site or re-read a day on a -11:00 one."""
    fake = make_fake(120, time_zone=zone)
    clock = [datetime.now(UTC) - timedelta(hours=2)]
    fake.data.clock = lambda: clock[0]
    with serve_in_thread(fake) as base:
        async with jira_connector(base) as connector:
            await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
            fake.edit("PAY-2", summary="Moves the cursor to now")
            await sync.run_sync(sessionmaker, connector, source_id=source_id)
            for n, key in enumerate(("PAY-3", "WEB-4", "DATA-2")):
                clock[0] += timedelta(minutes=7, seconds=n)
                fake.edit(key, summary=f"Late edit {n}")
            outcome = await sync.run_sync(
                sessionmaker, connector, source_id=source_id, overlap=timedelta(minutes=1)
            )
    assert outcome.status == "succeeded"
    await assert_store_matches(sessionmaker, fake)


async def test_hostile_titles_round_trip_unchanged(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
    connector: JiraConnector,
) -> None:
    fake, _ = served
    await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    async with session_scope(sessionmaker) as session:
        titles = set((await session.scalars(select(ItemRow.title))).all())
    assert set(HOSTILE_TITLES) <= titles
    huge = [i for i in fake.data.issues.values() if len(i.description or "") > ONE_MB]
    assert huge, "the fake carries a 1 MB description"


async def test_data_center_sync_stores_exactly_the_sites_contents(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    fake = make_fake(150, deployment="datacenter", dc_page_cap=40)
    with serve_in_thread(fake) as base:
        async with jira_connector(base, cloud=False) as connector:
            outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id)
    assert outcome.status == "succeeded", outcome.errors
    await assert_store_matches(sessionmaker, fake)
    assert await stored_transition_count(sessionmaker) == expected_transitions(fake.data)


async def test_a_full_sync_killed_mid_scope_continues_after_its_checkpoint(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweep of a large project (here: chunks of 40 ids) checkpoints the last id
    whose chunk is stored; a sync killed half-way reads only what lies beyond it."""
    monkeypatch.setattr(jira_connector_module, "HISTORY_BATCH", 40)
    fake = make_fake(600)
    project = "PAY"
    in_scope = sorted(i.key for i in fake.data.issues.values() if i.project.key == project)
    assert len(in_scope) > 120
    with serve_in_thread(fake) as base:
        async with jira_connector(base, projects=[project]) as connector:
            running: list[asyncio.Task[sync.SyncOutcome]] = []

            def kill_half_way(progress: sync.SyncProgress) -> None:
                if progress.items_written >= len(in_scope) // 2:
                    running[0].cancel()

            running.append(
                asyncio.create_task(
                    sync.run_sync(
                        sessionmaker,
                        connector,
                        source_id=source_id,
                        full=True,
                        progress=kill_half_way,
                    )
                )
            )
            with pytest.raises((asyncio.CancelledError, BaseExceptionGroup)):
                await running[0]
        async with session_scope(sessionmaker) as session:
            state = await records.get_sync_state(session, source_id, project)
            stored = len((await session.scalars(select(ItemRow.key))).all())
        assert state is not None
        assert state.checkpoint is not None
        assert state.cursor_at is None
        assert 0 < stored < len(in_scope)

        async with jira_connector(base, projects=[project]) as connector:
            outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    assert outcome.status == "succeeded"
    assert outcome.items_seen <= len(in_scope) - stored + 2 * 40  # chunks in flight, at most
    assert outcome.items_seen < len(in_scope)
    stored_now = await stored_items(sessionmaker)
    assert sorted(v["key"] for v in stored_now.values()) == in_scope
    async with session_scope(sessionmaker) as session:
        state = await records.get_sync_state(session, source_id, project)
    assert state is not None
    assert state.checkpoint is None
    assert state.cursor_at is not None
