"""Risks the data shows, each with its rule, severity and the items behind it.

A derived risk has a ``fingerprint`` — its rule and subject — so the same risk keeps its
identity from one recomputation to the next: the store opens it when the signal first
appears and closes it when the signal clears. Per-item signals (stale, overdue, blocked,
unowned) are gathered into one risk per outcome, so a program manager reads "7 stale
items in Checkout", not seven risks.

Severity follows the 5 × 5 matrix used for register risks: probability × impact of
1–4 is low, 5–9 medium, 10–16 high, 20–25 critical.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from enum import StrEnum

from rollup.graph import LateDependency
from rollup.history import local_date
from rollup.model import ItemRef, Outcome, RiskThresholds, Severity, WorkItem
from rollup.quality import DataQuality
from vocabulary import ItemKind, StatusCategory


class RiskRule(StrEnum):
    LATE_DEPENDENCY = "late_dependency"
    DEPENDENCY_CYCLE = "dependency_cycle"
    OVERDUE = "overdue"
    OVERDUE_MILESTONE = "overdue_milestone"
    STALE_WORK = "stale_work"
    BLOCKED_WORK = "blocked_work"
    SLIPPING_FORECAST = "slipping_forecast"
    SCOPE_CREEP = "scope_creep"
    UNESTIMATED_WORK = "unestimated_work"
    UNOWNED_WORK = "unowned_work"
    DATA_QUALITY = "data_quality"


@dataclass(frozen=True, slots=True)
class Evidence:
    ref: ItemRef
    detail: str


@dataclass(frozen=True, slots=True)
class DerivedRisk:
    rule: RiskRule
    fingerprint: str
    title: str
    probability: int
    impact: int
    evidence: tuple[Evidence, ...]
    outcome_key: str | None = None

    def __post_init__(self) -> None:
        # Each line of evidence once, in the order found.
        object.__setattr__(self, "evidence", tuple(dict.fromkeys(self.evidence)))

    @property
    def severity(self) -> Severity:
        return severity_of(self.probability, self.impact)

    @property
    def items(self) -> tuple[ItemRef, ...]:
        return tuple(dict.fromkeys(e.ref for e in self.evidence))


def severity_of(probability: int, impact: int) -> Severity:
    score = probability * impact
    if score >= 20:
        return Severity.CRITICAL
    if score >= 10:
        return Severity.HIGH
    return Severity.MEDIUM if score >= 5 else Severity.LOW


def stale_items(
    units: Iterable[WorkItem], *, as_of: date, zone: tzinfo, days: int
) -> tuple[WorkItem, ...]:
    """Work in progress that nobody has touched for ``days`` days."""
    limit = as_of - timedelta(days=days)
    return tuple(
        u
        for u in units
        if u.status_category is StatusCategory.IN_PROGRESS
        and local_date(u.updated_at, zone) <= limit
    )


def overdue_items(units: Iterable[WorkItem], *, as_of: date) -> tuple[WorkItem, ...]:
    return tuple(u for u in units if not u.done and u.due_on is not None and u.due_on < as_of)


def blocked_items(
    units: Iterable[WorkItem], waiting: set[ItemRef], statuses: Sequence[str]
) -> tuple[WorkItem, ...]:
    """Unfinished work in a blocked status, or in progress while a predecessor is unfinished."""
    words = [s.casefold() for s in statuses]
    blocking: dict[str, bool] = {}
    found = []
    for u in units:
        if u.done:
            continue
        if u.status not in blocking:
            blocking[u.status] = any(w in u.status.casefold() for w in words)
        if blocking[u.status] or (
            u.status_category is StatusCategory.IN_PROGRESS and u.ref in waiting
        ):
            found.append(u)
    return tuple(found)


def unowned_items(
    units: Iterable[WorkItem], *, as_of: date, soon_days: int
) -> tuple[WorkItem, ...]:
    """Work nobody owns that is already in progress or due within ``soon_days``."""
    soon = as_of + timedelta(days=soon_days)
    return tuple(
        u
        for u in units
        if not u.done
        and not u.assignee
        and (
            u.status_category is StatusCategory.IN_PROGRESS
            or (u.due_on is not None and u.due_on <= soon)
        )
    )


@dataclass(frozen=True, slots=True)
class OutcomeFacts:
    """What the risk rules look at for one outcome."""

    outcome: Outcome
    stale: tuple[WorkItem, ...]
    overdue: tuple[WorkItem, ...]
    blocked: tuple[WorkItem, ...]
    unowned: tuple[WorkItem, ...]
    unestimated: tuple[WorkItem, ...]
    p85: date | None = None
    previous_p85: date | None = None
    """P85 a week ago, from the snapshots."""
    scope_growth: float | None = None
    """Growth of scope since the baseline, as a fraction."""


_GROUPED = (
    (
        RiskRule.STALE_WORK,
        "stale",
        "{n} item(s) in progress in {name} have not moved for {days}+ days",
        (3, 2),
        "last updated {item.updated_at:%Y-%m-%d}",
    ),
    (
        RiskRule.OVERDUE,
        "overdue",
        "{n} item(s) in {name} are past due",
        (4, 2),
        "due {item.due_on}",
    ),
    (
        RiskRule.BLOCKED_WORK,
        "blocked",
        "{n} item(s) in {name} are blocked",
        (3, 3),
        "{item.status}",
    ),
    (
        RiskRule.UNOWNED_WORK,
        "unowned",
        "{n} item(s) in {name} have no owner",
        (3, 2),
        "no assignee ({item.status})",
    ),
    (
        RiskRule.UNESTIMATED_WORK,
        "unestimated",
        "{n} item(s) in {name} have no estimate",
        (2, 2),
        "no estimate",
    ),
)
"""Per-item signals gathered into one risk per outcome: rule, the ``OutcomeFacts`` field,
title, (probability, impact) and the evidence line of each item."""


def outcome_risks(facts: OutcomeFacts, thresholds: RiskThresholds) -> list[DerivedRisk]:
    """The per-outcome risks: stale, overdue, blocked, unowned and unestimated work,
    a slipping forecast and scope creep."""
    o = facts.outcome
    risks = []
    for rule, attribute, title, (p, i), detail in _GROUPED:
        items: tuple[WorkItem, ...] = getattr(facts, attribute)
        if items:
            risks.append(
                DerivedRisk(
                    rule,
                    f"{rule}:{o.key}",
                    title.format(n=len(items), name=o.name, days=thresholds.stale_after_days),
                    p,
                    i,
                    tuple(Evidence(u.ref, detail.format(item=u)) for u in items),
                    o.key,
                )
            )
    risks += _slipping(facts, thresholds)
    if facts.scope_growth is not None and facts.scope_growth > thresholds.scope_creep:
        high = facts.scope_growth > 2 * thresholds.scope_creep
        risks.append(
            DerivedRisk(
                RiskRule.SCOPE_CREEP,
                f"{RiskRule.SCOPE_CREEP}:{o.key}",
                f"Scope of {o.name} grew {facts.scope_growth:.0%} since the baseline",
                4 if high else 3,
                3,
                (),
                o.key,
            )
        )
    return risks


def _slipping(facts: OutcomeFacts, thresholds: RiskThresholds) -> list[DerivedRisk]:
    o = facts.outcome
    fingerprint = f"{RiskRule.SLIPPING_FORECAST}:{o.key}"
    if facts.p85 is None:
        return []
    if o.target is not None and facts.p85 > o.target:
        title = f"{o.name} is forecast (P85) for {facts.p85}, after its target {o.target}"
        return [DerivedRisk(RiskRule.SLIPPING_FORECAST, fingerprint, title, 4, 4, (), o.key)]
    previous = facts.previous_p85
    if previous is not None and (facts.p85 - previous).days >= thresholds.slip_days:
        title = f"{o.name}'s P85 slipped from {previous} to {facts.p85} in a week"
        return [DerivedRisk(RiskRule.SLIPPING_FORECAST, fingerprint, title, 3, 3, (), o.key)]
    return []


def dependency_risks(
    late: Sequence[tuple[LateDependency, bool]],
    cycles: Sequence[tuple[ItemRef, ...]],
    outcomes_of: dict[ItemRef, tuple[str, ...]],
    titles: Mapping[ItemRef, str] | None = None,
) -> list[DerivedRisk]:
    """One risk per late predecessor (however many it holds up) and one per cycle; items
    are named by key and title (``titles``) where known."""
    named = titles or {}
    by_before: dict[ItemRef, list[tuple[LateDependency, bool]]] = {}
    for entry in late:
        by_before.setdefault(entry[0].edge.before, []).append(entry)
    risks = []
    for before, entries in sorted(by_before.items()):
        critical = any(c for _, c in entries)
        affected = sorted({o for d, _ in entries for o in outcomes_of.get(d.edge.after, ())})
        # The predecessor's line says what it holds up; each dependency's own line is on
        # the item that waits (the same sentence twice would read as two problems).
        evidence = (
            Evidence(before, f"{len(entries)} item(s) wait on it"),
            *(Evidence(d.edge.after, d.detail) for d, _ in entries),
        )
        risks.append(
            DerivedRisk(
                RiskRule.LATE_DEPENDENCY,
                f"{RiskRule.LATE_DEPENDENCY}:{before[0]}:{before[1]}",
                f"{_name(before, named)} is late for {len(entries)} item(s) that wait on it"
                + (" on the critical path" if critical else ""),
                4 if critical else 3,
                4 if critical else 3,
                evidence,
                affected[0] if len(affected) == 1 else None,
            )
        )
    for cycle in cycles:
        names = " → ".join(k for _, k in (*cycle, cycle[0]))
        risks.append(
            DerivedRisk(
                RiskRule.DEPENDENCY_CYCLE,
                f"{RiskRule.DEPENDENCY_CYCLE}:" + "|".join(f"{s}:{k}" for s, k in sorted(cycle)),
                f"Dependency cycle: {names}",
                5,
                3,
                tuple(Evidence(r, "part of the cycle") for r in cycle),
            )
        )
    return risks


def _name(ref: ItemRef, titles: Mapping[ItemRef, str]) -> str:
    title = titles.get(ref)
    return f"{ref[1]} ({title})" if title else ref[1]


def program_risks(
    milestones: Sequence[WorkItem], quality: DataQuality, *, as_of: date, quality_below: float
) -> list[DerivedRisk]:
    """Overdue milestones (one risk each) and poor data quality."""
    risks = [
        DerivedRisk(
            RiskRule.OVERDUE_MILESTONE,
            f"{RiskRule.OVERDUE_MILESTONE}:{m.source}:{m.key}",
            f"Milestone {m.key} ({m.title}) was due {m.due_on}",
            5,
            4,
            (Evidence(m.ref, f"due {m.due_on}, {(as_of - m.due_on).days} day(s) ago"),),
        )
        for m in milestones
        if m.kind is ItemKind.MILESTONE and not m.done and m.due_on and m.due_on < as_of
    ]
    if quality.score is not None and quality.score < quality_below:
        evidence = tuple(Evidence(r, c.name) for c in quality.checks if c.scored for r in c.items)
        risks.append(
            DerivedRisk(
                RiskRule.DATA_QUALITY,
                str(RiskRule.DATA_QUALITY),
                f"Data quality is {quality.score:.0%}: figures may be off",
                3,
                2,
                evidence,
            )
        )
    return risks
