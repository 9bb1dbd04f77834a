"""The whole roll-up of one program: progress, forecasts, dependencies, colours and risks.

``evaluate`` is the one entry point ``app`` calls per program. The item index and the
dependency graph are built once per recomputation and shared by every program.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

import numpy as np

from rollup import forecast as fc
from rollup.forecast import Forecast, ForecastBasis
from rollup.graph import DependencyGraph, Edge, GroupEdge, LateDependency, roll_up
from rollup.graph import late_dependencies as find_late
from rollup.mapping import Assignment, ItemIndex
from rollup.model import ForecastOptions, ItemRef, Program, WorkItem
from rollup.outcome import (
    Figures,
    OutcomeRollup,
    finished_on,
    is_overdue_milestone,
    judge_outcome,
    late_items,
    measure,
    no_forecast_because,
    scope_size,
)
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
) -> ProgramRollup:
    """Roll one program up as of a day in its time zone; ``rng`` seeds every forecast.

    Each outcome's trials get their own generator, derived from one draw of ``rng`` and
    the outcome's key, so reordering outcomes does not change anyone's forecast.
    """
    scope = scope_program(program, index, graph, trend, as_of=as_of, zone=zone)
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
    return _assemble(scope, figures, late, critical, criticality)


def _program_forecast(
    scope: ProgramScope,
    outcomes: Sequence[OutcomeRollup],
    units: Sequence[WorkItem],
    target: date | None,
) -> Forecast:
    """The program finishes when its last outcome does; it is on time when every outcome
    with a target meets it in the same trial."""
    options = scope.program.policy.forecast
    history = fc.weekly_history(
        units, as_of=scope.as_of, zone=scope.zone, weeks=options.history_weeks
    )
    remaining = sum(1 for u in units if not u.done)
    bases = {o.forecast.basis for o in outcomes}
    if not units:
        return Forecast(ForecastBasis.NO_WORK, 0, history)
    if ForecastBasis.INSUFFICIENT_HISTORY in bases:
        return Forecast(ForecastBasis.INSUFFICIENT_HISTORY, remaining, history)
    if ForecastBasis.MONTE_CARLO not in bases:
        return fc.completed(history, finished_on(units, scope.zone), target)
    trials = options.trials
    days = np.zeros(trials)
    on_time = np.ones(trials, dtype=bool)
    judged = False
    for o in outcomes:
        finish = _finish_days(o.forecast, scope.as_of, trials)
        days = np.maximum(days, finish)
        if o.outcome.target is not None:
            on_time &= finish <= (o.outcome.target - scope.as_of).days
            judged = True
    p = float(on_time.mean())
    return fc.finish(
        days,
        basis=ForecastBasis.MONTE_CARLO,
        remaining=remaining,
        history=history,
        as_of=scope.as_of,
        target=target,
        probability=(p, math.sqrt(p * (1 - p) / trials)) if judged else None,
    )


def _finish_days(forecast: Forecast, as_of: date, trials: int) -> fc.FloatArray:
    if forecast.finish_days is not None:
        return forecast.finish_days
    finished = forecast.p50.on if forecast.p50 else None
    return np.full(trials, float((finished - as_of).days) if finished else 0.0)


def _assemble(
    scope: ProgramScope,
    figures: Sequence[Figures],
    late: tuple[LateDependency, ...],
    critical: frozenset[ItemRef],
    criticality: Mapping[ItemRef, float],
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
    forecast = _program_forecast(scope, outcomes, unit_items, target)
    rag = _judge_program(
        scope, outcomes, progress, forecast, target, quality, flagged, cycles, milestones
    )
    rag_policy = program.policy.rag
    risks = [
        *dependency_risks(flagged, cycles, scope.outcomes_of),
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
        probability_on_time=forecast.probability_on_time,
        target=target,
        p85=forecast.p85.on if forecast.p85 else None,
        no_forecast_because=_without_forecast(outcomes, forecast, target, policy.forecast),
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
        worse_parts=tuple((o.outcome.key, o.rag.color) for o in outcomes if o.rag.color.rank >= 2),
    )
    return judge(signals, policy.rag)


def _without_forecast(
    outcomes: Sequence[OutcomeRollup],
    forecast: Forecast,
    target: date | None,
    options: ForecastOptions,
) -> str:
    """Why the program has no probability: which outcomes lack the history to forecast."""
    short = [
        o.outcome.key for o in outcomes if o.forecast.basis is ForecastBasis.INSUFFICIENT_HISTORY
    ]
    if forecast.basis is ForecastBasis.INSUFFICIENT_HISTORY and short:
        return (
            f"too little history to forecast {', '.join(short)} (a forecast needs "
            f"{options.min_history_weeks} weeks and {options.min_completed} finished items)"
        )
    return no_forecast_because(forecast, target, options)


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
