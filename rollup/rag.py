"""The colour of an outcome or program, as a small versioned policy with its reasons.

The forecast gives the first verdict: green when the target is likely enough
(``green_at``), amber when it is at least a fair chance (``amber_at``), red otherwise —
held against flicker by ``rollup.hysteresis``. Rules about the work itself can only push
the colour towards red: nothing finished for weeks with work left, a pace well below the
window's, a late dependency on the critical path, an overdue milestone, a pile of stale
work, scope growth past the threshold, poor data, a dependency cycle. Every rule that
fired is listed with the items behind it. Finished work is green, whatever happened on
the way; with no work, or no forecast and no rule firing, the colour is grey.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rollup.figures import amount, day, unit
from rollup.history import History
from rollup.hysteresis import Verdict, settle
from rollup.model import Color, ItemRef, ProgressBasis, RagPolicy


@dataclass(frozen=True, slots=True)
class Reason:
    rule: str
    detail: str
    items: tuple[ItemRef, ...] = ()
    color: Color = Color.GREY
    """The colour this rule asks for."""


@dataclass(frozen=True, slots=True)
class Rag:
    color: Color
    reasons: tuple[Reason, ...]
    policy_version: str
    verdict: Verdict | None = None
    """The forecast's verdict behind the colour, kept to hold tomorrow's against."""


@dataclass(frozen=True, slots=True)
class Signals:
    """What the policy judges, gathered for one outcome or a whole program."""

    has_work: bool
    done: bool = False
    finished_on: date | None = None
    probability_on_time: float | None = None
    on_time: str = ""
    """What the probability is stated against, in words (``rollup.figures``)."""
    target: date | None = None
    p85: date | None = None
    no_forecast_because: str = ""
    previous: Verdict | None = None
    """Yesterday's verdict, to hold today's against."""
    history: History | None = None
    remaining: float = 0.0
    basis: ProgressBasis = ProgressBasis.COUNT
    late_critical: tuple[ItemRef, ...] = ()
    overdue_milestones: tuple[ItemRef, ...] = ()
    stale: tuple[ItemRef, ...] = ()
    in_progress: int = 0
    scope_growth: float | None = None
    scope_growth_limit: float = 0.10
    data_quality: float | None = None
    quality_gaps: tuple[ItemRef, ...] = ()
    cycles: tuple[ItemRef, ...] = ()
    worse_parts: tuple[tuple[str, Color], ...] = ()
    """For a program: outcomes (by name) whose own colour is amber or red."""
    done_late: tuple[str, ...] = ()
    """For a program: outcomes (by name) done after their target, no longer judged."""


def _finished(signals: Signals) -> Reason:
    when = signals.finished_on
    target = signals.target
    if when is not None and target is not None and when > target:
        late = (when - target).days
        return Reason(
            "done_late",
            f"done late: finished {day(when)}, {late} day(s) after its target {day(target)}",
            color=Color.GREEN,
        )
    finished = f", finished {day(when)}" if when else ""
    return Reason("done", f"all work is done{finished}", color=Color.GREEN)


def _forecast_reason(signals: Signals, policy: RagPolicy) -> tuple[Reason, Verdict | None]:
    p = signals.probability_on_time
    if p is None:
        return Reason("no_forecast", signals.no_forecast_because or "no forecast to judge"), None
    verdict = settle(p, signals.previous, policy)
    p85 = f"; P85 {day(signals.p85)}" if signals.p85 else "; P85 beyond the horizon"
    held = (
        f"; held {verdict.shown} until the chance moves {policy.hysteresis_margin:.0%} "
        "past the threshold"
        if verdict.held and policy.hysteresis == "margin"
        else f"; held {verdict.shown} until a second day says {verdict.raw}"
        if verdict.held
        else ""
    )
    detail = (
        f"{signals.on_time}{p85} (green ≥ {policy.green_at:.0%}, amber ≥ "
        f"{policy.amber_at:.0%}){held}"
    )
    return Reason("probability_on_time", detail, color=verdict.shown), verdict


def _pace_reasons(signals: Signals, policy: RagPolicy) -> list[Reason]:
    """Nothing finished for weeks, or a recent pace well below the window's."""
    history = signals.history
    if history is None or signals.remaining <= 0 or not history.weeks:
        return []
    found: list[Reason] = []
    quiet = history.quiet_weeks()
    left = amount(signals.remaining, signals.basis)
    if policy.stall is not None and quiet >= policy.stall_weeks:
        found.append(
            Reason(
                "stalled", f"nothing finished in {quiet} weeks, with {left} left", (), policy.stall
            )
        )
        return found
    weeks = len(history.weeks)
    recent, window = history.rate(policy.recent_weeks), history.rate()
    if (
        policy.slowdown is not None
        and weeks > policy.recent_weeks
        and window > 0
        and recent < policy.slowdown_below * window
    ):
        per = unit(signals.basis)
        found.append(
            Reason(
                "slowdown",
                f"pace fell from {window:.1f} to {recent:.1f} {per} a week (the last "
                f"{policy.recent_weeks} weeks against the last {weeks})",
                (),
                policy.slowdown,
            )
        )
    return found


def _escalations(signals: Signals, policy: RagPolicy) -> list[Reason]:
    found = _pace_reasons(signals, policy)

    def fire(color: Color | None, rule: str, detail: str, items: Sequence[ItemRef]) -> None:
        if color is not None:
            found.append(Reason(rule, detail, tuple(items), color))

    if signals.late_critical:
        fire(
            policy.late_dependency,
            "late_dependency",
            f"{len(signals.late_critical)} item(s) on the critical path wait on late work",
            signals.late_critical,
        )
    if signals.overdue_milestones:
        fire(
            policy.overdue_milestone,
            "overdue_milestone",
            f"{len(signals.overdue_milestones)} milestone(s) are past due",
            signals.overdue_milestones,
        )
    if signals.in_progress and len(signals.stale) / signals.in_progress >= policy.stale_share:
        fire(
            policy.stale_work,
            "stale_work",
            f"{len(signals.stale)} of {signals.in_progress} items in progress have not moved "
            f"recently (limit {policy.stale_share:.0%})",
            signals.stale,
        )
    growth = signals.scope_growth
    if growth is not None and growth > signals.scope_growth_limit:
        fire(
            policy.scope_growth,
            "scope_growth",
            f"scope grew {growth:.0%} since the baseline (limit {signals.scope_growth_limit:.0%})",
            (),
        )
    if signals.data_quality is not None and signals.data_quality < policy.data_quality_below:
        fire(
            policy.data_quality,
            "data_quality",
            f"data quality {signals.data_quality:.0%} is below {policy.data_quality_below:.0%}",
            signals.quality_gaps,
        )
    if signals.cycles:
        fire(
            policy.dependency_cycle,
            "dependency_cycle",
            "work depends on itself through a cycle of dependencies",
            signals.cycles,
        )
    for name, color in signals.worse_parts:
        found.append(Reason("outcome", f"outcome {name} is {color}", (), color))
    for name in signals.done_late:
        found.append(
            Reason(
                "outcome_done_late",
                f"outcome {name} was done late; it no longer counts in the chance to be on time",
                (),
                Color.GREEN,
            )
        )
    return found


def judge(signals: Signals, policy: RagPolicy) -> Rag:
    """The colour the policy gives these signals, with every rule that fired, worst first."""
    if not signals.has_work:
        reason = signals.no_forecast_because or "no work is selected yet"
        return Rag(Color.GREY, (Reason("no_work", reason),), policy.version)
    if signals.done:
        return Rag(Color.GREEN, (_finished(signals),), policy.version)
    base, verdict = _forecast_reason(signals, policy)
    reasons = [base, *_escalations(signals, policy)]
    color = max((r.color for r in reasons), key=lambda c: c.rank)
    ordered = sorted(reasons, key=lambda r: -r.color.rank)
    return Rag(color, tuple(ordered), policy.version, verdict)
