"""The one write path: bulk, idempotent, newer-wins upserts; links; history; cursors."""

from __future__ import annotations

from datetime import date, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store import records
from app.store.engine import session_scope
from app.store.tables import ItemRow, LinkRow, TransitionRow
from connectors.base import Deletion, Page
from tests.builders import T0, blocks, make_item, make_source, make_transition
from vocabulary import StatusCategory


async def _item(session: AsyncSession, key: str) -> ItemRow:
    return await session.scalar(select(ItemRow).where(ItemRow.key == key))


class TestUpsertItems:
    async def test_inserts_new_items(self, session: AsyncSession) -> None:
        source = await make_source(session)
        written = await records.upsert_items(
            session, source.id, [make_item("PAY-1"), make_item("PAY-2")], now=T0
        )
        assert written == {"id-PAY-1", "id-PAY-2"}
        item = await _item(session, "PAY-1")
        assert item.title == "Title of PAY-1"
        assert item.updated_at == T0
        assert item.updated_at.tzinfo is not None

    async def test_newer_record_replaces_stored_one(self, session: AsyncSession) -> None:
        source = await make_source(session)
        await records.upsert_items(session, source.id, [make_item("PAY-1")], now=T0)
        newer = make_item("PAY-1", title="Renamed", updated_at=T0 + timedelta(minutes=1))
        assert await records.upsert_items(session, source.id, [newer], now=T0) == {"id-PAY-1"}
        session.expire_all()
        assert (await _item(session, "PAY-1")).title == "Renamed"

    async def test_older_record_changes_nothing(self, session: AsyncSession) -> None:
        source = await make_source(session)
        current = make_item(
            "PAY-1",
            title="Current",
            status="In Progress",
            status_category=StatusCategory.IN_PROGRESS,
        )
        await records.upsert_items(session, source.id, [current], now=T0)
        stale = make_item("PAY-1", title="Stale", updated_at=T0 - timedelta(seconds=1))
        assert await records.upsert_items(session, source.id, [stale], now=T0) == set()
        session.expire_all()
        item = await _item(session, "PAY-1")
        assert (item.title, item.status) == ("Current", "In Progress")

    async def test_same_record_twice_is_idempotent(self, session: AsyncSession) -> None:
        source = await make_source(session)
        for _ in range(2):
            await records.upsert_items(session, source.id, [make_item("PAY-1")], now=T0)
        count = await session.scalar(select(func.count()).select_from(ItemRow))
        assert count == 1

    async def test_time_zones_compare_as_instants(self, session: AsyncSession) -> None:
        from zoneinfo import ZoneInfo

        source = await make_source(session)
        # 10:30 in Berlin is 09:30 UTC: newer than T0 (09:00 UTC) though its wall clock
        # reads later than an 09:45 UTC record's would.
        berlin = T0.astimezone(ZoneInfo("Europe/Berlin")) + timedelta(minutes=30)
        await records.upsert_items(
            session, source.id, [make_item("PAY-1", updated_at=berlin, title="Berlin")], now=T0
        )
        older = make_item("PAY-1", updated_at=T0 + timedelta(minutes=20), title="Older")
        assert await records.upsert_items(session, source.id, [older], now=T0) == set()
        session.expire_all()
        item = await _item(session, "PAY-1")
        assert item.title == "Berlin"
        assert item.updated_at == T0 + timedelta(minutes=30)

    async def test_moved_issue_keeps_its_row_under_the_new_key(self, session: AsyncSession) -> None:
        source = await make_source(session)
        await records.upsert_items(
            session, source.id, [make_item("PAY-7", external_id="10007")], now=T0
        )
        moved = make_item("WEB-3", external_id="10007", updated_at=T0 + timedelta(hours=1))
        await records.upsert_items(session, source.id, [moved], now=T0)
        keys = (await session.scalars(select(ItemRow.key))).all()
        assert keys == ["WEB-3"]

    async def test_writes_thousands_in_one_call(self, session: AsyncSession) -> None:
        source = await make_source(session)
        items = [make_item(f"BIG-{n}") for n in range(2_345)]
        written = await records.upsert_items(session, source.id, items, now=T0)
        assert len(written) == 2_345
        assert await records.count_items(session, source.id) == 2_345

    async def test_duplicates_within_one_batch_keep_the_newest(self, session: AsyncSession) -> None:
        source = await make_source(session)
        batch = [
            make_item("PAY-1", title="new", updated_at=T0 + timedelta(minutes=5)),
            make_item("PAY-1", title="old"),
        ]
        await records.upsert_items(session, source.id, batch, now=T0)
        assert (await _item(session, "PAY-1")).title == "new"


class TestDeletion:
    async def test_deleted_item_is_not_revived_by_the_same_version(
        self, session: AsyncSession
    ) -> None:
        source = await make_source(session)
        await records.upsert_items(session, source.id, [make_item("PAY-1")], now=T0)
        deleted = await records.mark_deleted(
            session, source.id, [Deletion("jira", "id-PAY-1", T0 + timedelta(hours=1))]
        )
        assert deleted == 1
        assert await records.upsert_items(session, source.id, [make_item("PAY-1")], now=T0) == set()
        session.expire_all()
        assert (await _item(session, "PAY-1")).deleted is True

    async def test_deleted_item_comes_back_with_a_newer_version(
        self, session: AsyncSession
    ) -> None:
        source = await make_source(session)
        await records.upsert_items(session, source.id, [make_item("PAY-1")], now=T0)
        await records.mark_deleted(session, source.id, [Deletion("jira", "id-PAY-1", T0)])
        restored = make_item("PAY-1", updated_at=T0 + timedelta(days=1))
        await records.upsert_items(session, source.id, [restored], now=T0)
        session.expire_all()
        item = await _item(session, "PAY-1")
        assert (item.deleted, item.deleted_at) == (False, None)

    async def test_every_field_reads_back_as_written(self, session: AsyncSession) -> None:
        source = await make_source(session)
        item = make_item(
            "PAY-1",
            projects=("PAY", "WEB"),
            labels=("ünïcode", "b"),
            components=("api",),
            fix_versions=("1.0",),
            custom_fields=(("team", "Payments"), ("area", "Checkout")),
            created_at=T0 - timedelta(days=3),
            resolved_at=(T0 + timedelta(hours=5)).astimezone(timezone(timedelta(hours=13))),
            start_on=date(2026, 10, 1),
            due_on=date(2026, 12, 24),
            estimate=2.5,
            hierarchy_level=0,
            assignee="Ana",
            assignee_email="ana@example.com",
            parent_key="PAY-0",
            section="Doing",
            issue_type="Story",
        )
        expected = records.item_row(source.id, item, T0)
        await records.upsert_items(session, source.id, [item], now=T0)
        session.expire_all()
        row = await _item(session, "PAY-1")
        stored = {column: getattr(row, column) for column in expected}
        assert stored == expected | {"kind": item.kind, "status_category": item.status_category}
        assert list(row.custom_fields) == ["team", "area"]

    @pytest.mark.parametrize("level", [2**40, 2**70], ids=["past-int4", "past-int64"])
    async def test_a_value_the_database_refuses_fails_as_the_records_fault(
        self, session: AsyncSession, backend: str, level: int
    ) -> None:
        if backend == "sqlite" and level < 2**63:
            pytest.skip("SQLite's integers are 64-bit")
        source = await make_source(session)
        item = make_item("PAY-1", hierarchy_level=level)
        with pytest.raises(Exception) as failure:  # noqa: PT011 (whichever layer refuses)
            async with session.begin_nested():
                await records.upsert_items(session, source.id, [item], now=T0)
        assert records.is_record_fault(failure.value)


class TestLiftTombstones:
    async def test_a_later_read_lifts_a_tombstone_set_before_it(
        self, session: AsyncSession
    ) -> None:
        source = await make_source(session)
        await records.upsert_items(session, source.id, [make_item("PAY-1")], now=T0)
        await records.mark_deleted(session, source.id, [Deletion("jira", "id-PAY-1", T0)])
        lifted = await records.lift_tombstones(
            session, source.id, ["id-PAY-1", "id-PAY-9"], before=T0 + timedelta(minutes=1)
        )
        assert lifted == 1
        session.expire_all()
        item = await _item(session, "PAY-1")
        assert (item.deleted, item.deleted_at) == (False, None)

    async def test_a_tombstone_set_after_the_read_began_stands(self, session: AsyncSession) -> None:
        source = await make_source(session)
        await records.upsert_items(session, source.id, [make_item("PAY-1")], now=T0)
        later = T0 + timedelta(minutes=5)
        await records.mark_deleted(session, source.id, [Deletion("jira", "id-PAY-1", later)])
        assert await records.lift_tombstones(session, source.id, ["id-PAY-1"], before=T0) == 0
        session.expire_all()
        assert (await _item(session, "PAY-1")).deleted is True


class TestLinksAndHistory:
    async def test_links_are_replaced_by_the_items_current_set(self, session: AsyncSession) -> None:
        source = await make_source(session)
        first = make_item("PAY-1", links=(blocks("PAY-1", "PAY-2"), blocks("PAY-1", "WEB-9")))
        await records.save_page(session, source.id, Page("PAY", [first]), now=T0)
        later = make_item(
            "PAY-1", links=(blocks("PAY-1", "WEB-9"),), updated_at=T0 + timedelta(minutes=1)
        )
        counts = await records.save_page(session, source.id, Page("PAY", [later]), now=T0)
        assert counts.links == 1
        edges = (await session.execute(select(LinkRow.from_key, LinkRow.to_key))).all()
        assert edges == [("PAY-1", "WEB-9")]

    async def test_stale_record_leaves_links_alone(self, session: AsyncSession) -> None:
        source = await make_source(session)
        current = make_item(
            "PAY-1", links=(blocks("PAY-1", "PAY-2"),), updated_at=T0 + timedelta(hours=1)
        )
        await records.save_page(session, source.id, Page("PAY", [current]), now=T0)
        stale = make_item("PAY-1", links=())
        await records.save_page(session, source.id, Page("PAY", [stale]), now=T0)
        assert await session.scalar(select(func.count()).select_from(LinkRow)) == 1

    async def test_transitions_are_recorded_once(self, session: AsyncSession) -> None:
        source = await make_source(session)
        history = (
            make_transition("h1", T0 - timedelta(days=2), "In Progress"),
            make_transition("h2", T0 - timedelta(days=1)),
        )
        item = make_item("PAY-1", transitions=history)
        first = await records.save_page(session, source.id, Page("PAY", [item]), now=T0)
        again = await records.save_page(session, source.id, Page("PAY", [item]), now=T0)
        assert (first.transitions, again.transitions) == (2, 0)
        assert await session.scalar(select(func.count()).select_from(TransitionRow)) == 2


class TestCursor:
    async def test_cursor_rolls_back_with_the_rows_it_covers(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(sessionmaker) as session:
            source_id = (await make_source(session)).id
        with pytest.raises(RuntimeError):
            async with session_scope(sessionmaker) as session:
                await records.save_page(
                    session, source_id, Page("PAY", [make_item("PAY-1")]), now=T0
                )
                await records.advance_cursor(session, source_id, "PAY", T0, run_started_at=T0)
                raise RuntimeError("killed before commit")
        async with session_scope(sessionmaker) as session:
            assert await records.get_sync_state(session, source_id, "PAY") is None
            assert await records.count_items(session, source_id) == 0

    async def test_cursor_never_moves_backwards(self, session: AsyncSession) -> None:
        source = await make_source(session)
        await records.advance_cursor(session, source.id, "PAY", T0, run_started_at=T0)
        state = await records.advance_cursor(
            session, source.id, "PAY", T0 - timedelta(days=1), run_started_at=T0
        )
        assert state.cursor_at == T0


class TestRefreshStatistics:
    async def test_gives_postgresql_statistics_of_what_a_sync_wrote(
        self, session: AsyncSession
    ) -> None:
        source = await make_source(session)
        keys = [f"PAY-{n}" for n in range(40)]
        await records.upsert_items(session, source.id, [make_item(k) for k in keys], now=T0)
        await session.flush()
        analyzed = await records.refresh_statistics(session)
        if session.get_bind().dialect.name != "postgresql":
            assert analyzed is False
            return
        assert analyzed is True
        # ANALYZE records the row count the planner estimates from (-1: never analyzed).
        reltuples = await session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'item'")
        )
        assert reltuples == len(keys)
