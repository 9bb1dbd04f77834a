"""Recompute: what a recomputation of 100,000 items costs beside reading them, and after a
change to one program of ten.

Targets (issue #20), in one run on each database configured:
- a full recompute (load, compute, store) ≤ 3× the time to read the same rows from the
  store (items, their status history and links, as plain rows through SQLAlchemy Core);
- recomputing after a change touching one program of ten ≤ 10 % of a full recompute;
- storing a recompute's documents writes only what changed: a second recompute of
  unchanged data rewrites no program's dependency map, roadmap or resources;
- the pure roll-up of 100,000 items ≤ 2 s is measured by the ``rollup`` benchmark.

The change is what a webhook burst does: 50 stories of one program's project (on no
dependency: a linked item touches the programs along its links too) finish; the recompute
is asked for their keys, as the worker asks for it. Beside it, in the same run: the
recompute of every program reading the changed source (how a change was recomputed before
#20), and whether that full run rewrote any of the changed program's documents (it must
not: the scoped run stored what a full run computes).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.recompute import RecomputeResult, recompute
from app.store import records
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.store.tables import ItemRow, LinkRow, ProgramRow, ProgramStatusRow, TransitionRow
from bench.databases import backends, scratch_database
from bench.report import Figure, Section
from bench.rollup import NOW, SIZES, SOURCE, _source_id, _store, config, dataset
from connectors.base import Page
from vocabulary import StatusCategory

CHANGED_PROJECT = "P15"
"""A project of program p3 (projects P15–P19): one program of ten."""
CHANGED_ITEMS = 50


async def _read_rows(engine: AsyncEngine) -> tuple[float, int]:
    """Seconds to read every item, transition and link row, and how many rows."""
    started = time.perf_counter()
    rows = 0
    async with engine.connect() as connection:
        for table in (ItemRow.__table__, TransitionRow.__table__, LinkRow.__table__):
            rows += len((await connection.execute(select(table))).all())
    return time.perf_counter() - started, rows


async def _program_id(engine: AsyncEngine, key: str) -> int:
    async with engine.connect() as connection:
        found = await connection.scalar(select(ProgramRow.id).where(ProgramRow.key == key))
    assert found is not None
    return int(found)


async def _digests(engine: AsyncEngine) -> dict[int, dict[str, str]]:
    async with engine.connect() as connection:
        found = await connection.execute(
            select(ProgramStatusRow.program_id, ProgramStatusRow.digests)
        )
        return {program_id: digests or {} for program_id, digests in found}


def _rewritten(
    before: dict[int, dict[str, str]],
    after: dict[int, dict[str, str]],
    only: Collection[int] | None = None,
) -> int:
    return sum(
        1
        for program, digests in after.items()
        if only is None or program in only
        for name, d in digests.items()
        if before.get(program, {}).get(name) != d
    )


def _total(result: RecomputeResult) -> float:
    return (
        result.load_seconds
        + result.compute_seconds
        + result.store_seconds
        + (result.portfolio_seconds)
    )


def _parts(result: RecomputeResult) -> str:
    return (
        f"{len(result.programs)} programs; load {result.load_seconds:.2f} s, compute "
        f"{result.compute_seconds:.2f} s, store {result.store_seconds:.2f} s, portfolio "
        f"{result.portfolio_seconds:.2f} s"
    )


async def _database(section: Section, name: str) -> None:
    cfg = config()
    items = dataset(SIZES[-1])
    async with scratch_database(name) as url:
        await _store(url, items, cfg)
        engine = make_engine(url)
        writer, reader = make_sessionmaker(engine), make_sessionmaker(engine, read_only=True)
        read_seconds, rows = await _read_rows(engine)
        await recompute(writer, cfg, now=NOW, read_sessionmaker=reader)
        # The measured full run is the second one: the first has no snapshot of the day yet.
        full = await recompute(
            writer, cfg, now=NOW + timedelta(minutes=1), read_sessionmaker=reader
        )
        before = await _digests(engine)
        same = await recompute(
            writer, cfg, now=NOW + timedelta(minutes=1, seconds=1), read_sessionmaker=reader
        )
        unchanged = await _digests(engine)
        section.add(
            Figure(
                f"{name}: full recompute of {len(items):,} items",
                _total(full),
                "s",
                target=f"≤ 3× reading the rows ({3 * read_seconds:.2f} s)",
                met=_total(full) <= 3 * read_seconds,
                baseline=f"reading the same {rows:,} rows (items, history, links): "
                f"{read_seconds:.2f} s",
                note=_parts(full),
            )
        )
        rewritten = _rewritten(before, unchanged)
        written_maps = sum(
            1
            for program, digests in unchanged.items()
            for doc in ("dependencies", "roadmap", "resources")
            if before[program].get(doc) != digests.get(doc)
        )
        section.add(
            Figure(
                f"{name}: documents rewritten by a recompute of unchanged data",
                rewritten,
                "documents",
                target="dependency maps, roadmaps and resources: none",
                met=written_maps == 0,
                baseline=f"{5 * len(unchanged)} program documents stored before #20, each run",
                note=f"{_total(same):.2f} s; the status and portfolio documents carry "
                "forecasts that move with the clock (the week's elapsed part)",
            )
        )
        source_id = await _source_id(writer)
        p3 = await _program_id(engine, "p3")
        # Items on no dependency: a linked item touches the programs along its links too.
        linked = {k for i in items for link in i.links for k in (link.from_key, link.to_key)}
        at = NOW + timedelta(minutes=2)
        finished = [
            dataclasses.replace(
                i, status="Done", status_category=StatusCategory.DONE, updated_at=at
            )
            for i in items
            if i.project == CHANGED_PROJECT
            and i.status_category is not StatusCategory.DONE
            and i.key not in linked
        ][:CHANGED_ITEMS]
        async with session_scope(writer) as session:
            await records.save_page(session, source_id, Page(CHANGED_PROJECT, finished), now=at)
        # As the webhook worker asks after a batch: the keys of the items it stored.
        started = time.process_time()
        one = await recompute(
            writer,
            cfg,
            now=at,
            sources={SOURCE},
            changed={SOURCE: {i.key for i in finished}},
            read_sessionmaker=reader,
        )
        one_cpu = time.process_time() - started
        after_one = await _digests(engine)
        # Before #20: every program reading the changed source, at the same moment.
        whole = await recompute(writer, cfg, now=at, sources={SOURCE}, read_sessionmaker=reader)
        after_whole = await _digests(engine)
        section.add(
            Figure(
                f"{name}: recompute after {CHANGED_ITEMS} items of one program of ten changed",
                _total(one),
                "s",
                target=f"≤ 10 % of a full recompute ({0.1 * _total(full):.2f} s)",
                met=_total(one) <= 0.1 * _total(full) and one.programs == ["p3"],
                baseline=f"full recompute {_total(full):.2f} s; every program of the changed "
                f"source (before #20) {_total(whole):.2f} s",
                note=_parts(one)
                + f"; {one.items:,} items loaded; process CPU {one_cpu:.2f} s; documents "
                f"written {_rewritten(unchanged, after_one)} of {5 * len(after_one)}; the full "
                f"run after it rewrote {_rewritten(after_one, after_whole, {p3})} documents of p3 "
                "(0: the scoped run stored what a full run computes)",
            )
        )
        async with engine.connect() as connection:
            revisions = await connection.scalar(select(func.sum(ProgramStatusRow.revision)))
        print(f"  (revisions counted: {revisions})", flush=True)
        await engine.dispose()


async def run() -> Section:
    section = Section(
        "Recompute: beside reading the rows, and after a change to one program",
        f"{SIZES[-1]:,} items in 10 programs of 5 outcomes (the roll-up benchmark's data). "
        f"Load average at the start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (a "
        "shared machine: the timings carry its load).",
    )
    for name in backends():
        await _database(section, name)
    return section
