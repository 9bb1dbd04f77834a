"""The whole roll-up of one program: progress, forecasts, dependencies, colours and risks.

``evaluate`` is the one entry point ``app`` calls per program. The item index and the
dependency graph are built once per recomputation and shared by every program.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from rollup.calibration import Calibration, judge_program
from rollup.calibration import judge as judge_calibration
from rollup.figures import OnTime
from rollup.forecast import Forecast, ForecastBasis
from rollup.graph import DependencyGraph, Edge, GroupEdge, LateDependency, roll_up
from rollup.graph import late_dependencies as find_late
from rollup.inputs import Inputs
from rollup.mapping import Assignment, ItemIndex
from rollup.model import ForecastOptions, ItemRef, Program, WorkItem
from rollup.movement import Movement, explain
from rollup.outcome import (
    Figures,
    OutcomeRollup,
    insufficient,
    is_overdue_milestone,
    judge_outcome,
    late_items,
    measure,
    previous_verdict,
    scope_size,
)
from rollup.program_forecast import program_forecast
from rollup.progress import ProgramProgress, combine
from rollup.quality import DataQuality, assess
from rollup.rag import Rag, Signals, judge
from rollup.risk import DerivedRisk, dependency_risks, program_risks, stale_items
from rollup.scope import ProgramScope, scope_program
from rollup.trend import Trend, growth_since_baseline
from vocabulary import ItemKind, StatusCategory


@dataclass(frozen=True, slots=True)
class ProgramRollup:
    program: Program
    as_of: date
    target: date | None
    """The latest outcome target: the program is on time when every outcome is."""
    progress: ProgramProgress
    forecast: Forecast
    on_time: OnTime
    """What ``forecast.probability_on_time`` means: every open outcome by its own target."""
    rag: Rag
    outcomes: tuple[OutcomeRollup, ...]
    assignment: Assignment
    index: ItemIndex
    """Every item the roll-up saw, to look up the items behind any figure."""
    edges: tuple[Edge, ...]
    late: tuple[LateDependency, ...]
    critical: frozenset[ItemRef]
    """Items on a critical path, or deciding the date in enough trials to count."""
    cycles: tuple[tuple[ItemRef, ...], ...]
    critical_path: tuple[ItemRef, ...]
    expected: Mapping[ItemRef, date]
    """Critical-path forecast of each remaining item on a dependency chain."""
    criticality: Mapping[ItemRef, float]
    rollups: Mapping[str, tuple[GroupEdge, ...]]
    """Dependencies between ``epic``\\ s, ``outcome``\\ s and ``project``\\ s."""
    calibration: Mapping[str, Calibration]
    """How past forecasts of each outcome (and the program, ``""``) fared."""
    movements: Mapping[str, Movement]
    """Why each forecast moved since the snapshot a week back, by outcome key (the
    program: ``""``); only forecasts with something to compare with."""
    milestones: tuple[WorkItem, ...]
    quality: DataQuality
    risks: tuple[DerivedRisk, ...]
    cycle_times: tuple[float, ...]


def evaluate(
    program: Program,
    index: ItemIndex,
    graph: DependencyGraph,
    trend: Trend,
    *,
    as_of: date,
    zone: tzinfo,
    rng: random.Random,
    now: datetime | None = None,
) -> ProgramRollup:
    """Roll one program up as of a day in its time zone; ``rng`` seeds every forecast.

    ``now`` is the moment within ``as_of`` (today counts only as far as it has gone;
    without it, the whole day). Each outcome's trials get their own generator, derived
    from one draw of ``rng`` and the outcome's key, so reordering outcomes does not
    change anyone's forecast.
    """
    scope = scope_program(program, index, graph, trend, as_of=as_of, zone=zone, now=now)
    seed = rng.getrandbits(64)
    figures = [
        measure(scope, o, random.Random(f"{seed}:{o.key}"))  # noqa: S311 (simulation, not secrets)
        for o in program.outcomes
    ]
    criticality: dict[ItemRef, float] = {}
    for part in figures:
        for ref, share in part.forecast.criticality:
            criticality[ref] = max(share, criticality.get(ref, 0.0))
    critical = frozenset(
        {r for part in figures for r in part.critical_path}
        | {r for r, s in criticality.items() if s >= program.policy.risks.critical_index}
    )
    late = find_late(scope.edges, index, needed_by=scope.needed_by, expected=scope.expected)
    return _assemble(scope, figures, late, critical, criticality, seed)


def _calibration(scope: ProgramScope, outcomes: Sequence[OutcomeRollup]) -> dict[str, Calibration]:
    """Past forecasts in the snapshots against when each outcome finished."""
    trend, as_of = scope.trend, scope.as_of
    finished = {
        o.outcome.key: o.finished_on if o.forecast.basis is ForecastBasis.DONE else None
        for o in outcomes
    }
    found = {
        key: judge_calibration(key, trend.series(key), when, as_of=as_of)
        for key, when in finished.items()
    }
    found[""] = judge_program(
        trend.series(""), {k: trend.series(k) for k in finished}, finished, as_of=as_of
    )
    return found


def _movements(
    scope: ProgramScope, outcomes: Sequence[OutcomeRollup], forecast: Forecast, seed: int
) -> dict[str, Movement]:
    """Why each forecast moved since the last snapshot at least a week old."""
    week_ago = scope.as_of - timedelta(days=7)
    options = scope.program.policy.forecast
    basis = scope.program.basis
    pairs: dict[str, tuple[Inputs, Inputs]] = {}
    found: dict[str, Movement] = {}
    for n, part in enumerate(outcomes):
        key, now = part.outcome.key, part.forecast
        point = scope.trend.at_or_before(key, week_ago)
        before = scope.trend.inputs.get((key, point.on)) if point else None
        if point is None or before is None or now.inputs is None or point.p85_on is None:
            continue
        pairs[key] = (before, now.inputs)
        if now.basis is not ForecastBasis.MONTE_CARLO or now.p85 is None or now.p85.on is None:
            continue
        moved = explain(
            [pairs[key]],
            basis=part.outcome.basis,
            options=options,
            seed=seed + n,
            observed_p85_days=float((now.p85.on - point.p85_on).days),
        )
        if moved is not None:
            found[key] = moved
    point = scope.trend.at_or_before("", week_ago)
    p85 = forecast.p85.on if forecast.p85 else None
    comparable = forecast.basis is ForecastBasis.MONTE_CARLO and len(pairs) == len(outcomes)
    if comparable and point is not None and point.p85_on is not None and p85 is not None:
        moved = explain(
            list(pairs.values()),
            basis=basis,
            options=options,
            seed=seed,
            observed_p85_days=float((p85 - point.p85_on).days),
        )
        if moved is not None:
            found[""] = moved
    return found


def _assemble(
    scope: ProgramScope,
    figures: Sequence[Figures],
    late: tuple[LateDependency, ...],
    critical: frozenset[ItemRef],
    criticality: Mapping[ItemRef, float],
    seed: int,
) -> ProgramRollup:
    program, index, assignment = scope.program, scope.index, scope.assignment
    selected = assignment.all_selected
    flagged = [(d, d.edge.before in critical or d.edge.after in critical) for d in late]
    cycles = scope.graph.cycles(selected)
    outcomes = tuple(judge_outcome(scope, part, flagged, cycles) for part in figures)
    units = list(dict.fromkeys(c.item.ref for o in outcomes for c in o.progress.contributors))
    unit_items = scope.items(units)
    milestones = tuple(
        sorted(
            (index.items[r] for r in selected if index.items[r].kind is ItemKind.MILESTONE),
            key=lambda m: (m.due_on or date.max, m.key),
        )
    )
    quality = assess(
        [(o, assignment.units[o.key]) for o in program.outcomes],
        index,
        dangling=[d for d in scope.graph.dangling if d.before in selected or d.after in selected],
        unmapped=assignment.unmapped,
    )
    target = max((o.target for o in program.outcomes if o.target is not None), default=None)
    progress = combine([(o.outcome, o.progress) for o in outcomes], program.basis)
    forecast, on_time = program_forecast(scope, outcomes, unit_items, target)
    rag = _judge_program(
        scope, outcomes, progress, forecast, on_time, target, quality, flagged, cycles, milestones
    )
    rag_policy = program.policy.rag
    risks = [
        *dependency_risks(
            flagged,
            cycles,
            scope.outcomes_of,
            {d.edge.before: index.items[d.edge.before].title for d, _ in flagged},
        ),
        *program_risks(
            milestones, quality, as_of=scope.as_of, quality_below=rag_policy.data_quality_below
        ),
        *(r for o in outcomes for r in o.risks),
    ]
    remaining = [r for r in units if not index.items[r].done]
    return ProgramRollup(
        program=program,
        as_of=scope.as_of,
        target=target,
        progress=progress,
        forecast=forecast,
        on_time=on_time,
        rag=rag,
        outcomes=outcomes,
        assignment=assignment,
        index=index,
        edges=scope.edges,
        late=late,
        critical=critical,
        cycles=cycles,
        critical_path=scope.plan.critical_path(remaining),
        expected=scope.expected,
        criticality=criticality,
        rollups=_rollups(scope, late),
        calibration=_calibration(scope, outcomes),
        movements=_movements(scope, outcomes, forecast, seed),
        milestones=milestones,
        quality=quality,
        risks=tuple(risks),
        cycle_times=scope.cycle_times,
    )


def _judge_program(
    scope: ProgramScope,
    outcomes: Sequence[OutcomeRollup],
    progress: ProgramProgress,
    forecast: Forecast,
    on_time: OnTime,
    target: date | None,
    quality: DataQuality,
    flagged: Sequence[tuple[LateDependency, bool]],
    cycles: Sequence[tuple[ItemRef, ...]],
    milestones: Sequence[WorkItem],
) -> Rag:
    """The program's colour: its own signals, and never better than its worst outcome."""
    policy = scope.program.policy
    units = [c.item for o in outcomes for c in o.progress.contributors]
    in_progress = list(
        {u.ref: u for u in units if u.status_category is StatusCategory.IN_PROGRESS}.values()
    )
    stale = stale_items(
        in_progress, as_of=scope.as_of, zone=scope.zone, days=policy.risks.stale_after_days
    )
    basis = scope.program.basis
    signals = Signals(
        has_work=progress.scope_count > 0,
        done=forecast.basis is ForecastBasis.DONE,
        finished_on=forecast.p50.on if forecast.p50 else None,
        probability_on_time=forecast.probability_on_time,
        on_time=on_time.text,
        target=target,
        p85=forecast.p85.on if forecast.p85 else None,
        no_forecast_because=_without_forecast(outcomes, forecast, on_time, policy.forecast),
        previous=previous_verdict(scope.trend, ""),
        history=forecast.history,
        remaining=forecast.remaining,
        late_critical=late_items(flagged, None),
        overdue_milestones=tuple(m.ref for m in milestones if is_overdue_milestone(m, scope.as_of)),
        stale=tuple(u.ref for u in stale),
        in_progress=len(in_progress),
        scope_growth=growth_since_baseline(
            scope.trend, "", basis, scope_size(progress.scope_count, progress.scope_estimate, basis)
        ),
        scope_growth_limit=policy.risks.scope_creep,
        data_quality=quality.score,
        quality_gaps=quality.gaps,
        cycles=tuple(sorted({r for c in cycles for r in c})),
        worse_parts=tuple((o.outcome.name, o.rag.color) for o in outcomes if o.rag.color.rank >= 2),
        done_late=tuple(o.outcome.name for o in outcomes if o.done_late),
    )
    return judge(signals, policy.rag)


def _without_forecast(
    outcomes: Sequence[OutcomeRollup],
    forecast: Forecast,
    on_time: OnTime,
    options: ForecastOptions,
) -> str:
    """Why the program has no probability: which outcomes lack the history to forecast,
    each with what it has and what it needs."""
    short = [
        f"{o.outcome.name} ({insufficient(o.forecast.history, options).removeprefix('only ')})"
        for o in outcomes
        if o.forecast.basis is ForecastBasis.INSUFFICIENT_HISTORY
    ]
    if forecast.basis is ForecastBasis.INSUFFICIENT_HISTORY and short:
        return "too little history to forecast " + "; ".join(short)
    if forecast.basis is ForecastBasis.NO_WORK:
        return "no work is selected"
    return "" if forecast.probability_on_time is not None else on_time.text


def _rollups(
    scope: ProgramScope, late: Sequence[LateDependency]
) -> dict[str, tuple[GroupEdge, ...]]:
    """Dependencies between epics, outcomes and projects (work of no outcome: ``outside``)."""
    late_pairs = {(d.edge.before, d.edge.after) for d in late}
    flags = [(e.before, e.after) in late_pairs for e in scope.edges]
    index = scope.index

    def epic(ref: ItemRef) -> tuple[str, ...]:
        found = index.epic_of(ref)
        return (found[1],) if found else ()

    def outcome(ref: ItemRef) -> tuple[str, ...]:
        return scope.outcomes_of.get(ref, ("outside",))

    def project(ref: ItemRef) -> tuple[str, ...]:
        item = index.items[ref]
        return (f"{item.source}/{item.project}",) if item.project else (item.source,)

    return {
        level: roll_up(scope.edges, functools.cache(group_of), flags)
        for level, group_of in (("epic", epic), ("outcome", outcome), ("project", project))
    }
