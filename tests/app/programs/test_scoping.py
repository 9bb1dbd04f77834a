"""A change recomputes the programs its items touch, and those alone; their roll-ups are
the ones a recomputation of everything gives."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig
from app.programs import scoping
from app.programs.recompute import recompute, refresh_rollups
from app.store import catalog, records
from app.store.tables import OutcomeStatusRow, ProgramItemRow, ProgramRow, ProgramStatusRow
from bench.rollup import NOW, SOURCE, config, dataset
from connectors.base import Deletion, Page, TrackerItem
from tests.builders import make_source
from vocabulary import StatusCategory

LATER = NOW + timedelta(hours=1)
"""When the change is stored and recomputed."""


@pytest.fixture
async def stored(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[ThroughlineConfig, list[TrackerItem], int]:
    """Ten programs of five projects each (P0–P49: program pN reads P5N…P5N+4), with
    epics, histories and links across projects, recomputed the day before (so that a
    recomputation of today has yesterday's snapshot as its baseline, whichever ran first)."""
    cfg, items = config(), dataset(2_000)
    async with sessionmaker() as session:
        source = await make_source(session, SOURCE)
        await records.save_page(session, source.id, Page("all", items), now=NOW)
        await catalog.apply_config(session, cfg, now=NOW)
        await session.commit()
    await recompute(sessionmaker, cfg, now=NOW - timedelta(days=1))
    return cfg, items, source.id


def _linked(items: list[TrackerItem]) -> set[str]:
    return {k for i in items for link in i.links for k in (link.from_key, link.to_key)}


def _program(key: str) -> str:
    return f"p{int(key.split('-')[0].removeprefix('P')) // 5}"


async def _save(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int, items: list[TrackerItem]
) -> None:
    async with sessionmaker() as session:
        await records.save_page(session, source_id, Page("change", items), now=LATER)
        await session.commit()


async def _touched(
    sessionmaker: async_sessionmaker[AsyncSession], cfg: ThroughlineConfig, keys: set[str]
) -> set[str]:
    async with sessionmaker() as session:
        return await scoping.touched_programs(session, cfg, {SOURCE: keys})


async def _stored(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> dict[str, tuple[int, dict[str, str], dict[str, str | None]]]:
    """Program → (revision, document digests, outcome digests)."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(ProgramRow.key, ProgramStatusRow.revision, ProgramStatusRow.digests).join(
                ProgramStatusRow, ProgramStatusRow.program_id == ProgramRow.id
            )
        )
        outcomes = await session.execute(
            select(ProgramRow.key, OutcomeStatusRow.outcome_key, OutcomeStatusRow.digest).join(
                OutcomeStatusRow, OutcomeStatusRow.program_id == ProgramRow.id
            )
        )
        by_program: dict[str, dict[str, str | None]] = {}
        for program, outcome, found in outcomes:
            by_program.setdefault(program, {})[outcome] = found
        return {k: (r, d or {}, by_program.get(k, {})) for k, r, d in rows}


async def test_a_change_to_one_programs_item_recomputes_it_alone_as_a_full_run_would(
    sessionmaker: async_sessionmaker[AsyncSession],
    stored: tuple[ThroughlineConfig, list[TrackerItem], int],
) -> None:
    cfg, items, source_id = stored
    alone = next(
        i
        for i in items
        if i.project == "P15"
        and i.key not in _linked(items)
        and i.status_category is StatusCategory.TODO
        and i.parent_key is not None
    )
    done = dataclasses.replace(
        alone, status="Done", status_category=StatusCategory.DONE, updated_at=LATER
    )
    await _save(sessionmaker, source_id, [done])
    assert await _touched(sessionmaker, cfg, {alone.key}) == {"p3"}
    before = await _stored(sessionmaker)

    result = await recompute(sessionmaker, cfg, now=LATER, changed={SOURCE: {alone.key}})

    assert result.programs == ["p3"]
    assert result.items < len(items) / 2  # its own items and what they need, not the source
    scoped = await _stored(sessionmaker)
    assert {k for k in scoped if scoped[k] != before[k]} == {"p3"}
    assert scoped["p3"][0] == before["p3"][0] + 1
    # Everything recomputed at the same moment gives p3 exactly what the scoped run stored.
    await recompute(sessionmaker, cfg, now=LATER)
    assert (await _stored(sessionmaker))["p3"] == scoped["p3"]


async def test_a_new_item_matching_a_programs_rule_recomputes_that_program(
    sessionmaker: async_sessionmaker[AsyncSession],
    stored: tuple[ThroughlineConfig, list[TrackerItem], int],
) -> None:
    cfg, items, source_id = stored
    template = next(i for i in items if i.project == "P22" and i.parent_key is not None)
    new = dataclasses.replace(
        template, external_id="P22-9999", key="P22-9999", links=(), updated_at=LATER
    )
    await _save(sessionmaker, source_id, [new])
    assert await _touched(sessionmaker, cfg, {"P22-9999"}) == {"p4"}

    result = await recompute(sessionmaker, cfg, now=LATER, changed={SOURCE: {"P22-9999"}})

    assert result.programs == ["p4"]
    scoped = await _stored(sessionmaker)
    await recompute(sessionmaker, cfg, now=LATER)
    assert (await _stored(sessionmaker))["p4"] == scoped["p4"]


async def test_a_changed_item_whose_parent_is_not_stored_is_scoped_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    stored: tuple[ThroughlineConfig, list[TrackerItem], int],
) -> None:
    """A webhook can name an item under a parent the store does not hold (not synced yet,
    or in a project not read): the parent is asked for once, and the change still
    touches the program that reads the item's project."""
    cfg, items, source_id = stored
    template = next(i for i in items if i.project == "P22" and i.parent_key is not None)
    orphan = dataclasses.replace(
        template,
        external_id="P22-9998",
        key="P22-9998",
        parent_key="ELSEWHERE-1",
        links=(),
        updated_at=LATER,
    )
    await _save(sessionmaker, source_id, [orphan])
    # It used to ask for the missing parent forever.
    touched = await asyncio.wait_for(_touched(sessionmaker, cfg, {"P22-9998"}), timeout=30)
    assert touched == {"p4"}


async def test_an_item_moved_out_of_a_program_touches_the_one_it_left_and_the_one_it_joined(
    sessionmaker: async_sessionmaker[AsyncSession],
    stored: tuple[ThroughlineConfig, list[TrackerItem], int],
) -> None:
    cfg, items, source_id = stored
    moving = next(
        i
        for i in items
        if i.project == "P15" and i.key not in _linked(items) and i.parent_key is not None
    )
    await _save(
        sessionmaker,
        source_id,
        [dataclasses.replace(moving, project="P40", parent_key=None, updated_at=LATER)],
    )
    assert await _touched(sessionmaker, cfg, {moving.key}) == {"p3", "p8"}


async def test_a_dependency_onto_a_changed_item_of_another_program_refreshes_the_waiting_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    stored: tuple[ThroughlineConfig, list[TrackerItem], int],
) -> None:
    cfg, items, source_id = stored
    by_key = {i.key: i for i in items}
    # A blocker in one program, not done, holding up work of another program.
    blocker, waiting = next(
        (by_key[link.from_key], link.to_key)
        for i in items
        for link in i.links
        if link.to_key in by_key
        and _program(link.from_key) != _program(link.to_key)
        and by_key[link.from_key].status_category is not StatusCategory.DONE
        and by_key[link.to_key].status_category is not StatusCategory.DONE
    )
    owner, dependent = _program(blocker.key), _program(waiting)
    done = dataclasses.replace(
        blocker, status="Done", status_category=StatusCategory.DONE, updated_at=LATER
    )
    await _save(sessionmaker, source_id, [done])
    touched = await _touched(sessionmaker, cfg, {blocker.key})
    assert {owner, dependent} <= touched
    assert len(touched) < len(cfg.programs)
    before = await _stored(sessionmaker)

    result = await recompute(sessionmaker, cfg, now=LATER, changed={SOURCE: {blocker.key}})

    assert set(result.programs) == touched
    scoped = await _stored(sessionmaker)
    assert scoped[dependent][1]["dependencies"] != before[dependent][1]["dependencies"]
    await recompute(sessionmaker, cfg, now=LATER)
    after = await _stored(sessionmaker)
    assert {k: after[k] for k in touched} == {k: scoped[k] for k in touched}


async def test_a_deleted_item_named_by_its_tracker_id_touches_the_program_it_counted_in(
    sessionmaker: async_sessionmaker[AsyncSession],
    stored: tuple[ThroughlineConfig, list[TrackerItem], int],
) -> None:
    cfg, items, source_id = stored
    gone = next(
        i
        for i in items
        if i.project == "P31" and i.key not in _linked(items) and i.parent_key is not None
    )
    async with sessionmaker() as session:
        deletion = Deletion(SOURCE, gone.external_id, LATER)
        await records.save_page(session, source_id, Page("change", [], [deletion]), now=LATER)
        keys = await scoping.keys_of(session, source_id, [gone.external_id])
        await session.commit()
    assert keys == [gone.key]
    assert await _touched(sessionmaker, cfg, set(keys)) == {"p6"}

    result = await refresh_rollups(
        sessionmaker, cfg, {SOURCE}, changed=True, keys={SOURCE: set(keys)}, now=LATER
    )

    assert result is not None
    assert result.programs == ["p6"]
    async with sessionmaker() as session:
        assert gone.key not in set(
            await session.scalars(
                select(ProgramItemRow.key).where(ProgramItemRow.source_id == source_id)
            )
        )


async def test_items_a_sync_stored_are_named_by_when_they_were_stored(
    sessionmaker: async_sessionmaker[AsyncSession],
    stored: tuple[ThroughlineConfig, list[TrackerItem], int],
) -> None:
    _, items, source_id = stored
    changed = [dataclasses.replace(i, updated_at=LATER) for i in items[:3]]
    await _save(sessionmaker, source_id, changed)
    async with sessionmaker() as session:
        found = await scoping.keys_synced_since(session, source_id, LATER)
    assert sorted(found) == sorted(i.key for i in changed)
