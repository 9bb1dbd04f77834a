"""A tracker record no database can store never blocks its project's sync.

Text is cleaned at the connector boundary (NUL and unpaired surrogates become U+FFFD); a
record the database still refuses is skipped with a warning naming it, and the rest of its
page and project land. Served over a real socket by the fake Jira, as a site would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import sync
from app.store.engine import session_scope
from app.store.tables import ItemRow, SyncStateRow
from connectors.fake.jira import FakeJira
from connectors.fake.jira.model import IssueType
from connectors.fake.server import serve_in_thread
from tests.builders import make_source
from tests.jira_fakes import jira_connector, make_fake

HALF_EMOJI = "@@D83D"
"""Written into a summary, served as ``\\ud83d``: half of a surrogate pair, as Java emits
when it cuts an emoji in two (the fake's JSON encoder cannot write one itself)."""


class HalfEmojis:
    """Serves the fake Jira with every ``HALF_EMOJI`` turned into the JSON escape ``\\ud83d``
    (the same length, so Content-Length holds)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.body":
                body = message.get("body", b"").replace(HALF_EMOJI.encode(), b"\\ud83d")
                message = {**message, "body": body}
            await send(message)

        await self.app(scope, receive, rewrite)


@pytest.fixture
async def source_id(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(sessionmaker) as session:
        return (await make_source(session)).id


@pytest.fixture
def fake() -> FakeJira:
    return make_fake(60)


@pytest.fixture
def base(fake: FakeJira) -> Iterator[str]:
    with serve_in_thread(HalfEmojis(fake)) as url:
        yield url


async def titles(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with session_scope(sessionmaker) as session:
        rows = await session.execute(select(ItemRow.key, ItemRow.title))
        return {str(key): str(title) for key, title in rows.all()}


def some_keys(fake: FakeJira, count: int) -> list[str]:
    return sorted(i.key for i in fake.data.issues.values())[:count]


async def full_sync(
    sessionmaker: async_sessionmaker[AsyncSession], base: str, source_id: int
) -> sync.SyncOutcome:
    async with jira_connector(base) as connector:
        return await sync.run_sync(sessionmaker, connector, source_id=source_id, full=True)


async def test_a_half_emoji_and_a_nul_in_summaries_are_replaced_and_every_issue_lands(
    sessionmaker: async_sessionmaker[AsyncSession], fake: FakeJira, base: str, source_id: int
) -> None:
    cut, nul = some_keys(fake, 2)
    fake.edit(cut, summary=f"Pay with Apple Pay {HALF_EMOJI} today")
    fake.edit(nul, summary="Card\x00 holder name")
    outcome = await full_sync(sessionmaker, base, source_id)
    assert outcome.status == "succeeded", outcome.errors
    stored = await titles(sessionmaker)
    assert len(stored) == len(fake.data.issues)
    assert stored[cut] == "Pay with Apple Pay \ufffd today"
    assert stored[nul] == "Card\ufffd holder name"


async def test_an_issue_the_database_still_refuses_is_skipped_with_a_warning_naming_it(
    sessionmaker: async_sessionmaker[AsyncSession], fake: FakeJira, base: str, source_id: int
) -> None:
    (refused,) = some_keys(fake, 1)
    issue = fake.data.get(refused)
    assert issue is not None
    # A hierarchy level past any integer column: no text to clean, and no database takes it.
    issue.type = IssueType(issue.type.id, issue.type.name, 2**70)
    fake.edit(refused, summary="Out of range")
    outcome = await full_sync(sessionmaker, base, source_id)
    assert outcome.status == "succeeded", outcome.errors
    assert [w.key for w in outcome.warnings] == [refused]
    assert "could not be stored" in outcome.warnings[0].reason
    stored = await titles(sessionmaker)
    assert refused not in stored
    assert len(stored) == len(fake.data.issues) - 1
    async with session_scope(sessionmaker) as session:
        state = await session.scalar(
            select(SyncStateRow).where(SyncStateRow.scope == issue.project.key)
        )
    assert state is not None
    assert state.cursor_at is not None


async def test_the_next_sync_after_a_refused_issue_is_fixed_stores_it(
    sessionmaker: async_sessionmaker[AsyncSession], fake: FakeJira, base: str, source_id: int
) -> None:
    (refused,) = some_keys(fake, 1)
    issue = fake.data.get(refused)
    assert issue is not None
    story = issue.type
    issue.type = IssueType(story.id, story.name, 2**70)
    await full_sync(sessionmaker, base, source_id)
    issue.type = story
    fake.edit(refused, summary="Back in range")
    async with jira_connector(base) as connector:
        outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id)
    assert not outcome.warnings
    assert (await titles(sessionmaker))[refused] == "Back in range"
