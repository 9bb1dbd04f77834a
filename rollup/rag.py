"""The colour of an outcome or program, as a small versioned policy with its reasons.

The forecast gives the first verdict: green when the target is likely enough
(``green_at``), amber when it is at least a fair chance (``amber_at``), red otherwise.
Rules about the work itself can only push the colour towards red: a late dependency on
the critical path, an overdue milestone, a pile of stale work, scope growth past the
threshold, poor data, a dependency cycle. Every rule that fired is listed with the items
behind it. With no work, or no forecast and no rule firing, the colour is grey.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rollup.model import Color, ItemRef, RagPolicy


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


@dataclass(frozen=True, slots=True)
class Signals:
    """What the policy judges, gathered for one outcome or a whole program."""

    has_work: bool
    done: bool = False
    probability_on_time: float | None = None
    target: date | None = None
    p85: date | None = None
    no_forecast_because: str = ""
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
    """For a program: outcomes whose own colour is amber or red."""


def _forecast_reason(signals: Signals, policy: RagPolicy) -> Reason:
    p = signals.probability_on_time
    if signals.done:
        late = " (after its target)" if p == 0.0 else ""
        return Reason("done", f"all work is done{late}", color=Color.GREEN)
    if p is None:
        return Reason("no_forecast", signals.no_forecast_because or "no forecast to judge")
    color = (
        Color.GREEN if p >= policy.green_at else Color.AMBER if p >= policy.amber_at else Color.RED
    )
    p85 = f"; P85 {signals.p85}" if signals.p85 else "; P85 beyond the horizon"
    return Reason(
        "probability_on_time",
        f"{p:.0%} likely to finish by {signals.target}{p85} "
        f"(green ≥ {policy.green_at:.0%}, amber ≥ {policy.amber_at:.0%})",
        color=color,
    )


def _escalations(signals: Signals, policy: RagPolicy) -> list[Reason]:
    found: list[Reason] = []

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
    for key, color in signals.worse_parts:
        found.append(Reason("outcome", f"outcome {key} is {color}", (), color))
    return found


def judge(signals: Signals, policy: RagPolicy) -> Rag:
    """The colour the policy gives these signals, with every rule that fired, worst first."""
    if not signals.has_work:
        return Rag(Color.GREY, (Reason("no_work", "no work is selected yet"),), policy.version)
    base = _forecast_reason(signals, policy)
    reasons = [base, *_escalations(signals, policy)]
    color = max((r.color for r in reasons), key=lambda c: c.rank)
    ordered = sorted(reasons, key=lambda r: -r.color.rank)
    return Rag(color, tuple(ordered), policy.version)
