"""The connector contract: what every connector must do against its fake tracker.

In the spirit of Singer's standard tap tests, parametrized over every connector. A tracker
counts as supported when it passes: a full load returns everything, ``since`` narrows,
times are zone-aware, a round returns a key at most once per scope, the census covers what
was fetched, and ``fetch_items`` re-reads items and reports the gone as deletions.

Add a tracker by appending a ``TrackerCase`` to ``CASES``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest

from connectors.asana.connector import AsanaConnector
from connectors.base import Connector, Page
from connectors.fake.asana import FakeAsana, generate
from connectors.fake.server import serve_in_thread
from connectors.http import TrackerClient
from tests.jira_fakes import jira_connector, make_fake


@dataclass
class Tracker:
    """A connector and the fake behind it, with the fake's own answers."""

    connector: Connector
    ids: Callable[[], set[str]]
    """Every external id the fake holds in the connector's scopes."""
    edit: Callable[[], str]
    """Change one item in the fake; return its external id."""
    gone_key: str
    """A key the tracker has never had."""


@dataclass(frozen=True)
class TrackerCase:
    name: str
    start: Callable[[], AbstractAsyncContextManager[Tracker]]


@asynccontextmanager
async def asana_case() -> AsyncIterator[Tracker]:
    fake = FakeAsana(generate(150, seed=11, projects=2), seed=11)
    world = fake.world
    with serve_in_thread(fake) as base:
        async with httpx.AsyncClient(
            base_url=f"{base}/api/1.0", headers={"Authorization": "Bearer contract"}
        ) as http:
            connector = AsanaConnector(
                TrackerClient(http, source="asana"),
                workspace=world.workspace,
                projects=list(world.projects),
            )

            def edit() -> str:
                gid = next(iter(world.projects.values())).tasks[0]
                fake.edit_task(gid, name="Edited for the contract")
                return gid

            yield Tracker(connector, lambda: set(world.tasks), edit, "1")


def jira_case(deployment: str) -> Callable[[], AbstractAsyncContextManager[Tracker]]:
    @asynccontextmanager
    async def start() -> AsyncIterator[Tracker]:
        fake = make_fake(180, deployment=deployment, dc_page_cap=25)
        with serve_in_thread(fake) as base:
            async with jira_connector(base, cloud=deployment == "cloud") as connector:

                def edit() -> str:
                    return str(fake.edit("WEB-3", summary="Edited for the contract").id)

                ids = lambda: {str(i) for i in fake.data.issues}  # noqa: E731
                yield Tracker(connector, ids, edit, "99999999")

    return start


CASES = [
    TrackerCase("asana", asana_case),
    TrackerCase("jira-cloud", jira_case("cloud")),
    TrackerCase("jira-datacenter", jira_case("datacenter")),
]


async def collect(connector: Connector, since: datetime | None = None) -> dict[str, list[Page]]:
    rounds: dict[str, list[Page]] = {}
    for scope in await connector.scopes():
        rounds[scope] = [page async for page in connector.fetch(scope, since)]
    return rounds


@pytest.fixture(params=CASES, ids=lambda case: case.name)
async def tracker(request: pytest.FixtureRequest) -> AsyncIterator[Tracker]:
    async with request.param.start() as started:
        yield started


class TestConnectorContract:
    async def test_a_full_load_returns_everything(self, tracker: Tracker) -> None:
        rounds = await collect(tracker.connector)
        fetched = {i.external_id for pages in rounds.values() for p in pages for i in p.items}
        assert fetched == tracker.ids()

    async def test_times_are_zone_aware(self, tracker: Tracker) -> None:
        rounds = await collect(tracker.connector)
        for pages in rounds.values():
            for page in pages:
                assert all(i.updated_at.tzinfo is not None for i in page.items)

    async def test_a_round_returns_a_key_at_most_once_per_scope(self, tracker: Tracker) -> None:
        for pages in (await collect(tracker.connector)).values():
            keys = [i.key for p in pages for i in p.items]
            assert len(keys) == len(set(keys))

    async def test_since_narrows_to_what_changed(self, tracker: Tracker) -> None:
        everything = await collect(tracker.connector)
        newest = max(i.updated_at for ps in everything.values() for p in ps for i in p.items)
        edited = tracker.edit()
        tokens = {
            s: next((p.token for p in reversed(ps) if p.token), None)
            for s, ps in everything.items()
        }
        since = newest + timedelta(milliseconds=1)
        changed: set[str] = set()
        for scope, token in tokens.items():
            async for page in tracker.connector.fetch(scope, since, token=token):
                changed |= {i.external_id for i in page.items}
        assert edited in changed
        assert len(changed) < len(tracker.ids())

    async def test_the_census_covers_what_was_fetched(self, tracker: Tracker) -> None:
        rounds = await collect(tracker.connector)
        for scope, pages in rounds.items():
            fetched = {i.external_id for p in pages for i in p.items}
            assert fetched <= await tracker.connector.census(scope)

    async def test_fetch_items_rereads_and_reports_the_gone(self, tracker: Tracker) -> None:
        some = sorted(tracker.ids())[:3]
        page = await tracker.connector.fetch_items([*some, tracker.gone_key])
        assert {i.external_id for i in page.items} == set(some)
        assert [d.external_id for d in page.deletions] == [tracker.gone_key]
