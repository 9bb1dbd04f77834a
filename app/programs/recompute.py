"""Recomputing programs' roll-ups after their data changed, and storing the results.

``recompute`` is called after every sync and every batch of webhook events. It loads the
items, dependencies and snapshots of the affected programs once, computes every roll-up
in a worker thread (the event loop keeps serving), and stores, per program in its own
transaction: the status documents, the items behind each figure, the derived risks'
openings and closings, and today's snapshots (with what a weekly report of the day
needs). Reading a status afterwards is a lookup.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import random
import time
import zoneinfo
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

import orjson
from pydantic import BaseModel
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ProgramConfig, ThroughlineConfig
from app.programs import (
    documents,
    loading,
    membership,
    plans,
    portfolio,
    record,
    risks,
    scoping,
    snapshots,
    watch,
)
from app.programs.documents.portfolio import PortfolioPart
from app.programs.pending import PendingRollups
from app.store.engine import session_scope
from app.store.tables import OutcomeStatusRow, ProgramRow, ProgramStatusRow
from app.telemetry.metrics import Metrics
from rollup import outlook
from rollup.graph import DependencyGraph
from rollup.inputs import Inputs
from rollup.mapping import ItemIndex
from rollup.model import Dependency, Program, SnapshotPoint, WorkItem
from rollup.status import ProgramRollup, evaluate
from rollup.trend import Trend, baselines

log = logging.getLogger(__name__)

BURNUP_DAYS = 182
"""How far back the burnup in a status document reaches (26 weeks)."""


@dataclass(slots=True)
class RecomputeResult:
    programs: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Programs a newer recomputation had already stored."""
    items: int = 0
    dependencies: int = 0
    risks_opened: int = 0
    risks_closed: int = 0
    load_seconds: float = 0.0
    compute_seconds: float = 0.0
    store_seconds: float = 0.0
    portfolio_seconds: float = 0.0


def affected_programs(
    config: ThroughlineConfig,
    sources: Collection[str] | None,
    programs: Collection[str] | None = None,
) -> list[ProgramConfig]:
    """Programs whose outcomes select from any of ``sources`` (all when None), limited to
    ``programs`` when given."""
    return [
        p
        for p in config.programs
        if (sources is None or any(m.source in sources for o in p.outcomes for m in o.match))
        and (programs is None or p.key in programs)
    ]


@dataclass(frozen=True, slots=True)
class Loaded:
    items: list[WorkItem]
    dependencies: list[Dependency]
    program_ids: dict[str, int]
    points: dict[
        str, tuple[list[SnapshotPoint], list[SnapshotPoint], dict[tuple[str, date], Inputs]]
    ]
    source_ids: dict[str, int]


@dataclass(frozen=True, slots=True)
class _Computed:
    config: ProgramConfig
    rollup: ProgramRollup
    status: documents.ProgramStatus
    dependencies: documents.Dependencies
    outcomes: dict[str, documents.OutcomeStatus]
    late: documents.LateList
    members: set[membership.Row]
    plans: plans.Plans
    outlook: documents.Outlook
    portfolio: PortfolioPart


async def recompute(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    *,
    now: datetime,
    sources: Collection[str] | None = None,
    programs: Collection[str] | None = None,
    changed: scoping.Changed | None = None,
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> RecomputeResult:
    """Recompute and store the roll-ups of every program that selects from ``sources``
    (or from a source whose items are linked to theirs).

    ``sources=None`` recomputes every program; ``programs`` limits it to those keys, and
    ``changed`` (the keys of the items a sync or a webhook batch stored, by source) to the
    programs those items touch (``scoping``). A recomputation of some of the programs
    reading a source loads only their items and what those need. Pass the service's
    read-only sessions as ``read_sessionmaker`` so loading does not hold SQLite's write
    lock.
    """
    result = RecomputeResult()
    started = time.perf_counter()
    async with session_scope(read_sessionmaker or sessionmaker) as session:
        # A change in one tracker can make work in another late: programs reading the
        # sources linked to the changed ones are affected too.
        widened = (
            None if sources is None else {*sources, *await loading.linked_sources(session, sources)}
        )
        if changed is not None and sum(map(len, changed.values())) <= scoping.SCOPED_UP_TO:
            touched = await scoping.touched_programs(session, config, changed)
            programs = touched if programs is None else touched & set(programs)
        chosen = affected_programs(config, widened, programs)
        if not chosen:
            return result
        wanted = {m.source for p in chosen for o in p.outcomes for m in o.match}
        some = len(chosen) < len(affected_programs(config, wanted))
        loaded = await load(session, chosen, now=now, scoped=some)
    missing = [p.key for p in chosen if p.key not in loaded.program_ids]
    if missing:
        log.warning("programs %s have no row yet (configuration not applied); skipped", missing)
        result.skipped += missing
        chosen = [p for p in chosen if p.key in loaded.program_ids]
    result.load_seconds = time.perf_counter() - started
    result.items, result.dependencies = len(loaded.items), len(loaded.dependencies)
    started = time.perf_counter()
    computed = await asyncio.to_thread(_compute, chosen, loaded, now, plans.Staff.of(config))
    result.compute_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for part in computed:
        async with session_scope(sessionmaker) as session:
            tally = await _store(session, loaded.program_ids[part.config.key], part, now=now)
        if tally is None:
            result.skipped.append(part.config.key)
            continue
        result.programs.append(part.config.key)
        result.risks_opened += tally.opened
        result.risks_closed += tally.closed
    result.store_seconds = time.perf_counter() - started
    if result.programs:
        # The portfolio spans every program: it is rebuilt from all their stored parts.
        started = time.perf_counter()
        rebuilt = await portfolio.rebuild(
            sessionmaker, config, now=now, read_sessionmaker=read_sessionmaker
        )
        result.portfolio_seconds = time.perf_counter() - started
        result.risks_opened += rebuilt.risks_opened
        result.risks_closed += rebuilt.risks_closed
    log.info(
        "recomputed %d program(s) over %d items in %.2fs (load %.2fs, compute %.2fs, store %.2fs)",
        len(result.programs),
        result.items,
        result.load_seconds + result.compute_seconds + result.store_seconds,
        result.load_seconds,
        result.compute_seconds,
        result.store_seconds,
    )
    return result


def _local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(zoneinfo.ZoneInfo(timezone)).date()


async def load(
    session: AsyncSession,
    chosen: Sequence[ProgramConfig],
    *,
    now: datetime,
    scoped: bool = False,
) -> Loaded:
    """What the roll-ups of ``chosen`` read. ``scoped``: only their items and what those
    need (``scoping.load_items``) rather than every item of their sources — for a few of
    the programs reading a source."""
    names = await loading.source_names(session)
    ids = {name: i for i, name in names.items()}
    wanted = {m.source for p in chosen for o in p.outcomes for m in o.match}
    facets = loading.Facets.of(chosen)
    dependencies = await loading.load_dependencies(session, wanted)
    some = (
        await scoping.load_items(session, names, chosen, wanted, facets, dependencies)
        if scoped
        else None
    )
    if some is None:
        items = await loading.load_items(
            session, names, [ids[s] for s in sorted(wanted) if s in ids], facets
        )
    else:
        items = some
        refs = {i.ref for i in items}
        dependencies = [d for d in dependencies if d.before in refs or d.after in refs]
    loaded = {i.ref for i in items}
    elsewhere = {
        r
        for d in dependencies
        for r in (d.before, d.after)
        if r[0] not in wanted and r not in loaded
    }
    items += await loading.load_items_by_ref(session, ids, names, sorted(elsewhere), facets)
    rows = await session.execute(
        select(ProgramRow.key, ProgramRow.id).where(ProgramRow.key.in_([p.key for p in chosen]))
    )
    program_ids = dict(rows.all())
    points = {}
    for program in (p for p in chosen if p.key in program_ids):
        as_of = _local_day(now, program.timezone)
        reach = max(BURNUP_DAYS, 7 * program.forecast.history_weeks + 14)
        points[program.key] = await loading.load_points(
            session,
            program_ids[program.key],
            since=as_of - timedelta(days=reach),
            baseline_on=program.baseline,
        )
    return Loaded(items, dependencies, program_ids, points, ids)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the objects alive now out of the cyclic garbage collector's full scans.

    A recomputation allocates enough to trigger full collections, and each one would
    rescan every loaded item although none of them can be garbage until it ends (at 100,000
    items that is a fifth of the computing time). Frozen objects are ordinary objects;
    unfreezing hands them back to the collector.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _compute(
    chosen: Sequence[ProgramConfig], loaded: Loaded, now: datetime, staff: plans.Staff
) -> list[_Computed]:
    """Every roll-up and its documents: pure computation, run off the event loop."""
    with frozen_heap():
        return _compute_all(chosen, loaded, now, staff)


def trend_of(config: ProgramConfig, loaded: Loaded, as_of: date) -> Trend:
    """The program's snapshots before ``as_of`` (today's is about to be rewritten)."""
    recent, base, kept = loaded.points[config.key]
    return Trend.of(
        [p for p in recent if p.on < as_of],
        baselines(base, config.baseline),
        {k: v for k, v in kept.items() if k[1] < as_of},
    )


def evaluate_program(
    config: ProgramConfig,
    program: Program,
    index: ItemIndex,
    graph: DependencyGraph,
    trend: Trend,
    now: datetime,
) -> ProgramRollup:
    """The roll-up of one program as every recomputation (and every what-if) runs it: in
    its time zone, with the generator its key and configured seed make."""
    return evaluate(program, index, graph, trend, **frame(config, now))


class Frame(TypedDict):
    as_of: date
    zone: zoneinfo.ZoneInfo
    rng: random.Random
    now: datetime


def frame(config: ProgramConfig, now: datetime) -> Frame:
    """Where and how a program is rolled up at ``now``: its day in its time zone, and the
    generator its key and configured seed make (the same for a roll-up and a what-if)."""
    zone = zoneinfo.ZoneInfo(config.timezone)
    return Frame(
        as_of=now.astimezone(zone).date(),
        zone=zone,
        rng=random.Random(f"{config.key}:{config.forecast.seed}"),  # noqa: S311 (simulation)
        now=now,
    )


def _compute_all(
    chosen: Sequence[ProgramConfig], loaded: Loaded, now: datetime, staff: plans.Staff
) -> list[_Computed]:
    index = ItemIndex(loaded.items)
    graph = DependencyGraph(loaded.dependencies, index)
    computed = []
    for config in chosen:
        zone = zoneinfo.ZoneInfo(config.timezone)
        as_of = now.astimezone(zone).date()
        trend = trend_of(config, loaded, as_of)
        rollup = evaluate_program(config, loading.to_program(config), index, graph, trend, now)
        history = {key: list(points) for key, points in trend.by_key.items()}
        status = documents.program_out(
            rollup, timezone=config.timezone, computed_at=now, history=history
        )
        computed.append(
            _Computed(
                config=config,
                rollup=rollup,
                status=status,
                dependencies=documents.dependencies_document(rollup),
                late=documents.late_list(rollup),
                outcomes={
                    o.outcome.key: documents.outcome_document(
                        o,
                        history.get(o.outcome.key, ()),
                        as_of=as_of,
                        moved=rollup.movements.get(o.outcome.key),
                        calibration=rollup.calibration.get(o.outcome.key),
                    )
                    for o in rollup.outcomes
                },
                members=membership.rows_of(rollup, loaded.source_ids),
                plans=plans.compute(rollup, staff, zone=zone, seed=config.forecast.seed, now=now),
                outlook=record.outlook_document(outlook.capture(rollup, zone)),
                portfolio=portfolio.part_of(
                    config,
                    rollup,
                    status,
                    trend.at_or_before("", as_of - timedelta(days=7)),
                    (staff.known, staff.teams),
                    now=now,
                ),
            )
        )
    return computed


async def _store(
    session: AsyncSession, program_id: int, part: _Computed, *, now: datetime
) -> risks.Tally | None:
    """Store one program's results; None when a newer recomputation got there first.

    Stored documents are never read back (they can be large): their digests say whether
    what was computed differs, and only the documents that do are written.
    """
    # The row lock makes concurrent recomputations of one program take turns (PostgreSQL;
    # SQLite writers are serialised already).
    await session.execute(
        select(ProgramRow.id).where(ProgramRow.id == program_id).with_for_update()
    )
    stored = (
        await session.execute(
            select(
                ProgramStatusRow.computed_at, ProgramStatusRow.revision, ProgramStatusRow.digests
            ).where(ProgramStatusRow.program_id == program_id)
        )
    ).one_or_none()
    if stored is not None and stored.computed_at > now:
        return None
    rollup = part.rollup
    documents_now = {
        "status": _json(part.status),
        "dependencies": _json(part.dependencies),
        "roadmap": _json(part.plans.roadmap),
        "resources": _json(part.plans.resources),
        "portfolio": _json(part.portfolio),
    }
    digests = {name: digest(document) for name, document in documents_now.items()}
    before = (stored.digests if stored is not None else None) or {}
    changed = {n: d for n, d in documents_now.items() if before.get(n) != digests[n]}
    program_values: dict[str, Any] = {
        "as_of": rollup.as_of,
        "computed_at": now,
        "rag": rollup.rag.color.value,
        **changed,
    }
    if changed:
        program_values["digests"] = digests
    if stored is None:
        await session.execute(
            insert(ProgramStatusRow).values(program_id=program_id, revision=1, **program_values)
        )
    else:
        if changed:
            program_values["revision"] = stored.revision + 1
        await session.execute(
            update(ProgramStatusRow)
            .where(ProgramStatusRow.program_id == program_id)
            .values(**program_values)
        )
    await _store_outcomes(session, program_id, part, now=now)
    await membership.save(session, program_id, part.members)
    items = rollup.index.items
    titles = {e.ref: items[e.ref].title for r in rollup.risks for e in r.evidence if e.ref in items}
    tally = await risks.reconcile(session, program_id, rollup.risks, now=now, titles=titles)
    open_risks = await risks.list_risks(session, program_id, state="open")
    document = record.snapshot_document(
        part.status, part.late, open_risks, zoneinfo.ZoneInfo(part.config.timezone), part.outlook
    )
    await snapshots.save(
        session, program_id, rollup, taken_at=now, document=_json(document), bars=part.plans.bars
    )
    await watch.observe(session, program_id, part.config, rollup, tally.opened_rows, now=now)
    return tally


async def _store_outcomes(
    session: AsyncSession, program_id: int, part: _Computed, *, now: datetime
) -> None:
    """Every outcome's row: its document rewritten only when it changed."""
    existing = dict(
        (
            await session.execute(
                select(OutcomeStatusRow.outcome_key, OutcomeStatusRow.digest).where(
                    OutcomeStatusRow.program_id == program_id
                )
            )
        ).all()
    )
    for outcome in part.rollup.outcomes:
        key = outcome.outcome.key
        document = _json(part.outcomes[key])
        values: dict[str, Any] = {"computed_at": now, "rag": outcome.rag.color.value}
        found = digest(document)
        if key not in existing:
            await session.execute(
                insert(OutcomeStatusRow).values(
                    program_id=program_id, outcome_key=key, status=document, digest=found, **values
                )
            )
            continue
        if existing[key] != found:
            values.update(status=document, digest=found)
        await session.execute(
            update(OutcomeStatusRow)
            .where(OutcomeStatusRow.program_id == program_id, OutcomeStatusRow.outcome_key == key)
            .values(**values)
        )
    gone = set(existing) - {o.outcome.key for o in part.rollup.outcomes}
    if gone:
        await session.execute(
            delete(OutcomeStatusRow).where(
                OutcomeStatusRow.program_id == program_id, OutcomeStatusRow.outcome_key.in_(gone)
            )
        )


def digest(document: dict[str, Any]) -> str:
    """What a stored document says, apart from when it was computed: two recomputations
    of unchanged data give the same digest."""
    timeless = {k: v for k, v in document.items() if k != "computed_at"}
    freshness = timeless.get("freshness")
    if isinstance(freshness, dict):
        timeless["freshness"] = {k: v for k, v in freshness.items() if k != "computed_at"}
    return hashlib.sha256(orjson.dumps(timeless)).hexdigest()


def _json(document: BaseModel) -> dict[str, Any]:
    """A document as the store keeps it (JSON, fields by their contract names)."""
    return document.model_dump(mode="json", by_alias=True)


async def refresh_rollups(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    sources: set[str],
    *,
    changed: bool,
    keys: scoping.Changed | None = None,
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    metrics: Metrics | None = None,
    now: datetime | None = None,
    pending: PendingRollups | None = None,
) -> RecomputeResult | None:
    """Recompute the programs that read ``sources`` after their data changed: with
    ``keys`` (the items the change stored, by source), only the programs those touch.

    Without a change, the roll-ups are still recomputed once a day: forecasts and
    overdue dates move with the calendar even when nobody touches a ticket. With
    ``pending``, a failed recompute is not raised but kept there, to be retried with
    backoff (and ``None`` returned); sources owed a recompute count as changed.
    """
    now = now or datetime.now(UTC)
    if pending is not None and sources & pending.sources:
        changed, keys = True, None  # a failed recompute of these sources is owed whole
    if not changed and not await _rollups_stale(
        read_sessionmaker or sessionmaker, config, sources, now
    ):
        return None
    started = time.perf_counter()
    try:
        result = await recompute(
            sessionmaker,
            config,
            now=now,
            sources=sources,
            changed=keys if changed else None,
            read_sessionmaker=read_sessionmaker,
        )
    except Exception:
        if pending is None:
            raise
        delay = pending.failed(sources)
        log.exception(
            "recomputing the roll-ups of %s failed; retrying in %.0fs",
            ", ".join(sorted(sources)),
            delay,
        )
        return None
    if pending is not None:
        pending.succeeded(sources)
    if metrics is not None:
        metrics.rollup_recompute_seconds.observe(time.perf_counter() - started)
    if result.programs:
        log.info(
            "recomputed %s in %.2fs", ", ".join(result.programs), time.perf_counter() - started
        )
    return result


async def _rollups_stale(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    sources: set[str],
    now: datetime,
) -> bool:
    """Whether any program reading ``sources`` has no roll-up computed today (UTC)."""
    keys = [p.key for p in affected_programs(config, sources)]
    if not keys:
        return False
    async with session_scope(sessionmaker) as session:
        computed, oldest = (
            await session.execute(
                select(func.count(ProgramStatusRow.id), func.min(ProgramStatusRow.computed_at))
                .join(ProgramRow, ProgramRow.id == ProgramStatusRow.program_id)
                .where(ProgramRow.key.in_(keys))
            )
        ).one()
    return bool(computed < len(keys) or oldest is None or oldest.date() < now.date())
