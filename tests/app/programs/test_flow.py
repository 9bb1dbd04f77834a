"""The flow read from the store: the stored history gives the figures a hand count gives."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import parse_config
from app.programs import flow, lookup
from app.programs.recompute import recompute
from app.store import catalog, records
from app.store.engine import session_scope
from connectors.base import Page
from tests.app import rollup_data as data
from tests.builders import make_item
from vocabulary import ItemKind, StatusCategory

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


HOSTILE = "<img src=x onerror=alert(1)>"


async def test_items_of_one_tracker_flow_by_status_too(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    items = data.program_items()
    # One story waits in a status of its own, named by hostile text.
    items = [data.story("PAY-4", status=HOSTILE) if i.key == "PAY-4" else i for i in items]
    async with session_scope(sessionmaker) as session:
        await catalog.apply_config(session, data.config(), now=data.NOW)
        await data.seed(session, items)
    await recompute(sessionmaker, data.config(), now=data.NOW)
    async with session_scope(sessionmaker) as session:
        program = await lookup.get_program(session, data.config(), "checkout")
        found = await flow.read_flow(session, program, outcome="fast-pay", weeks=12, now=data.NOW)
    assert found.cfd_status_note is None
    assert found.cfd_status_daily is not None
    names = [(s.name, s.category.value) for s in found.cfd_statuses]
    # The history does not say where the stories started, only where they went.
    assert names == [
        ("(status not recorded)", "todo"),
        (HOSTILE, "todo"),
        ("To Do", "todo"),
        ("In Progress", "in_progress"),
        ("Done", "done"),
    ]
    last = dict(zip((n for n, _ in names), found.cfd_status_daily[-1].counts, strict=True))
    # PAY-2 and PAY-3 in progress, 36 stories done, PAY-4 in its hostile status, PAY-5 and
    # PAY-6 to do (never moved: in their status now since they were created).
    assert last == {
        "(status not recorded)": 0,
        HOSTILE: 1,
        "To Do": 2,
        "In Progress": 2,
        "Done": 36,
    }
    for day, by_status in zip(found.cfd_daily, found.cfd_status_daily, strict=True):
        assert day.on == by_status.on
        counts = dict.fromkeys(("todo", "in_progress", "done"), 0)
        for (_, category), n in zip(names, by_status.counts, strict=True):
            counts[category] += n
        assert (counts["todo"], counts["in_progress"], counts["done"]) == (
            day.todo,
            day.in_progress,
            day.done,
        )


MIXED = data.CONFIG.replace(
    "        match: [{{source: jira, projects: [WEB]}}]".replace("{{", "{").replace("}}", "}"),
    "        match: [{source: jira, projects: [WEB]}]\n"
    "      - key: ops\n"
    "        name: Operations\n"
    '        match: [{source: asana, projects: ["900"]}]',
)


async def test_items_of_two_trackers_flow_by_category_only(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    config = parse_config(MIXED)
    async with session_scope(sessionmaker) as session:
        await catalog.apply_config(session, config, now=data.NOW)
        await data.seed(session)
        asana = await records.get_source(session, "asana")
        assert asana is not None
        task = make_item(
            "T-1",
            source="asana",
            kind=ItemKind.TASK,
            project="900",
            projects=("900",),
            status="Doing",
            status_category=StatusCategory.IN_PROGRESS,
            created_at=data.NOW - timedelta(days=5),
            updated_at=data.NOW,
        )
        await records.save_page(session, asana.id, Page("900", [task]), now=data.NOW)
    await recompute(sessionmaker, config, now=data.NOW)
    async with session_scope(sessionmaker) as session:
        program = await lookup.get_program(session, config, "checkout")
        whole = await flow.read_flow(session, program, outcome=None, weeks=12, now=data.NOW)
        ops = await flow.read_flow(session, program, outcome="ops", weeks=12, now=data.NOW)
    assert whole.cfd_status_daily is None
    assert whole.cfd_statuses == []
    assert whole.cfd_status_note is not None
    assert "2 trackers (asana, jira)" in whole.cfd_status_note
    assert whole.cfd_daily[-1].in_progress == 3  # PAY-2, PAY-3 and the Asana task
    # One outcome reading one tracker has its statuses.
    assert ops.cfd_status_note is None
    assert ops.cfd_status_daily is not None
    assert [s.name for s in ops.cfd_statuses] == ["Doing"]
    assert ops.cfd_status_daily[-1].counts == [1]
