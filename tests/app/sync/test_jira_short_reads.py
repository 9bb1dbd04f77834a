"""No silent loss on a real Jira: short bulk answers, issueErrors, lagging search, hidden work.

Each story syncs the fake Jira into the store while the fake misbehaves the way the
official document allows (``issueErrors``, issues left out, search that lags behind
writes, issues and projects the account cannot see) and checks that every live issue
ends up stored and nothing live is tombstoned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import sync
from app.store import records
from app.store.engine import session_scope
from connectors.base import Deletion
from connectors.fake.jira import FakeJira
from connectors.fake.server import serve_in_thread
from tests.builders import make_source
from tests.jira_fakes import expected_items, jira_connector, make_fake, stored_items


@pytest.fixture
async def source_id(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(sessionmaker) as session:
        return (await make_source(session)).id


@pytest.fixture
def served() -> Iterator[tuple[FakeJira, str]]:
    fake = make_fake(260)
    with serve_in_thread(fake) as base:
        yield fake, base


def ids_of(fake: FakeJira, project: str) -> list[str]:
    return sorted(str(i.id) for i in fake.data.issues.values() if i.project.key == project)


async def live(sessionmaker: async_sessionmaker[AsyncSession]) -> set[str]:
    return {k for k, v in (await stored_items(sessionmaker)).items() if not v["deleted"]}


async def test_errored_and_left_out_issues_are_read_again_and_none_is_deleted(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
) -> None:
    fake, base = served
    pay, web = ids_of(fake, "PAY"), ids_of(fake, "WEB")
    fake.faults.issue_errors = {pay[0]: 1, pay[1]: 2, web[0]: 5}
    fake.faults.left_out = {pay[2]: 1, web[1]: 1, web[2]: 3}
    async with jira_connector(base) as connector:
        outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    assert (outcome.status, outcome.counts.deleted, outcome.warnings) == ("succeeded", 0, [])
    assert await live(sessionmaker) == set(expected_items(fake.data))
    assert fake.requests["issue/" + web[0]] == 1, "still errored after the retry: read by id"
    assert fake.requests["issue/" + web[2]] == 1, "left out: confirmed by id, found"


async def test_an_issue_that_cannot_be_read_is_kept_and_read_by_the_next_sync(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
) -> None:
    fake, base = served
    async with jira_connector(base) as connector:
        await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    broken = ids_of(fake, "PAY")[4]
    fake.edit(fake.data.issues[int(broken)].key, summary="Edited while unreadable")
    fake.faults.unreadable = {broken}
    async with jira_connector(base) as connector:
        outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id)
    assert [(w.key, str(w.kind)) for w in outcome.warnings] == [(broken, "unread")]
    assert outcome.counts.deleted == 0
    assert broken in await live(sessionmaker)
    fake.faults.unreadable = set()
    async with jira_connector(base) as connector:
        await sync.run_sync(sessionmaker, connector, source_id=source_id)
    assert (await stored_items(sessionmaker))[broken]["title"] == "Edited while unreadable"


async def test_a_census_deletes_what_is_really_gone_and_nothing_search_has_not_indexed(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
) -> None:
    fake, base = served
    async with jira_connector(base) as connector:
        await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    gone = fake.issue_named("MOB-4")
    fake.delete(gone.key)
    fresh = fake.add("PAY", "Story", "Filed a moment ago")
    fake.faults.search_lag = 600.0  # the new issue is not in search yet
    async with jira_connector(base) as connector:
        # As a webhook would: the new issue is read by id and stored.
        page = await connector.fetch_items([str(fresh.id)])
        async with session_scope(sessionmaker) as session:
            await records.save_page(session, source_id, page, now=fresh.updated)
        census = await sync.run_census(sessionmaker, connector, source_id=source_id)
    assert (census.status, census.counts.deleted) == ("succeeded", 1)
    stored = await live(sessionmaker)
    assert str(gone.id) not in stored
    assert str(fresh.id) in stored
    assert stored == set(expected_items(fake.data))


async def test_a_tombstone_from_a_short_read_is_lifted_by_the_next_read(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
) -> None:
    fake, base = served
    async with jira_connector(base) as connector:
        await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    wrongly = ids_of(fake, "WEB")[3]
    stored_at = (await stored_items(sessionmaker))[wrongly]["updated_at"]
    async with session_scope(sessionmaker) as session:
        before = [Deletion("jira", wrongly, stored_at + timedelta(seconds=1))]
        await records.mark_deleted(session, source_id, before)
    async with jira_connector(base) as connector:
        await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    assert wrongly in await live(sessionmaker), "same `updated`, yet the read lifts it"


async def test_an_edit_search_indexed_late_is_caught_by_the_overlap(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
) -> None:
    fake, base = served
    async with jira_connector(base) as connector:
        await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    late = fake.edit("PAY-3", summary="Indexed late")
    fake.faults.unindexed = {str(late.id)}
    await asyncio.sleep(0.02)  # a later edit, a few milliseconds on (Jira's precision)
    fake.edit("PAY-5", summary="Indexed at once")
    async with jira_connector(base) as connector:
        await sync.run_sync(sessionmaker, connector, source_id=source_id)
        assert (await stored_items(sessionmaker))[str(late.id)]["title"] != "Indexed late"
        fake.faults.unindexed = set()
        await sync.run_sync(sessionmaker, connector, source_id=source_id)
    assert (await stored_items(sessionmaker))[str(late.id)]["title"] == "Indexed late"


async def test_an_edit_indexed_late_is_lost_without_an_overlap(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    served: tuple[FakeJira, str],
) -> None:
    """The control for the test above: the fake's lag is real, the overlap is what helps."""
    fake, base = served
    async with jira_connector(base) as connector:
        await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
    late = fake.edit("PAY-3", summary="Indexed late")
    fake.faults.unindexed = {str(late.id)}
    await asyncio.sleep(0.02)  # a later edit, a few milliseconds on (Jira's precision)
    fake.edit("PAY-5", summary="Indexed at once")
    async with jira_connector(base) as connector:
        await sync.run_sync(sessionmaker, connector, source_id=source_id, overlap=timedelta(0))
        fake.faults.unindexed = set()
        await sync.run_sync(sessionmaker, connector, source_id=source_id, overlap=timedelta(0))
    assert (await stored_items(sessionmaker))[str(late.id)]["title"] != "Indexed late"


async def test_hidden_issues_and_parents_in_a_hidden_project_are_coped_with(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    fake = make_fake(260)
    epics_in_int = {i.id for i in fake.data.issues.values() if i.project.key == "INT"}
    children = [i for i in fake.data.issues.values() if i.parent_id in epics_in_int]
    for child in children[:3]:
        fake.move(child.key, "PAY")
    hidden_issue = ids_of(fake, "WEB")[2]
    fake.hidden_projects = {"INT"}
    fake.hidden_issues = {int(hidden_issue)}
    with serve_in_thread(fake) as base:
        async with jira_connector(base, projects=["PAY", "WEB"]) as connector:
            outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)
            census = await sync.run_census(sessionmaker, connector, source_id=source_id)
    visible = {
        k
        for k, v in expected_items(fake.data).items()
        if v["project"] in ("PAY", "WEB") and k != hidden_issue
    }
    assert (outcome.status, outcome.warnings, census.counts.deleted) == ("succeeded", [], 0)
    assert await live(sessionmaker) == visible
    stored = await stored_items(sessionmaker)
    moved = [stored[str(c.id)] for c in children[:3] if c.parent_id is not None]
    assert moved
    assert all(m["parent_key"] and m["parent_key"].startswith("INT-") for m in moved)
