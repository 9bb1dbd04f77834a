"""One outcome's roll-up: its figures first, then — once the program knows which work is
critical — its colour and its risks."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from rollup import forecast as fc
from rollup.forecast import Forecast, ForecastBasis
from rollup.graph import LateDependency
from rollup.model import ForecastOptions, ItemRef, Outcome, ProgressBasis, WorkItem
from rollup.progress import Progress, summarize
from rollup.rag import Rag, Signals, judge
from rollup.risk import (
    DerivedRisk,
    OutcomeFacts,
    blocked_items,
    outcome_risks,
    overdue_items,
    stale_items,
    unowned_items,
)
from rollup.scope import ProgramScope
from rollup.trend import growth_since_baseline, weekly_growth
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


def finished_on(units: Sequence[WorkItem], zone: tzinfo) -> date | None:
    dates = [fc.local_date(d, zone) for u in units if (d := u.completed_at) is not None]
    return max(dates, default=None)


def measure(scope: ProgramScope, outcome: Outcome, rng: random.Random) -> Figures:
    """Progress, forecast and critical path of one outcome."""
    units = scope.assignment.units[outcome.key]
    progress = summarize(outcome, units, scope.index)
    options = scope.program.policy.forecast
    items = scope.items(units)
    history = fc.weekly_history(
        items, as_of=scope.as_of, zone=scope.zone, weeks=options.history_weeks
    )
    remaining = [i.ref for i in items if not i.done]
    if not units:
        forecast = Forecast(ForecastBasis.NO_WORK, 0, history)
    elif not remaining:
        forecast = fc.completed(history, finished_on(items, scope.zone), outcome.target)
    else:
        growth = (
            weekly_growth(
                scope.trend,
                outcome.key,
                as_of=scope.as_of,
                weeks=options.history_weeks,
                current=progress.scope_count,
            )
            if options.scope_growth
            else ()
        )
        forecast = fc.run(
            len(remaining),
            history,
            as_of=scope.as_of,
            target=outcome.target,
            options=options,
            rng=rng,
            growth=growth,
            chains=scope.graph.chains(remaining, scope.age_of) if scope.cycle_times else None,
            cycle_times=scope.cycle_times,
        )
    return Figures(outcome, progress, forecast, scope.plan.critical_path(remaining))


def no_forecast_because(forecast: Forecast, target: date | None, options: ForecastOptions) -> str:
    """Why there is no probability to judge, in a sentence ("" when there is one)."""
    if forecast.basis is ForecastBasis.NO_WORK:
        return "no work is selected"
    if forecast.basis is ForecastBasis.INSUFFICIENT_HISTORY:
        return (
            f"only {len(forecast.history.weeks)} week(s) of history with "
            f"{forecast.history.completed} item(s) finished; a forecast needs "
            f"{options.min_history_weeks} weeks and {options.min_completed} items"
        )
    return "" if target is not None else "no target date to judge against"


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


def _facts(scope: ProgramScope, figures: Figures) -> OutcomeFacts:
    outcome, progress, forecast = figures.outcome, figures.progress, figures.forecast
    thresholds = scope.program.policy.risks
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
        p85=forecast.p85.on if forecast.p85 else None,
        previous_p85=week_ago.p85_on if week_ago else None,
        scope_growth=growth_since_baseline(
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
    signals = Signals(
        has_work=progress.scope_count > 0,
        done=forecast.basis is ForecastBasis.DONE,
        probability_on_time=forecast.probability_on_time,
        target=outcome.target,
        p85=facts.p85,
        no_forecast_because=no_forecast_because(forecast, outcome.target, policy.forecast),
        late_critical=late_items(late, selected),
        overdue_milestones=tuple(
            sorted(r for r in selected if is_overdue_milestone(scope.index.items[r], scope.as_of))
        ),
        stale=tuple(i.ref for i in facts.stale),
        in_progress=sum(
            1 for c in progress.contributors if c.item.status_category is StatusCategory.IN_PROGRESS
        ),
        scope_growth=facts.scope_growth,
        scope_growth_limit=policy.risks.scope_creep,
        cycles=tuple(sorted({r for c in cycles if selected.intersection(c) for r in c})),
    )
    return OutcomeRollup(
        outcome=outcome,
        progress=progress,
        forecast=forecast,
        rag=judge(signals, policy.rag),
        critical_path=figures.critical_path,
        scope_growth=facts.scope_growth,
        risks=tuple(outcome_risks(facts, policy.risks)),
    )
