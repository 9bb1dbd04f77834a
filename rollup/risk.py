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
from dataclasses import dataclass, replace
from datetime import date, timedelta, tzinfo
from enum import StrEnum

from rollup.figures import day, item_label, item_name, percent
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
    STALLED = "stalled"
    CROSS_PROGRAM_DEPENDENCY = "cross_program_dependency"
    """Work of another program, late for this one's (``rollup.crossprogram``)."""


ISSUE_RULES = frozenset(
    {
        RiskRule.OVERDUE,
        RiskRule.OVERDUE_MILESTONE,
        RiskRule.BLOCKED_WORK,
        RiskRule.STALLED,
        RiskRule.DEPENDENCY_CYCLE,
    }
)
"""Rules whose signal is a problem that has already happened (an issue), not one that may:
work is past due, blocked, stalled, or waits on itself."""

MITIGATIONS: Mapping[RiskRule, str] = {
    RiskRule.LATE_DEPENDENCY: "agree a date with the blocking work's owner, or re-plan the "
    "work that waits on it",
    RiskRule.DEPENDENCY_CYCLE: "decide which of the items goes first and remove one link",
    RiskRule.OVERDUE: "re-date the items or cut them from scope",
    RiskRule.OVERDUE_MILESTONE: "re-date the milestone, or say what it still waits on",
    RiskRule.STALE_WORK: "ask the assignees where the work stands; park what is not moving",
    RiskRule.BLOCKED_WORK: "unblock the items or take them out of progress",
    RiskRule.SLIPPING_FORECAST: "cut scope, add capacity, or move the target",
    RiskRule.SCOPE_CREEP: "review what was added against the outcome; defer what can wait",
    RiskRule.UNESTIMATED_WORK: "estimate the items at the next refinement",
    RiskRule.UNOWNED_WORK: "give every item in progress or due soon an assignee",
    RiskRule.DATA_QUALITY: "fix the flagged items in the tracker so the figures can be trusted",
    RiskRule.STALLED: "find out what holds the work up and who can move it",
    RiskRule.CROSS_PROGRAM_DEPENDENCY: "agree a date with the other program's owner, or "
    "re-plan the work that waits on it",
}
"""What usually answers each rule: shown as a suggestion until a person writes the mitigation."""


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
    owner: str | None = None
    """Who answers for it until a person names someone (``assign_owners``)."""
    owner_basis: str | None = None
    """Why them, in words: "assignee of PAY-3", "owner of Pay in one click"."""

    def __post_init__(self) -> None:
        # Each item once, in the order found, with what is said of it on one line.
        said: dict[ItemRef, list[str]] = {}
        for line in self.evidence:
            details = said.setdefault(line.ref, [])
            if line.detail not in details:
                details.append(line.detail)
        merged = tuple(Evidence(ref, "; ".join(details)) for ref, details in said.items())
        object.__setattr__(self, "evidence", merged)

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
        "last updated {updated}",
    ),
    (
        RiskRule.OVERDUE,
        "overdue",
        "{n} item(s) in {name} are past due",
        (4, 2),
        "due {due}",
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
                    tuple(Evidence(u.ref, _evidence(detail, u)) for u in items),
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
                f"Scope of {o.name} grew {percent(facts.scope_growth)} since the baseline",
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
        title = f"{o.name} is forecast (P85) for {day(facts.p85)}, after its target {day(o.target)}"
        return [DerivedRisk(RiskRule.SLIPPING_FORECAST, fingerprint, title, 4, 4, (), o.key)]
    previous = facts.previous_p85
    if previous is not None and (facts.p85 - previous).days >= thresholds.slip_days:
        title = f"{o.name}'s P85 slipped from {day(previous)} to {day(facts.p85)} in a week"
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
            Evidence(before, _waiting(len(entries))),
            *(Evidence(d.edge.after, d.detail) for d, _ in entries),
        )
        risks.append(
            DerivedRisk(
                RiskRule.LATE_DEPENDENCY,
                f"{RiskRule.LATE_DEPENDENCY}:{before[0]}:{before[1]}",
                f"{_name(before, named)} is late for {_waiting(len(entries), 'that ')}"
                + (" on the critical path" if critical else ""),
                4 if critical else 3,
                4 if critical else 3,
                evidence,
                affected[0] if len(affected) == 1 else None,
            )
        )
    for cycle in cycles:
        names = " → ".join(item_name(r[1], named.get(r, "")) for r in (*cycle, cycle[0]))
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


def _waiting(n: int, that: str = "") -> str:
    """``1 item waits on it``, ``3 items that wait on it``."""
    return f"1 item {that}waits on it" if n == 1 else f"{n} items {that}wait on it"


def _name(ref: ItemRef, titles: Mapping[ItemRef, str]) -> str:
    return item_label(ref[1], titles.get(ref, ""))


def _evidence(template: str, item: WorkItem) -> str:
    """An evidence line about one item, its dates written as every figure writes them."""
    updated = day(item.updated_at.date()) if item.updated_at else "never"
    return template.format(item=item, updated=updated, due=day(item.due_on))


def program_risks(
    milestones: Sequence[WorkItem], quality: DataQuality, *, as_of: date, quality_below: float
) -> list[DerivedRisk]:
    """Overdue milestones (one risk each) and poor data quality."""
    risks = [
        DerivedRisk(
            RiskRule.OVERDUE_MILESTONE,
            f"{RiskRule.OVERDUE_MILESTONE}:{m.source}:{m.key}",
            f"Milestone {item_label(m.key, m.title)} was due {day(m.due_on)}",
            5,
            4,
            (Evidence(m.ref, f"due {day(m.due_on)}, {(as_of - m.due_on).days} day(s) ago"),),
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
                f"Data quality is {percent(quality.score)}: figures may be off",
                3,
                2,
                evidence,
            )
        )
    return risks


def stall_risk(outcome: Outcome, detail: str) -> DerivedRisk:
    """Nothing finished for weeks while work is left: the outcome's stall as a risk."""
    return DerivedRisk(
        RiskRule.STALLED,
        f"{RiskRule.STALLED}:{outcome.key}",
        f"{outcome.name} has stalled: {detail}",
        5,
        4,
        (),
        outcome.key,
    )


_BY_OUTCOME = frozenset(
    {
        RiskRule.UNOWNED_WORK,
        RiskRule.SLIPPING_FORECAST,
        RiskRule.SCOPE_CREEP,
        RiskRule.STALLED,
        RiskRule.DATA_QUALITY,
    }
)
"""Rules no single item causes (or whose items have no assignee): the outcome's owner."""


def _assignee_of(risk: DerivedRisk, items: Mapping[ItemRef, WorkItem]) -> tuple[str, str] | None:
    """The assignee of the item that causes the risk, and which item that is.

    A late dependency is caused by the work waited on (the first line of evidence); a
    group of items by the person holding most of them (the first such item names them).
    """
    refs = risk.items[:1] if risk.rule is RiskRule.LATE_DEPENDENCY else risk.items
    held: dict[str, list[ItemRef]] = {}
    for ref in refs:
        item = items.get(ref)
        if item is not None and item.assignee:
            held.setdefault(item.assignee, []).append(ref)
    if not held:
        return None
    person, mine = max(held.items(), key=lambda entry: len(entry[1]))
    return person, mine[0][1]


def assign_owners(
    risks: Sequence[DerivedRisk],
    items: Mapping[ItemRef, WorkItem],
    outcomes: Sequence[Outcome],
    program_owner: str | None = None,
) -> list[DerivedRisk]:
    """Every derived risk with an owner: the assignee of the item that causes it, else the
    owner of its outcome, else the program's (both from the configuration); a person's own
    choice comes later."""
    owners = {o.key: o for o in outcomes if o.owner}
    found = []
    for risk in risks:
        assignee = None if risk.rule in _BY_OUTCOME else _assignee_of(risk, items)
        outcome = owners.get(risk.outcome_key or "")
        owner: str | None = None
        basis: str | None = None
        if assignee is not None:
            owner, basis = assignee[0], f"assignee of {assignee[1]}"
        elif outcome is not None:
            owner, basis = outcome.owner, f"owner of {outcome.name}"
        elif program_owner:
            owner, basis = program_owner, "owner of the program"
        found.append(replace(risk, owner=owner, owner_basis=basis))
    return found
