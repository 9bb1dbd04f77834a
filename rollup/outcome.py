"""One outcome's roll-up: its figures first, then — once the program knows which work is
critical — its colour and its risks."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from rollup import forecast as fc
from rollup.figures import OnTime, outcome_on_time
from rollup.forecast import Forecast, ForecastBasis
from rollup.graph import LateDependency
from rollup.history import History, local_date, weekly_history
from rollup.hysteresis import Verdict
from rollup.inputs import Inputs
from rollup.model import ForecastOptions, ItemRef, Outcome, ProgressBasis, WorkItem
from rollup.pace import size_dispersion
from rollup.progress import Progress, summarize
from rollup.rag import Rag, Signals, judge
from rollup.refinement import expected_work, unrefined
from rollup.risk import (
    DerivedRisk,
    OutcomeFacts,
    blocked_items,
    outcome_risks,
    overdue_items,
    stale_items,
    stall_risk,
    unowned_items,
)
from rollup.scope import ProgramScope
from rollup.trend import Trend, growth_history, growth_since_baseline
from vocabulary import ItemKind, StatusCategory

LateFlagged = Sequence[tuple[LateDependency, bool]]
"""Late dependencies, each with whether it is critical."""


@dataclass(frozen=True, slots=True)
class Figures:
    """What an outcome's data says before anything is judged."""

    outcome: Outcome
    progress: Progress
    forecast: Forecast
    critical_path: tuple[ItemRef, ...]
    unrefined: tuple[ItemRef, ...] = ()
    """Epics with nothing under them yet, counted in the forecast at the split rate."""
    finished_on: date | None = None

    @property
    def done_late(self) -> bool:
        return done_late(self.outcome, self.forecast, self.finished_on)


@dataclass(frozen=True, slots=True)
class OutcomeRollup:
    outcome: Outcome
    progress: Progress
    forecast: Forecast
    rag: Rag
    critical_path: tuple[ItemRef, ...]
    scope_growth: float | None
    """Growth of scope since the baseline, as a fraction."""
    risks: tuple[DerivedRisk, ...]
    on_time: OnTime
    """What ``forecast.probability_on_time`` is stated against (``rollup.figures``)."""
    unrefined: tuple[ItemRef, ...] = ()
    finished_on: date | None = None
    """When the last of its work was finished (when all of it is)."""

    @property
    def done_late(self) -> bool:
        return done_late(self.outcome, self.forecast, self.finished_on)


def done_late(outcome: Outcome, forecast: Forecast, finished: date | None) -> bool:
    """Whether the outcome's work is all done, and was finished after its target."""
    target = outcome.target
    return (
        forecast.basis is ForecastBasis.DONE
        and finished is not None
        and target is not None
        and finished > target
    )


def finished_on(units: Sequence[WorkItem], zone: tzinfo) -> date | None:
    dates = [local_date(d, zone) for u in units if (d := u.completed_at) is not None]
    return max(dates, default=None)


def inputs_for(
    scope: ProgramScope,
    outcome: Outcome,
    progress: Progress,
    items: Sequence[WorkItem],
    epics: Sequence[ItemRef],
) -> Inputs:
    """What the outcome's forecast is computed from, in its basis's unit."""
    options = scope.program.policy.forecast
    by_estimate = outcome.basis is ProgressBasis.ESTIMATE
    sizes = {c.item.ref: c.size for c in progress.contributors} if by_estimate else None
    history = weekly_history(
        items,
        as_of=scope.as_of,
        zone=scope.zone,
        weeks=options.history_weeks,
        now=scope.now,
        sizes=sizes,
    )
    growth = (
        growth_history(
            scope.trend,
            outcome.key,
            as_of=scope.as_of,
            weeks=options.history_weeks,
            basis=outcome.basis,
            current=progress.total,
        )
        if options.scope_growth
        else None
    )
    return Inputs(
        as_of=scope.as_of,
        target=outcome.target,
        scope=progress.total,
        done=progress.done,
        history=history,
        elapsed=scope.elapsed,
        unrefined=expected_work(epics, scope.index, scope.split(), outcome.basis) if epics else 0.0,
        unit_dispersion=size_dispersion(list(sizes.values())) if sizes else 1.0,
        growth=growth,
        pace_factor=outcome.pace_factor,
        pace_added=outcome.pace_added,
    )


def measure(scope: ProgramScope, outcome: Outcome, rng: random.Random) -> Figures:
    """Progress, forecast and critical path of one outcome."""
    units = scope.assignment.units[outcome.key]
    progress = summarize(outcome, units, scope.index)
    options = scope.program.policy.forecast
    items = scope.items(units)
    epics = unrefined(scope.assignment.selected[outcome.key], scope.index)
    inputs = inputs_for(scope, outcome, progress, items, epics)
    remaining = [i.ref for i in items if not i.done]
    finished = None
    if not units:
        forecast = Forecast(ForecastBasis.NO_WORK, inputs.remaining, inputs.history, inputs=inputs)
    elif not remaining and not epics:
        finished = finished_on(items, scope.zone)
        forecast = fc.completed(inputs.history, finished, outcome.target, inputs)
    else:
        forecast = fc.run(
            inputs,
            options=options,
            rng=rng,
            chains=scope.graph.chains(remaining, scope.age_of) if scope.cycle_times else None,
            cycle_times=scope.cycle_times,
        )
    return Figures(
        outcome, progress, forecast, scope.plan.critical_path(remaining), epics, finished
    )


def no_forecast_because(
    forecast: Forecast,
    target: date | None,
    options: ForecastOptions,
    *,
    unrefined: int = 0,
) -> str:
    """Why there is no probability to judge, in a sentence that never contradicts itself
    ("" when there is one)."""
    if forecast.basis is ForecastBasis.NO_WORK:
        if unrefined:
            return f"no work is broken down yet: {unrefined} epic(s) have nothing under them"
        return "no work is selected"
    if forecast.basis is ForecastBasis.INSUFFICIENT_HISTORY:
        return insufficient(forecast.history, options)
    return "" if target is not None else "no target date to judge against"


def insufficient(history: History, options: ForecastOptions) -> str:
    """How much history there is, and what a forecast needs that it lacks."""
    weeks, items = len(history.weeks), history.completed
    short_weeks = weeks < options.min_history_weeks
    short_items = items < options.min_completed
    had = f"{weeks} week(s) of history with {items} item(s) finished"
    if short_weeks and short_items:
        needs = f"{options.min_history_weeks} weeks and {options.min_completed} finished items"
    elif short_weeks:
        needs = f"{options.min_history_weeks} weeks"
    else:
        needs = f"{options.min_completed} finished items"
    return f"only {had}; a forecast needs {needs}"


def late_items(late: LateFlagged, into: frozenset[ItemRef] | None) -> tuple[ItemRef, ...]:
    """Both ends of the critical late dependencies (whose successor is in ``into``)."""
    refs = {
        r
        for d, critical in late
        if critical and (into is None or d.edge.after in into)
        for r in (d.edge.before, d.edge.after)
    }
    return tuple(sorted(refs))


def is_overdue_milestone(item: WorkItem, as_of: date) -> bool:
    return (
        item.kind is ItemKind.MILESTONE
        and not item.done
        and item.due_on is not None
        and item.due_on < as_of
    )


def scope_size(scope_count: int, scope_estimate: float, basis: ProgressBasis) -> float:
    return float(scope_count) if basis is ProgressBasis.COUNT else scope_estimate


def previous_verdict(trend: Trend, key: str) -> Verdict | None:
    """The verdict the last snapshot kept (None: none kept)."""
    point = trend.latest(key)
    if point is None or point.verdict is None:
        return None
    return Verdict(point.verdict, point.verdict_raw or point.verdict)


def _facts(scope: ProgramScope, figures: Figures) -> OutcomeFacts:
    outcome, progress, forecast = figures.outcome, figures.progress, figures.forecast
    thresholds = scope.program.policy.risks
    finished = forecast.basis is ForecastBasis.DONE
    items = [c.item for c in progress.contributors]
    waiting = {i.ref for i in items if scope.graph.waits(i.ref)}
    week_ago = scope.trend.at_or_before(outcome.key, scope.as_of - timedelta(days=7))
    return OutcomeFacts(
        outcome,
        stale=stale_items(
            items, as_of=scope.as_of, zone=scope.zone, days=thresholds.stale_after_days
        ),
        overdue=overdue_items(items, as_of=scope.as_of),
        blocked=blocked_items(items, waiting, thresholds.blocked_statuses),
        unowned=unowned_items(items, as_of=scope.as_of, soon_days=thresholds.due_soon_days),
        unestimated=tuple(
            c.item
            for c in progress.contributors
            if c.imputed and outcome.basis is ProgressBasis.ESTIMATE and not c.item.done
        ),
        # Finished work has no forecast to slip and no scope left to creep.
        p85=forecast.p85.on if forecast.p85 and not finished else None,
        previous_p85=week_ago.p85_on if week_ago else None,
        scope_growth=None
        if finished
        else growth_since_baseline(
            scope.trend,
            outcome.key,
            outcome.basis,
            scope_size(progress.scope_count, progress.scope_estimate, outcome.basis),
        ),
    )


def judge_outcome(
    scope: ProgramScope,
    figures: Figures,
    late: LateFlagged,
    cycles: Sequence[tuple[ItemRef, ...]],
) -> OutcomeRollup:
    """The outcome's colour and risks, given which late dependencies are critical."""
    outcome, progress, forecast = figures.outcome, figures.progress, figures.forecast
    policy = scope.program.policy
    selected = scope.assignment.selected[outcome.key]
    facts = _facts(scope, figures)
    finished = figures.finished_on if forecast.basis is ForecastBasis.DONE else None
    on_time = outcome_on_time(forecast.probability_on_time, outcome.target, outcome.name, finished)
    signals = Signals(
        has_work=progress.scope_count > 0,
        done=forecast.basis is ForecastBasis.DONE,
        finished_on=figures.finished_on,
        probability_on_time=forecast.probability_on_time,
        on_time=on_time.text,
        target=outcome.target,
        p85=forecast.p85.on if forecast.p85 else None,
        no_forecast_because=no_forecast_because(
            forecast, outcome.target, policy.forecast, unrefined=len(figures.unrefined)
        ),
        previous=previous_verdict(scope.trend, outcome.key),
        history=forecast.history,
        remaining=forecast.remaining,
        basis=outcome.basis,
        late_critical=late_items(late, selected),
        overdue_milestones=tuple(
            sorted(
                r
                for r in selected
                if (i := scope.index.items[r]).kind is ItemKind.MILESTONE
                and is_overdue_milestone(i, scope.as_of)
            )
        ),
        stale=tuple(i.ref for i in facts.stale),
        in_progress=sum(
            1 for c in progress.contributors if c.item.status_category is StatusCategory.IN_PROGRESS
        ),
        scope_growth=facts.scope_growth,
        scope_growth_limit=policy.risks.scope_creep,
        cycles=tuple(sorted({r for c in cycles if selected.intersection(c) for r in c})),
    )
    rag = judge(signals, policy.rag)
    stalled = [stall_risk(outcome, r.detail) for r in rag.reasons if r.rule == "stalled"]
    return OutcomeRollup(
        outcome=outcome,
        progress=progress,
        forecast=forecast,
        rag=rag,
        critical_path=figures.critical_path,
        scope_growth=facts.scope_growth,
        risks=(*outcome_risks(facts, policy.risks), *stalled),
        on_time=on_time,
        unrefined=figures.unrefined,
        finished_on=figures.finished_on,
    )
