"""The contract every connector passes against its fake, in the spirit of Singer's tap tests.

Each case builds a connector pointed at its tracker's fake over loopback and says what the
fake holds. A new tracker counts as done when its case passes here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import pytest

from connectors.base import Connector, TrackerItem
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import jira_connector, make_fake


@dataclass(frozen=True, slots=True)
class Site:
    """A connector and the truth about the fake it reads."""

    connector: Connector
    updated: dict[str, datetime]
    """external id → last update, for every item in the connector's scopes."""
    keys: dict[str, str]
    """external id → key"""


def _jira(deployment: str) -> Callable[[], AbstractAsyncContextManager[Site]]:
    @asynccontextmanager
    async def build() -> AsyncIterator[Site]:
        fake = make_fake(180, deployment=deployment, dc_page_cap=25)
        issues = fake.data.issues.values()
        with serve_in_thread(fake) as base:
            async with jira_connector(base, cloud=deployment == "cloud") as connector:
                yield Site(
                    connector,
                    {str(i.id): i.updated for i in issues},
                    {str(i.id): i.key for i in issues},
                )

    return build


CASES = {"jira-cloud": _jira("cloud"), "jira-datacenter": _jira("datacenter")}


@pytest.fixture(params=sorted(CASES))
async def site(request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    async with CASES[request.param]() as built:
        yield built


async def fetch_all(connector: Connector, since: datetime | None = None) -> list[TrackerItem]:
    items: list[TrackerItem] = []
    for scope in await connector.scopes():
        async for page in connector.fetch(scope, since):
            items += page.items
    return items


async def test_full_load_returns_everything_once(site: Site) -> None:
    items = await fetch_all(site.connector)
    ids = [i.external_id for i in items]
    assert len(ids) == len(set(ids)), "a run returns each item at most once"
    assert set(ids) == set(site.updated)
    assert all(site.keys[i.external_id] == i.key for i in items)


async def test_updated_at_is_timezone_aware_and_matches_the_tracker(site: Site) -> None:
    for item in await fetch_all(site.connector):
        assert item.updated_at.tzinfo is not None
        assert abs((item.updated_at - site.updated[item.external_id]).total_seconds()) < 0.001


async def test_since_narrows_to_items_updated_at_or_after_it(site: Site) -> None:
    moments = sorted(site.updated.values())
    since = moments[len(moments) * 3 // 4]
    items = await fetch_all(site.connector, since)
    got = {i.external_id for i in items}
    assert got >= {i for i, at in site.updated.items() if at >= since}
    assert len(got) < len(site.updated)


async def test_census_lists_every_item(site: Site) -> None:
    found: set[str] = set()
    for scope in await site.connector.scopes():
        found |= await site.connector.census(scope)
    assert found == set(site.updated)


async def test_fetch_items_returns_the_named_items_that_exist(site: Site) -> None:
    wanted = sorted(site.keys.values())[:3]
    page = await site.connector.fetch_items([*wanted, "NOPE-404"])
    assert sorted(i.key for i in page.items) == wanted
