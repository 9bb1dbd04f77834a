"""Roadmap and resources: what they add to every recomputation, and reading them.

Issue #11 sets no speed target. The roadmap (a forecast per bar), people matching,
workloads and the forecasts per team are computed inside every recomputation, so they are
measured against the pure roll-up of the same programs in the same run (the baseline):
the cost a program manager pays for them is that ratio. Reading the roadmap and rendering
its page are timed too, against reading the program's stored dependency map.

Dataset: ``bench.rollup``'s 10 programs of 5 outcomes at 10k, 50k and 100k items, with
300 assignees in 10 teams (a tenth of the items unassigned).
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import time
import zoneinfo
from collections.abc import Sequence

import httpx

from app.config.settings import Settings
from app.programs import loading, plans
from app.programs.recompute import frozen_heap, recompute
from app.store.engine import make_engine, make_sessionmaker
from app.web.factory import create_app
from bench.databases import scratch_database
from bench.report import Figure, Section
from bench.rollup import NOW, SIZES, TODAY, _store, config, dataset, work_items
from rollup.graph import DependencyGraph
from rollup.mapping import ItemIndex
from rollup.model import WorkItem
from rollup.people import Team
from rollup.status import ProgramRollup, evaluate
from rollup.trend import Trend

PEOPLE, TEAMS = 300, 10
READS = 100


def _staffed(items: Sequence[WorkItem]) -> list[WorkItem]:
    """The dataset's items spread over ``PEOPLE`` assignees (their names vary in case)."""
    r = random.Random(3)
    spread = []
    for item in items:
        if item.assignee is None:
            spread.append(item)
            continue
        n = r.randrange(PEOPLE)
        name = f"Person {n}" if r.random() < 0.8 else f"PERSON {n}"
        spread.append(dataclasses.replace(item, assignee=name))
    return spread


def _staff() -> plans.Staff:
    teams = tuple(
        Team(f"t{t}", f"Team {t}", tuple(f"person {n}" for n in range(t, PEOPLE, TEAMS)))
        for t in range(TEAMS)
    )
    return plans.Staff(teams=teams, wip_limit=3, weeks=6)


def _measure(items: list[WorkItem], deps: list, cfg) -> tuple[float, float, int]:  # type: ignore[no-untyped-def, type-arg]
    """Seconds of the pure roll-up and of the plans on top of it, and bars drawn."""
    staff = _staff()
    with frozen_heap():
        started = time.perf_counter()
        index = ItemIndex(items)
        graph = DependencyGraph(deps, index)
        rollups: list[tuple[ProgramRollup, zoneinfo.ZoneInfo]] = []
        for program in cfg.programs:
            zone = zoneinfo.ZoneInfo(program.timezone)
            rollups.append(
                (
                    evaluate(
                        loading.to_program(program),
                        index,
                        graph,
                        Trend(),
                        as_of=TODAY,
                        zone=zone,
                        rng=random.Random(program.key),
                    ),
                    zone,
                )
            )
        rolled = time.perf_counter() - started
        started = time.perf_counter()
        bars = 0
        for rollup, zone in rollups:
            found = plans.compute(rollup, staff, zone=zone, seed=0, now=NOW)
            bars += len(found.bars)
        planned = time.perf_counter() - started
    return rolled, planned, bars


async def _reads(url: str, cfg) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    app = create_app(Settings(_env_file=None, database_url=url), config=cfg)
    found: dict[str, list[float]] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://127.0.0.1:8000"
        ) as client,
    ):
        for path in (
            "/api/programs/p0/dependencies",
            "/api/programs/p0/roadmap",
            "/api/programs/p0/resources",
            "/programs/p0/roadmap",
        ):
            times = []
            for n in range(READS):
                # A distinct query string each time: pages are cached per address.
                started = time.perf_counter()
                response = await client.get(f"{path}?n={n}", headers={"Accept": "text/html"})
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code in (200, 422), (path, response.status_code)
            found[path] = times
    return found


async def run() -> Section:
    section = Section(
        "Roadmap and resources",
        "The pure roll-up of 10 programs × 5 outcomes (the baseline), then the roadmap, "
        f"people matching, workloads and forecasts per team on top ({PEOPLE} people in "
        f"{TEAMS} teams); reads of the stored documents over in-process HTTP on SQLite.",
    )
    cfg = config()
    for size in SIZES:
        items = dataset(size)
        values, deps = work_items(items)
        rolled, planned, bars = _measure(_staffed(values), deps, cfg)
        section.add(
            Figure(
                f"{size:,} items: roadmap and resources of every program",
                planned,
                "s",
                target="none set (issue #11)",
                baseline=f"{rolled:.2f} s for the pure roll-up of the same programs",
                note=f"+{100 * planned / rolled:.0f} % on the roll-up; {bars:,} bars",
            )
        )
    items = [
        dataclasses.replace(i, assignee=f"Person {n % PEOPLE}") if i.assignee else i
        for n, i in enumerate(dataset(SIZES[-1]))
    ]
    async with scratch_database("SQLite") as url:
        await _store(url, items, cfg)
        engine = make_engine(url)
        await recompute(make_sessionmaker(engine), cfg, now=NOW)
        await engine.dispose()
        reads = await _reads(url, cfg)
    status = statistics.quantiles(reads["/api/programs/p0/dependencies"], n=20, method="inclusive")[
        -1
    ]
    for path, times in reads.items():
        if path == "/api/programs/p0/dependencies":
            continue
        p95 = statistics.quantiles(times, n=20, method="inclusive")[-1]
        section.add(
            Figure(
                f"{SIZES[-1]:,} items: GET {path}, p95",
                p95,
                "ms",
                target="none set (issue #11)",
                baseline=f"{status:.1f} ms for GET /api/programs/p0/dependencies (a stored "
                "document too)",
                note=f"p50 {statistics.median(times):.1f} ms over {READS} reads",
            )
        )
    return section
