"""Flow analytics and what-if: reading a big program's flow, asking a what-if.

Targets (issue #22):
- a program's flow data (cycle times, throughput, WIP, cumulative flow, ageing, net flow)
  for a 100,000-item program in ≤ 1 s from the store;
- a what-if (forecast before and after, 10,000 trials per outcome) on a 10,000-item
  program in ≤ 1 s at p95.

The items are the roll-up benchmark's (``bench.rollup.dataset``): stories with status
history, a fifth of them linked, in fifty projects; here one program selects them all,
through five outcomes of ten projects each. Baseline in the same run: recomputing the
program (what a stored roll-up costs), which a what-if runs twice without storing. The
100,000-item store is written in bulk (the rows a sync and a recomputation write).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

from sqlalchemy import insert

from app.config import ThroughlineConfig, parse_config
from app.programs import flow, lookup, whatif
from app.programs.recompute import recompute
from app.store import catalog, records
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.store.tables import ItemRow, ProgramItemRow, TransitionRow
from bench import rollup as data
from bench.databases import backends, scratch_database
from bench.report import Figure, Section
from vocabulary import ItemKind

FLOW_ITEMS, WHAT_IF_ITEMS = 100_000, 10_000
FLOW_READS, WHAT_IFS = 5, 10
CHANGES = whatif.ScenarioChanges(remove_keys=["P0-1", "P1-1"], add_items=40, pace_factor=1.1)


def config() -> ThroughlineConfig:
    """One program of five outcomes, each selecting ten of the fifty projects."""
    lines = [
        "server: {auth: none}",
        "sources:",
        f"  - {{name: {data.SOURCE}, kind: jira, url: 'https://bench.test', "
        "auth: {token_env: T}}",
        "programs:",
        "  - key: big",
        "    name: Big program",
        "    outcomes:",
    ]
    for o in range(5):
        projects = ", ".join(f"P{p}" for p in range(o * 10, o * 10 + 10))
        target = data.TODAY + timedelta(days=90 + 30 * o)
        lines.append(
            f"      - {{key: o{o}, name: Outcome {o}, target: {target}, "
            f"match: [{{source: {data.SOURCE}, projects: [{projects}]}}]}}"
        )
    return parse_config("\n".join(lines))


def _load() -> str:
    """The machine's load, which wall-clock figures on a shared machine depend on."""
    one, _, _ = os.getloadavg()
    return f"load average {one:.1f} on {os.cpu_count()} cores"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


async def _prepared(url: str, n_items: int, cfg: ThroughlineConfig) -> float:
    """Store ``n_items`` through the sync's write path and recompute the program once;
    the recompute's seconds."""
    await data._store(url, data.dataset(n_items), cfg)
    engine = make_engine(url)
    started = time.perf_counter()
    await recompute(make_sessionmaker(engine), cfg, now=data.NOW)
    seconds = time.perf_counter() - started
    await engine.dispose()
    return seconds


async def _bulk(url: str, n_items: int, cfg: ThroughlineConfig) -> None:
    """Store ``n_items`` with their history and the program's memberships in bulk.

    The flow reads only what is stored, so this writes the rows a sync and a
    recomputation would write, without their cost (minutes at 100,000 items).
    """
    items = data.dataset(n_items)
    engine = make_engine(url)
    async with session_scope(make_sessionmaker(engine)) as session:
        await catalog.apply_config(session, cfg, now=data.NOW)
        source = await records.get_source(session, data.SOURCE)
        program = await lookup.get_program(session, cfg, "big")
        assert source is not None
        outcome_of = {f"P{p}": f"o{p // 10}" for p in range(50)}
        rows = [records.item_row(source.id, i, data.NOW) for i in items]
        history = [
            {
                "source_id": source.id,
                "item_external_id": i.external_id,
                "external_id": t.external_id,
                "at": t.at,
                "from_status": t.from_status,
                "to_status": t.to_status,
                "from_category": None,
                "to_category": str(t.to_category),
                "author": None,
            }
            for i in items
            for t in i.transitions or ()
        ]
        members = [
            {
                "program_id": program.id,
                "facet": "outcome",
                "name": outcome_of[i.project or ""],
                "source_id": source.id,
                "key": i.key,
            }
            for i in items
            if i.kind is not ItemKind.EPIC
        ]
        for table, values in ((ItemRow, rows), (TransitionRow, history), (ProgramItemRow, members)):
            for start in range(0, len(values), 5000):
                await session.execute(insert(table), values[start : start + 5000])
    await engine.dispose()


async def _flow_reads(
    url: str, cfg: ThroughlineConfig
) -> tuple[list[float], list[float], int, int]:
    """Wall-clock and CPU seconds of each read (CPU: this process, the database's
    thread included — what the read costs on a machine others share)."""
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    times, cpu, count, statuses = [], [], 0, 0
    for _ in range(FLOW_READS):
        async with session_scope(sessionmaker) as session:
            program = await lookup.get_program(session, cfg, "big")
            started, used = time.perf_counter(), time.process_time()
            found = await flow.read_flow(session, program, outcome=None, weeks=12, now=data.NOW)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
            count, statuses = found.cycle_time.count, len(found.cfd_statuses)
    await engine.dispose()
    return times, cpu, count, statuses


async def _what_ifs(url: str, cfg: ThroughlineConfig) -> tuple[list[float], list[float]]:
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    times, cpu = [], []
    for _ in range(WHAT_IFS):
        async with session_scope(sessionmaker) as session:
            program = await lookup.get_program(session, cfg, "big")
            started, used = time.perf_counter(), time.process_time()
            await whatif.what_if(session, program, CHANGES, now=data.NOW)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
    await engine.dispose()
    return times, cpu


async def run() -> Section:
    cfg = config()
    section = Section(
        "Flow analytics and what-if",
        f"One program over the roll-up benchmark's items; flow read {FLOW_READS} times at "
        f"{FLOW_ITEMS:,} items, what-if asked {WHAT_IFS} times at {WHAT_IF_ITEMS:,} items "
        f"({cfg.programs[0].forecast.trials:,} trials per outcome, 5 outcomes).",
    )
    for kind in backends():
        async with scratch_database(kind) as url:
            await _bulk(url, FLOW_ITEMS, cfg)
            times, cpu, count, statuses = await _flow_reads(url, cfg)
            section.add(
                Figure(
                    f"{kind}: flow of a {FLOW_ITEMS:,}-item program, median",
                    statistics.median(times),
                    "s",
                    target="≤ 1 s",
                    met=statistics.median(times) <= 1.0,
                    note=f"slowest {max(times):.3f} s; CPU median {statistics.median(cpu):.3f} s; "
                    f"{count:,} cycle times; cumulative flow by {statuses} statuses too; "
                    f"{_load()}",
                )
            )
        async with scratch_database(kind) as url:
            recomputed = await _prepared(url, WHAT_IF_ITEMS, cfg)
            times, cpu = await _what_ifs(url, cfg)
            p95 = _p95(times)
            section.add(
                Figure(
                    f"{kind}: what-if on a {WHAT_IF_ITEMS:,}-item program, p95",
                    p95,
                    "s",
                    target="≤ 1 s",
                    met=p95 <= 1.0,
                    baseline=f"recomputing and storing the program {recomputed:.2f} s",
                    note=f"median {statistics.median(times):.3f} s; CPU p95 {_p95(cpu):.3f} s; "
                    f"{_load()}",
                )
            )
    return section
