"""The sync loop: cursors per scope, resumability, failures and the deletion census.

A small in-memory connector stands in for a tracker here; the connectors' own tests run
the same loop against the fake trackers over real HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import sync
from app.store import records
from app.store.engine import session_scope
from app.store.tables import ItemRow, SyncRunRow, SyncStateRow
from connectors.base import (
    Deletion,
    FetchStats,
    Page,
    SyncWarning,
    TrackerAuthError,
    TrackerItem,
    TrackerUnavailable,
    WarningKind,
)
from tests.builders import T0, make_item, make_source

NOW = T0 + timedelta(days=1)


class ListConnector:
    """Serves items from memory, a page of ``page_size`` at a time, per project scope."""

    kind: ClassVar[str] = "memory"

    def __init__(self, items: Sequence[TrackerItem], *, page_size: int = 3) -> None:
        self.items = list(items)
        self.page_size = page_size
        self.stats = FetchStats()
        self.calls: list[tuple[str, datetime | None]] = []
        self.fail_scope: dict[str, Exception] = {}
        self.fail_after_pages: int | None = None
        self.census_error: Exception | None = None
        self.unlisted: set[str] = set()
        """Ids the census leaves out although they exist (a lagging search index)."""

    async def scopes(self) -> Sequence[str]:
        return sorted({i.project or "" for i in self.items} | set(self.fail_scope))

    async def fetch(
        self, scope: str, since: datetime | None, *, token: str | None = None
    ) -> AsyncIterator[Page]:
        self.calls.append((scope, since))
        if scope in self.fail_scope:
            raise self.fail_scope[scope]
        matching = sorted(
            (
                i
                for i in self.items
                if i.project == scope and (since is None or i.updated_at >= since)
            ),
            key=lambda i: i.updated_at,
        )
        for start in range(0, len(matching), self.page_size):
            if self.fail_after_pages is not None:
                if self.fail_after_pages == 0:
                    raise RuntimeError("process killed")
                self.fail_after_pages -= 1
            yield Page(scope, matching[start : start + self.page_size])

    async def census(self, scope: str) -> frozenset[str]:
        if self.census_error:
            raise self.census_error
        listed = (i.external_id for i in self.items if i.project == scope)
        return frozenset(i for i in listed if i not in self.unlisted)

    async def fetch_items(self, keys: Sequence[str]) -> Page:
        found = [i for i in self.items if i.key in keys or i.external_id in keys]
        named = {i.key for i in found} | {i.external_id for i in found}
        gone = [Deletion("memory", k, NOW) for k in keys if k not in named]
        return Page("", found, gone)


def items(project: str, count: int, *, start: datetime = T0) -> list[TrackerItem]:
    return [
        make_item(f"{project}-{n}", updated_at=start + timedelta(minutes=n)) for n in range(count)
    ]


async def stored_keys(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with session_scope(sessionmaker) as session:
        return sorted(
            (await session.scalars(select(ItemRow.key).where(ItemRow.deleted.is_(False)))).all()
        )


@pytest.fixture
async def source_id(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(sessionmaker) as session:
        return (await make_source(session)).id


async def test_full_sync_stores_everything_and_sets_cursor_per_scope(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    connector = ListConnector(items("PAY", 7) + items("WEB", 4))
    outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
    assert (outcome.status, outcome.counts.items, outcome.items_seen) == ("succeeded", 11, 11)
    assert len(await stored_keys(sessionmaker)) == 11
    async with session_scope(sessionmaker) as session:
        pay = await records.get_sync_state(session, source_id, "PAY")
        run = await session.get_one(SyncRunRow, outcome.run_id)
    assert pay is not None
    assert pay.cursor_at == T0 + timedelta(minutes=6)
    assert (run.status, run.items_written, run.mode) == ("succeeded", 11, "incremental")


async def test_incremental_sync_asks_from_cursor_minus_overlap(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    connector = ListConnector(items("PAY", 7))
    await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
    edited = [
        make_item("PAY-2", title="edited", updated_at=NOW + timedelta(minutes=1)),
        make_item("PAY-5", title="edited", updated_at=NOW + timedelta(minutes=2)),
    ]
    connector.items = [i for i in connector.items if i.key not in ("PAY-2", "PAY-5")] + edited
    later = NOW + timedelta(hours=1)
    outcome = await sync.run_sync(
        sessionmaker,
        connector,
        source_id=source_id,
        now=lambda: later,
        overlap=timedelta(minutes=5),
    )
    assert connector.calls[-1] == ("PAY", T0 + timedelta(minutes=6) - timedelta(minutes=5))
    # The two edits plus the overlap's re-reads (PAY-1..PAY-6 but the edited ones moved on).
    assert outcome.counts.items == outcome.items_seen
    assert {"PAY-2", "PAY-5"} <= {i.key for i in connector.items if i.updated_at > NOW}
    async with session_scope(sessionmaker) as session:
        state = await records.get_sync_state(session, source_id, "PAY")
        titles = dict((await session.execute(select(ItemRow.key, ItemRow.title))).all())
    assert state is not None
    assert state.cursor_at == NOW + timedelta(minutes=2)
    assert titles["PAY-2"] == titles["PAY-5"] == "edited"


@pytest.mark.parametrize("killed_after", [0, 1, 2, 3])
async def test_killed_sync_reruns_without_loss_or_duplicates(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int, killed_after: int
) -> None:
    connector = ListConnector(items("PAY", 10), page_size=3)
    connector.fail_after_pages = killed_after
    with pytest.raises(ExceptionGroup):
        await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
    async with session_scope(sessionmaker) as session:
        state = await records.get_sync_state(session, source_id, "PAY")
    assert state is None or state.cursor_at is None, "cursor moved before the scope finished"
    connector.fail_after_pages = None
    await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
    assert await stored_keys(sessionmaker) == sorted(f"PAY-{n}" for n in range(10))
    async with session_scope(sessionmaker) as session:
        assert await session.scalar(select(func.count()).select_from(ItemRow)) == 10


async def test_failing_scope_makes_a_partial_run_and_keeps_its_cursor(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    connector = ListConnector(items("PAY", 3))
    connector.fail_scope["WEB"] = TrackerUnavailable("gave up after 6 retries")
    outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
    assert outcome.status == "partial"
    assert "WEB" in outcome.errors
    async with session_scope(sessionmaker) as session:
        web = await records.get_sync_state(session, source_id, "WEB")
        run = await session.get_one(SyncRunRow, outcome.run_id)
    assert web is not None
    assert (web.cursor_at, web.last_run_status) == (None, "failed")
    assert run.error is not None
    assert "gave up" in run.error


async def test_auth_error_fails_the_whole_run(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    connector = ListConnector(items("PAY", 3))
    connector.fail_scope["AAA"] = TrackerAuthError("acme: the tracker refused our credentials")
    outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
    assert outcome.status == "failed"
    assert "refused our credentials" in outcome.errors["*"]


async def test_warnings_are_kept_on_the_run(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    class Warns(ListConnector):
        async def fetch(
            self, scope: str, since: datetime | None, *, token: str | None = None
        ) -> AsyncIterator[Page]:
            yield Page(scope, [make_item("PAY-1")], warnings=[SyncWarning("PAY-2", "no status")])

    outcome = await sync.run_sync(
        sessionmaker, Warns(items("PAY", 1)), source_id=source_id, now=lambda: NOW
    )
    async with session_scope(sessionmaker) as session:
        run = await session.get_one(SyncRunRow, outcome.run_id)
    assert run.warnings == [{"key": "PAY-2", "reason": "no status", "kind": "malformed"}]


class TestCensus:
    async def test_marks_vanished_items_deleted(
        self, sessionmaker: async_sessionmaker[AsyncSession], source_id: int
    ) -> None:
        connector = ListConnector(items("PAY", 4))
        await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
        connector.items = [i for i in connector.items if i.key != "PAY-2"]
        outcome = await sync.run_census(
            sessionmaker, connector, source_id=source_id, now=lambda: NOW
        )
        assert outcome.counts.deleted == 1
        assert await stored_keys(sessionmaker) == ["PAY-0", "PAY-1", "PAY-3"]

    async def test_item_moved_between_scopes_is_not_deleted(
        self, sessionmaker: async_sessionmaker[AsyncSession], source_id: int
    ) -> None:
        connector = ListConnector(items("PAY", 2) + items("WEB", 1))
        await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
        moved = make_item("WEB-9", external_id="id-PAY-1", updated_at=NOW)
        connector.items = [i for i in connector.items if i.key != "PAY-1"] + [moved]
        outcome = await sync.run_census(
            sessionmaker, connector, source_id=source_id, now=lambda: NOW
        )
        assert outcome.counts.deleted == 0

    async def test_failed_census_deletes_nothing(
        self, sessionmaker: async_sessionmaker[AsyncSession], source_id: int
    ) -> None:
        connector = ListConnector(items("PAY", 2))
        await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
        connector.census_error = TrackerUnavailable("down")
        outcome = await sync.run_census(
            sessionmaker, connector, source_id=source_id, now=lambda: NOW
        )
        assert (outcome.status, outcome.counts.deleted) == ("failed", 0)
        assert len(await stored_keys(sessionmaker)) == 2


class Checkpointed(ListConnector):
    """Lists a scope by ascending id, each page carrying its last id as the checkpoint,
    as Jira's listing does; continues after one when asked."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.afters: list[str | None] = []

    async def fetch(
        self,
        scope: str,
        since: datetime | None,
        *,
        token: str | None = None,
        after: str | None = None,
    ) -> AsyncIterator[Page]:
        self.calls.append((scope, since))
        self.afters.append(after)
        matching = sorted(
            (
                i
                for i in self.items
                if i.project == scope
                and (since is None or i.updated_at >= since)
                and (after is None or int(i.external_id) > int(after))
            ),
            key=lambda i: int(i.external_id),
        )
        for start in range(0, len(matching), self.page_size):
            if self.fail_after_pages is not None:
                if self.fail_after_pages == 0:
                    raise RuntimeError("process killed")
                self.fail_after_pages -= 1
            chunk = matching[start : start + self.page_size]
            yield Page(scope, chunk, checkpoint=chunk[-1].external_id)


def numbered(project: str, count: int) -> list[TrackerItem]:
    return [
        make_item(f"{project}-{n}", external_id=str(1000 + n), updated_at=T0 + timedelta(minutes=n))
        for n in range(count)
    ]


async def scope_state(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int, scope: str = "PAY"
) -> SyncStateRow | None:
    async with session_scope(sessionmaker) as session:
        return await records.get_sync_state(session, source_id, scope)


async def test_a_sync_cut_short_continues_after_the_last_stored_checkpoint(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    connector = Checkpointed(numbered("PAY", 20), page_size=4)
    connector.fail_after_pages = 3  # killed while the fourth page is read
    first_start = NOW
    with pytest.raises(ExceptionGroup):
        await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: first_start)
    state = await scope_state(sessionmaker, source_id)
    assert state is not None
    # Pages are stored one behind the listing: the third page was in hand, unstored.
    assert (state.checkpoint, state.checkpoint_since, state.cursor_at) == ("1007", None, None)
    assert state.checkpoint_started_at == first_start

    connector.fail_after_pages = None
    later = NOW + timedelta(hours=2)
    outcome = await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: later)
    assert connector.afters[-1] == "1007"
    assert outcome.items_seen == 12  # only what lay beyond the checkpoint
    assert await stored_keys(sessionmaker) == sorted(f"PAY-{n}" for n in range(20))
    state = await scope_state(sessionmaker, source_id)
    assert state is not None
    assert state.checkpoint is None
    # The cursor stops at the first part's start: what changed since is read again.
    assert state.cursor_at == min(T0 + timedelta(minutes=19), first_start)


async def test_a_checkpoint_of_another_window_is_not_continued(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    connector = Checkpointed(numbered("PAY", 12), page_size=4)
    await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
    connector.fail_after_pages = 2
    with pytest.raises(ExceptionGroup):
        await sync.run_sync(
            sessionmaker, connector, source_id=source_id, full=True, now=lambda: NOW
        )
    state = await scope_state(sessionmaker, source_id)
    assert state is not None
    assert state.checkpoint is not None  # a full listing's
    connector.fail_after_pages = None
    await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
    assert connector.afters[-1] is None  # an incremental one starts from its own window
    state = await scope_state(sessionmaker, source_id)
    assert state is not None
    assert state.checkpoint is None

    async def test_an_item_the_listing_missed_but_the_tracker_still_has_is_kept(
        self, sessionmaker: async_sessionmaker[AsyncSession], source_id: int
    ) -> None:
        connector = ListConnector(items("PAY", 3))
        await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
        connector.unlisted = {"id-PAY-1"}  # created moments ago: not indexed yet
        outcome = await sync.run_census(
            sessionmaker, connector, source_id=source_id, now=lambda: NOW
        )
        assert (outcome.status, outcome.counts.deleted) == ("succeeded", 0)
        assert await stored_keys(sessionmaker) == ["PAY-0", "PAY-1", "PAY-2"]

    async def test_a_tombstone_left_by_a_short_read_is_lifted_by_the_next_census(
        self, sessionmaker: async_sessionmaker[AsyncSession], source_id: int
    ) -> None:
        connector = ListConnector(items("PAY", 3))
        await sync.run_sync(sessionmaker, connector, source_id=source_id, now=lambda: NOW)
        async with session_scope(sessionmaker) as session:
            wrong = [Deletion("memory", "id-PAY-1", NOW)]
            await records.mark_deleted(session, source_id, wrong)
        assert await stored_keys(sessionmaker) == ["PAY-0", "PAY-2"]
        later = NOW + timedelta(hours=1)
        await sync.run_census(sessionmaker, connector, source_id=source_id, now=lambda: later)
        assert await stored_keys(sessionmaker) == ["PAY-0", "PAY-1", "PAY-2"]


async def test_an_item_that_could_not_be_read_holds_the_scope_cursor(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> None:
    class Unreadable(ListConnector):
        async def fetch(
            self, scope: str, since: datetime | None, *, token: str | None = None
        ) -> AsyncIterator[Page]:
            async for page in super().fetch(scope, since, token=token):
                yield page
            unread = SyncWarning("PAY-9", "timed out twice", WarningKind.UNREAD)
            yield Page(scope, warnings=[unread])

    outcome = await sync.run_sync(
        sessionmaker, Unreadable(items("PAY", 3)), source_id=source_id, now=lambda: NOW
    )
    assert [w.key for w in outcome.warnings] == ["PAY-9"]
    async with session_scope(sessionmaker) as session:
        state = await records.get_sync_state(session, source_id, "PAY")
    assert state is not None
    assert state.cursor_at is None
    assert await stored_keys(sessionmaker) == ["PAY-0", "PAY-1", "PAY-2"]
