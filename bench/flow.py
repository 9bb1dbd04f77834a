"""Flow analytics and what-if: reading a big program's flow, asking a what-if.

Targets (issue #22):
- a program's flow data (cycle times, throughput, WIP, cumulative flow, ageing, net flow)
  for a 100,000-item program in ≤ 1 s from the store;
- a what-if (forecast before and after, 10,000 trials per outcome) on a 10,000-item
  program in ≤ 1 s at p95.

The items are the roll-up benchmark's (``bench.rollup.dataset``): stories with status
history, a fifth of them linked, in fifty projects; here one program selects them all,
through five outcomes of ten projects each. The 100,000-item store is written in bulk
(the rows a sync and a recomputation write).

The what-if is asked ``WHAT_IFS`` times in a fresh process state (the first asks load the
program; the rest find it loaded while its data stays the same), and once more with a
change of a team's pace and a team added. Baselines in the same run: recomputing the
program (what a stored roll-up costs), and the what-if as it was first built — loading
the program and running the whole roll-up twice, for every question (``_whole``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import zoneinfo
from datetime import timedelta

from sqlalchemy import insert

from app.config import ThroughlineConfig, parse_config
from app.programs import flow, loading, lookup, plans, recompute, whatif
from app.programs.recompute import recompute as recompute_all
from app.store import catalog, records
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.store.tables import ItemRow, ProgramItemRow, TransitionRow
from bench import rollup as data
from bench.databases import backends, scratch_database
from bench.report import Figure, Section
from rollup import whatif as scenarios
from rollup.graph import DependencyGraph
from rollup.mapping import ItemIndex
from vocabulary import ItemKind

FLOW_ITEMS, WHAT_IF_ITEMS = 100_000, 10_000
FLOW_READS, WHAT_IFS = 5, 10
CHANGES = whatif.ScenarioChanges(remove_keys=["P0-1", "P1-1"], add_items=40, pace_factor=1.1)
BY_TEAM = whatif.ScenarioChanges(
    pace_factor={"core": 1.5},
    add_teams=[whatif.NewTeam(name="Contractors", pace_items_per_week=20)],
)


def config() -> ThroughlineConfig:
    """One program of five outcomes, each selecting ten of the fifty projects; a team of
    the first half of the people."""
    members = ", ".join(sorted({i.assignee for i in data.dataset(100) if i.assignee})[:5])
    lines = [
        "server: {auth: none}",
        f"teams: [{{key: core, name: Core, members: [{members}]}}]",
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
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


async def _prepared(url: str, n_items: int, cfg: ThroughlineConfig) -> float:
    """Store ``n_items`` through the sync's write path and recompute the program once;
    the recompute's seconds."""
    await data._store(url, data.dataset(n_items), cfg)
    engine = make_engine(url)
    started = time.perf_counter()
    await recompute_all(make_sessionmaker(engine), cfg, now=data.NOW)
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


def _whole(
    cfg: ThroughlineConfig, loaded: recompute.Loaded, changes: whatif.ScenarioChanges
) -> None:
    """The what-if as first built: the whole roll-up, before and after the change."""
    program = cfg.programs[0]
    with recompute.frozen_heap():
        stands = loading.to_program(program)
        index = ItemIndex(loaded.items)
        as_of = data.NOW.astimezone(zoneinfo.ZoneInfo(program.timezone)).date()
        trend = recompute.trend_of(program, loaded, as_of)
        graph = DependencyGraph(loaded.dependencies, index)
        recompute.evaluate_program(program, stands, index, graph, trend, data.NOW)
        edited, items = scenarios.apply(
            stands, loaded.items, changes.scenario([o.key for o in program.outcomes]), now=data.NOW
        )
        changed = ItemIndex(items)
        recompute.evaluate_program(
            program,
            edited,
            changed,
            DependencyGraph(loaded.dependencies, changed),
            trend,
            data.NOW,
        )


async def _what_ifs(
    url: str, cfg: ThroughlineConfig, changes: whatif.ScenarioChanges, *, whole: bool = False
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each what-if, the first with nothing loaded yet."""
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    staff = plans.Staff.of(cfg)
    times, cpu = [], []
    whatif.PREPARED.clear()
    for _ in range(WHAT_IFS):
        async with session_scope(sessionmaker) as session:
            program = await lookup.get_program(session, cfg, "big")
            started, used = time.perf_counter(), time.process_time()
            if whole:
                loaded = await recompute.load(session, [program.config], now=data.NOW)
                await asyncio.to_thread(_whole, cfg, loaded, changes)
            else:
                await whatif.what_if(session, program, changes, now=data.NOW, staff=staff)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
    await engine.dispose()
    return times, cpu


def _what_if_figure(name: str, times: list[float], cpu: list[float], baseline: str) -> Figure:
    p95 = _p95(times)
    return Figure(
        name,
        p95,
        "s",
        target="≤ 1 s",
        met=p95 <= 1.0,
        baseline=baseline,
        note=f"first (loading) {times[0]:.3f} s, CPU {cpu[0]:.3f} s; median "
        f"{statistics.median(times):.3f} s; CPU p95 {_p95(cpu):.3f} s; {_load()}",
    )


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
            whole, whole_cpu = await _what_ifs(url, cfg, CHANGES, whole=True)
            times, cpu = await _what_ifs(url, cfg, CHANGES)
            teams, teams_cpu = await _what_ifs(url, cfg, BY_TEAM)
            baseline = (
                f"recomputing and storing the program {recomputed:.2f} s; the whole roll-up "
                f"twice per question p95 {_p95(whole):.3f} s (CPU p95 {_p95(whole_cpu):.3f} s)"
            )
            section.add(
                _what_if_figure(
                    f"{kind}: what-if on a {WHAT_IF_ITEMS:,}-item program, p95",
                    times,
                    cpu,
                    baseline,
                )
            )
            section.add(
                _what_if_figure(
                    f"{kind}: what-if by team on a {WHAT_IF_ITEMS:,}-item program, p95",
                    teams,
                    teams_cpu,
                    baseline,
                )
            )
    return section
