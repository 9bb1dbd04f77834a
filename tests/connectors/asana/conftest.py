"""A fake Asana served on loopback, the real connector pointed at it, and the store behind.

``Harness`` reads like the stories the tests tell: sync, change the fake, sync again, and
compare what is stored with what the fake holds (computed from the fake's own records,
not through the connector's mapping).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import sync
from app.store.engine import session_scope
from app.store.tables import ItemRow, LinkRow
from app.sync.crosslinks import ReferenceResolver
from connectors.asana.connector import AsanaConnector
from connectors.base import MAX_TITLE_CHARS
from connectors.fake.asana import FakeAsana, generate
from connectors.fake.asana.world import World
from connectors.fake.server import serve_in_thread
from connectors.http import TrackerClient
from tests.builders import make_source

SEED = 5


@pytest.fixture
def fake() -> FakeAsana:
    return FakeAsana(generate(240, seed=SEED, projects=3), seed=SEED)


@pytest.fixture
def fake_url(fake: FakeAsana) -> Iterator[str]:
    with serve_in_thread(fake) as base:
        yield f"{base}/api/1.0"


def expected_tasks(world: World, projects: set[str]) -> dict[str, Any]:
    """What a full sync must store: every task under a configured project, from the fake."""
    return {
        gid: task for gid, task in world.tasks.items() if set(world.top_projects(task)) & projects
    }


def expected_title(name: str) -> str:
    return name if len(name) <= MAX_TITLE_CHARS else name[: MAX_TITLE_CHARS - 1] + "…"


@dataclass
class Harness:
    fake: FakeAsana
    url: str
    sessionmaker: async_sessionmaker[AsyncSession]
    source_id: int
    projects: list[str]
    http: httpx.AsyncClient
    options: dict[str, Any] = field(default_factory=dict)
    resolver: ReferenceResolver | None = None

    def connector(self, **overrides: Any) -> AsanaConnector:
        client = TrackerClient(
            self.http, source="asana", max_in_flight=20, backoff_base=0.01, backoff_cap=0.05
        )
        options = {"workspace": self.fake.world.workspace, "projects": self.projects}
        return AsanaConnector(client, **{**options, **self.options, **overrides})

    async def sync(self, *, full: bool = False, **overrides: Any) -> sync.SyncOutcome:
        return await sync.run_sync(
            self.sessionmaker,
            self.connector(**overrides),
            source_id=self.source_id,
            full=full,
            max_concurrent_scopes=8,
            references=self.resolver,
        )

    async def census(self) -> sync.SyncOutcome:
        return await sync.run_census(self.sessionmaker, self.connector(), source_id=self.source_id)

    async def stored(self) -> dict[str, ItemRow]:
        async with session_scope(self.sessionmaker) as session:
            rows = await session.scalars(
                select(ItemRow).where(
                    ItemRow.source_id == self.source_id, ItemRow.deleted.is_(False)
                )
            )
            return {row.external_id: row for row in rows}

    async def links(self) -> set[tuple[str, str, str]]:
        async with session_scope(self.sessionmaker) as session:
            rows = await session.execute(
                select(LinkRow.from_key, LinkRow.to_key, LinkRow.link_type).where(
                    LinkRow.origin_source_id == self.source_id
                )
            )
            return {(a, b, str(kind)) for a, b, kind in rows}

    def expected(self) -> dict[str, Any]:
        with self.fake.world.lock:
            return expected_tasks(self.fake.world, set(self.projects))


@asynccontextmanager
async def open_harness(
    fake: FakeAsana, url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Harness]:
    """A harness on a served fake, with a fresh source row to sync into."""
    async with session_scope(sessionmaker) as session:
        source = await make_source(session, name="asana", kind="asana")
    headers = {"Authorization": "Bearer test-token"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        yield Harness(fake, url, sessionmaker, source.id, list(fake.world.projects), http)


@pytest.fixture
async def asana(
    fake: FakeAsana, fake_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Harness]:
    async with open_harness(fake, fake_url, sessionmaker) as harness:
        yield harness
