"""Bulk newer-wins upsert throughput against a row-by-row ORM baseline, same data, same run.

Target: the store writes at least 30,000 items/s on SQLite and on PostgreSQL (a 100k-item
full sync must not be bound by its writes), and the bulk path beats the row-by-row
baseline by ≥ 10×.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.store import records
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.store.tables import ItemRow
from bench.databases import backends, scratch_database
from bench.report import Figure, Section
from connectors.base import LinkRef, Page, TrackerItem
from vocabulary import ItemKind, StatusCategory

N_ITEMS = 20_000
N_BASELINE = 2_000
TARGET = 30_000
T0 = datetime(2026, 11, 2, tzinfo=UTC)


def make_items(n: int, *, offset: timedelta = timedelta(0)) -> list[TrackerItem]:
    return [
        TrackerItem(
            source="bench",
            external_id=str(10_000 + i),
            key=f"BEN-{i}",
            kind=ItemKind.STORY,
            title=f"Benchmark item {i}",
            status="In Progress",
            status_category=StatusCategory.IN_PROGRESS,
            updated_at=T0 + offset,
            project="BEN",
            labels=("bench",),
            estimate=3.0,
            links=(LinkRef("bench", f"BEN-{i}", "bench", f"BEN-{i + 1}"),) if i % 5 == 0 else (),
        )
        for i in range(n)
    ]


async def _measure(url: str) -> tuple[float, float, float]:
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    async with session_scope(sessionmaker) as session:
        source = await records.upsert_source(
            session, name="bench", kind="jira", base_url="https://bench.test", options={}, now=T0
        )
    items = make_items(N_ITEMS)
    started = time.perf_counter()
    for start in range(0, N_ITEMS, 1000):
        async with session_scope(sessionmaker) as session:
            await records.save_page(session, source.id, _page(items[start : start + 1000]), now=T0)
    bulk = N_ITEMS / (time.perf_counter() - started)

    newer = make_items(N_ITEMS, offset=timedelta(minutes=1))
    started = time.perf_counter()
    for start in range(0, N_ITEMS, 1000):
        async with session_scope(sessionmaker) as session:
            await records.save_page(session, source.id, _page(newer[start : start + 1000]), now=T0)
    update = N_ITEMS / (time.perf_counter() - started)

    # Baseline: the obvious ORM loop (select each row, compare, assign), same batches.
    baseline_items = make_items(N_BASELINE, offset=timedelta(minutes=2))
    started = time.perf_counter()
    for start in range(0, N_BASELINE, 1000):
        async with session_scope(sessionmaker) as session:
            for item in baseline_items[start : start + 1000]:
                row = await session.scalar(
                    select(ItemRow).where(
                        ItemRow.source_id == source.id, ItemRow.external_id == item.external_id
                    )
                )
                if row is not None and item.updated_at >= row.updated_at:
                    row.title, row.updated_at = item.title, item.updated_at
    baseline = N_BASELINE / (time.perf_counter() - started)
    await engine.dispose()
    return bulk, update, baseline


def _page(items: list[TrackerItem]) -> Page:
    return Page("BEN", items)


async def run() -> Section:
    section = Section(
        "Store: bulk newer-wins upsert",
        f"{N_ITEMS:,} items (a link on every fifth) in pages of 1,000, each page its own "
        f"transaction; baseline: row-by-row ORM select-and-assign over {N_BASELINE:,} items.",
    )
    for name in backends():
        async with scratch_database(name) as url:
            bulk, update, baseline = await _measure(url)
        section.add(
            Figure(
                f"{name} insert",
                bulk,
                "items/s",
                target="≥ 30,000 items/s",
                met=bulk >= TARGET,
                baseline=f"{baseline:,.0f} items/s row-by-row",
                note=f"{bulk / baseline:.1f}× baseline",
            )
        )
        section.add(
            Figure(
                f"{name} newer-wins update",
                update,
                "items/s",
                target="≥ 30,000 items/s",
                met=update >= TARGET,
            )
        )
    return section
