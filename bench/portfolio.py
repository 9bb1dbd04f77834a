"""Portfolio: what rebuilding it costs after every recomputation, and reading it.

The organisation of ``bench.rollup`` (10 programs, 50 outcomes, 20 % of items linked, a
fifth of the links across projects and so mostly across programs) with 300 people, a
third of them working in two programs, and five goals over two to four programs and
outcomes each. Measured on every configured database:

- a full recomputation, and the share of it spent rebuilding the portfolio;
- a recomputation of one program, which rebuilds the portfolio from every stored part
  (the case after a sync or a webhook batch): the rebuild should cost at most a quarter
  of the recomputation it follows. The organisation is deliberately link-heavy: a fifth
  of its 20,000 links cross projects at random, so thousands cross programs;
- reading ``/api/portfolio`` (p95; target ≤ 30 ms, like a program's status) and the pure
  build from stored parts (``app.programs.portfolio.build``), to separate the trials from
  the store.
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import time
from collections.abc import Sequence

import httpx

from app.config import ThroughlineConfig, parse_config
from app.config.settings import Settings
from app.programs import portfolio
from app.programs.recompute import RecomputeResult, recompute
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.web.factory import create_app
from bench import rollup as org
from bench.databases import backends, scratch_database
from bench.report import Figure, Section
from connectors.base import TrackerItem

ITEMS = 100_000
PEOPLE = 300
READS = 200
GOALS = 5


def staffed(items: Sequence[TrackerItem], seed: int = 3) -> list[TrackerItem]:
    """Each person in a home program; a third of them also in another one."""
    r = random.Random(seed)
    home = {p: r.randrange(org.PROGRAMS) for p in range(PEOPLE)}
    second = {p: r.randrange(org.PROGRAMS) for p in range(PEOPLE) if r.random() < 1 / 3}
    by_program: dict[int, list[int]] = {}
    for person, program in (*home.items(), *second.items()):
        by_program.setdefault(program, []).append(person)
    found = []
    for item in items:
        project = int((item.project or "P0")[1:])
        program = project // org.OUTCOMES_PER_PROGRAM
        person = r.choice(by_program.get(program) or list(home))
        found.append(dataclasses.replace(item, assignee=f"Person {person}"))
    return found


def config() -> ThroughlineConfig:
    base = org.config()
    r = random.Random(4)
    text = ["server: {auth: none}", "sources:"]
    text.append(
        f"  - {{name: {org.SOURCE}, kind: jira, url: 'https://bench.test', auth: {{token_env: T}}}}"
    )
    text.append("programs:")
    for program in base.programs:
        text += [f"  - key: {program.key}", f"    name: {program.name}", "    owner: Someone"]
        text.append("    outcomes:")
        for o in program.outcomes:
            text.append(
                f"      - {{key: {o.key}, name: {o.name}, target: {o.target}, "
                f"match: [{{source: {org.SOURCE}, projects: [{o.match[0].projects[0]}]}}]}}"
            )
    text.append("goals:")
    for g in range(GOALS):
        text += [f"  - key: g{g}", f"    name: Goal {g}", "    owner: Lead", "    period: 2027"]
        text.append("    contributors:")
        for program in r.sample(base.programs, r.randint(2, 4)):
            if r.random() < 0.5:
                text.append(f"      - {{program: {program.key}, weight: {r.randint(1, 3)}}}")
            else:
                text.append(
                    f"      - {{program: {program.key}, outcome: {program.outcomes[0].key}}}"
                )
        text.append(
            "    key_results: [{key: k, name: K, metric: on_time, target: 80}, "
            "{key: p, name: P, metric: percent_done, target: 75}]"
        )
    return parse_config("\n".join(text))


async def _reads(url: str, cfg: ThroughlineConfig) -> list[float]:
    settings = Settings(_env_file=None, database_url=url, server={"cache_seconds": 0})
    app = create_app(settings, config=cfg)
    timings = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://bench") as client,
    ):
        for _ in range(READS):
            started = time.perf_counter()
            response = await client.get("/api/portfolio")
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200
    return timings


def _total(result: RecomputeResult) -> float:
    return (
        result.load_seconds
        + result.compute_seconds
        + result.store_seconds
        + result.portfolio_seconds
    )


async def run() -> Section:
    cfg = config()
    items = staffed(org.dataset(ITEMS))
    section = Section(
        "Portfolio",
        f"{ITEMS:,} items, {org.PROGRAMS} programs, {org.PROGRAMS * org.OUTCOMES_PER_PROGRAM} "
        f"outcomes, {PEOPLE} people (a third in two programs), {GOALS} goals",
    )
    for kind in backends():
        async with scratch_database(kind) as url:
            await org._store(url, items, cfg)
            engine = make_engine(url)
            sessionmaker = make_sessionmaker(engine)
            full = await recompute(sessionmaker, cfg, now=org.NOW)
            section.add(
                Figure(
                    f"{kind}: full recompute, of it rebuilding the portfolio",
                    full.portfolio_seconds,
                    "s",
                    note=f"of {_total(full):.1f} s",
                )
            )
            one = await recompute(sessionmaker, cfg, now=org.NOW, programs=["p0"])
            section.add(
                Figure(
                    f"{kind}: recompute one program, of it rebuilding the portfolio from all parts",
                    one.portfolio_seconds,
                    "s",
                    target="≤ 25 % of the recomputation",
                    met=one.portfolio_seconds <= 0.25 * _total(one),
                    note=f"of {_total(one):.1f} s",
                )
            )
            async with session_scope(sessionmaker) as session:
                parts = await portfolio.load_parts(session, cfg)
                history = await portfolio.load_history(session, cfg, org.TODAY)
            started = time.perf_counter()
            built = portfolio.build(cfg, parts, history, now=org.NOW)
            pure = time.perf_counter() - started
            section.add(
                Figure(
                    f"{kind}: pure build from the stored parts",
                    pure,
                    "s",
                    note=(
                        f"{len(built.dependencies.dependencies):,} dependencies between "
                        f"programs, {built.portfolio.people.shared} people in several"
                    ),
                )
            )
            await engine.dispose()
            timings = await _reads(url, cfg)
            p95 = statistics.quantiles(timings, n=20, method="inclusive")[-1] * 1000
            section.add(
                Figure(
                    f"{kind}: GET /api/portfolio p95", p95, "ms", target="≤ 30 ms", met=p95 <= 30
                )
            )
    return section
