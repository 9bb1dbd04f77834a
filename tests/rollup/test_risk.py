"""Derived risks: one table per rule, with the evidence items behind each."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from rollup.graph import Edge, LateDependency, LateReason
from rollup.model import RiskThresholds, Severity, WorkItem
from rollup.quality import Check, DataQuality
from rollup.risk import (
    DerivedRisk,
    Evidence,
    OutcomeFacts,
    RiskRule,
    blocked_items,
    dependency_risks,
    outcome_risks,
    overdue_items,
    program_risks,
    severity_of,
    stale_items,
    unowned_items,
)
from tests.rollup.builders import AS_OF, at, doing, done, item, outcome, ref
from vocabulary import ItemKind

PAY = outcome("pay", target=AS_OF + timedelta(days=30), name="Pay")


@pytest.mark.parametrize(
    ("p", "i", "severity"),
    [
        (1, 4, Severity.LOW),
        (1, 5, Severity.MEDIUM),
        (3, 3, Severity.MEDIUM),
        (2, 5, Severity.HIGH),
        (4, 4, Severity.HIGH),
        (4, 5, Severity.CRITICAL),
    ],
)
def test_severity_follows_the_five_by_five_matrix(p: int, i: int, severity: Severity) -> None:
    assert severity_of(p, i) is severity


def _keys(items: tuple[WorkItem, ...]) -> list[str]:
    return [i.key for i in items]


@pytest.mark.parametrize(
    ("items", "stale"),
    [
        pytest.param([doing("A-1", updated_at=at(14))], ["A-1"], id="two-weeks-untouched"),
        pytest.param([doing("A-1", updated_at=at(13))], [], id="touched-recently"),
        pytest.param([item("A-1", updated_at=at(40))], [], id="not-started-is-not-stale"),
        pytest.param([done("A-1", updated_at=at(40))], [], id="done-is-not-stale"),
    ],
)
def test_stale_work(items: list[WorkItem], stale: list[str]) -> None:
    assert _keys(stale_items(items, as_of=AS_OF, zone=UTC, days=14)) == stale


@pytest.mark.parametrize(
    ("items", "overdue"),
    [
        pytest.param([item("A-1", due_on=AS_OF - timedelta(days=1))], ["A-1"], id="past-due"),
        pytest.param([item("A-1", due_on=AS_OF)], [], id="due-today"),
        pytest.param([done("A-1", due_on=AS_OF - timedelta(days=9))], [], id="done-late"),
    ],
)
def test_overdue_work(items: list[WorkItem], overdue: list[str]) -> None:
    assert _keys(overdue_items(items, as_of=AS_OF)) == overdue


@pytest.mark.parametrize(
    ("items", "waiting", "blocked"),
    [
        pytest.param([item("A-1", status="Blocked")], set(), ["A-1"], id="blocked-status"),
        pytest.param([doing("A-1", status="On hold (vendor)")], set(), ["A-1"], id="on-hold"),
        pytest.param([doing("A-1")], {ref("A-1")}, ["A-1"], id="running-on-open-work"),
        pytest.param([item("A-1")], {ref("A-1")}, [], id="waiting-before-starting-is-fine"),
        pytest.param([done("A-1", status="Blocked")], set(), [], id="done"),
    ],
)
def test_blocked_work(items: list[WorkItem], waiting: set, blocked: list[str]) -> None:  # type: ignore[type-arg]
    assert _keys(blocked_items(items, waiting, RiskThresholds().blocked_statuses)) == blocked


@pytest.mark.parametrize(
    ("items", "unowned"),
    [
        pytest.param([doing("A-1", assignee=None)], ["A-1"], id="running-unowned"),
        pytest.param(
            [item("A-1", assignee=None, due_on=AS_OF + timedelta(days=14))], ["A-1"], id="due-soon"
        ),
        pytest.param(
            [item("A-1", assignee=None, due_on=AS_OF + timedelta(days=15))], [], id="due-later"
        ),
        pytest.param([item("A-1", assignee=None)], [], id="backlog"),
        pytest.param([doing("A-1")], [], id="owned"),
    ],
)
def test_unowned_work(items: list[WorkItem], unowned: list[str]) -> None:
    assert _keys(unowned_items(items, as_of=AS_OF, soon_days=14)) == unowned


def _facts(**overrides: object) -> OutcomeFacts:
    values: dict[str, object] = {
        "stale": (),
        "overdue": (),
        "blocked": (),
        "unowned": (),
        "unestimated": (),
    }
    return OutcomeFacts(PAY, **(values | overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "rules", "severity"),
    [
        pytest.param(_facts(), [], None, id="quiet"),
        pytest.param(
            _facts(stale=(doing("A-1"),)), [RiskRule.STALE_WORK], Severity.MEDIUM, id="stale"
        ),
        pytest.param(
            _facts(overdue=(item("A-1"),)), [RiskRule.OVERDUE], Severity.MEDIUM, id="overdue"
        ),
        pytest.param(
            _facts(blocked=(item("A-1"),)), [RiskRule.BLOCKED_WORK], Severity.MEDIUM, id="blocked"
        ),
        pytest.param(
            _facts(unowned=(item("A-1"),)), [RiskRule.UNOWNED_WORK], Severity.MEDIUM, id="unowned"
        ),
        pytest.param(
            _facts(unestimated=(item("A-1"),)),
            [RiskRule.UNESTIMATED_WORK],
            Severity.LOW,
            id="unestimated",
        ),
        pytest.param(
            _facts(p85=AS_OF + timedelta(days=31)),
            [RiskRule.SLIPPING_FORECAST],
            Severity.HIGH,
            id="p85-past-target",
        ),
        pytest.param(
            _facts(p85=AS_OF + timedelta(days=20), previous_p85=AS_OF + timedelta(days=13)),
            [RiskRule.SLIPPING_FORECAST],
            Severity.MEDIUM,
            id="p85-slipped-a-week",
        ),
        pytest.param(
            _facts(p85=AS_OF + timedelta(days=20), previous_p85=AS_OF + timedelta(days=14)),
            [],
            None,
            id="p85-slipped-less",
        ),
        pytest.param(
            _facts(scope_growth=0.15), [RiskRule.SCOPE_CREEP], Severity.MEDIUM, id="creep"
        ),
        pytest.param(
            _facts(scope_growth=0.25), [RiskRule.SCOPE_CREEP], Severity.HIGH, id="big-creep"
        ),
        pytest.param(_facts(scope_growth=0.10), [], None, id="growth-at-threshold"),
    ],
)
def test_outcome_risks(
    facts: OutcomeFacts, rules: list[RiskRule], severity: Severity | None
) -> None:
    risks = outcome_risks(facts, RiskThresholds())
    assert [r.rule for r in risks] == rules
    if risks:
        assert risks[0].severity is severity
        assert risks[0].fingerprint == f"{rules[0]}:pay"
        assert risks[0].outcome_key == "pay"


def test_grouped_risk_lists_each_item_as_evidence() -> None:
    facts = _facts(
        overdue=(
            item("A-1", due_on=AS_OF - timedelta(days=2)),
            item("A-2", due_on=AS_OF - timedelta(days=1)),
        )
    )
    (risk,) = outcome_risks(facts, RiskThresholds())
    assert risk.title == "2 item(s) in Pay are past due"
    assert [(e.ref, e.detail) for e in risk.evidence] == [
        (ref("A-1"), f"due {AS_OF - timedelta(days=2)}"),
        (ref("A-2"), f"due {AS_OF - timedelta(days=1)}"),
    ]


def _late(before: str, after: str) -> LateDependency:
    return LateDependency(
        Edge(ref(before), ref(after), False, False),
        LateReason.NOT_STARTED,
        f"{before} late for {after}",
    )


def test_one_risk_per_late_predecessor_and_per_cycle() -> None:
    late = [(_late("A-1", "A-2"), False), (_late("A-1", "A-3"), True), (_late("B-1", "A-2"), False)]
    cycle = (ref("C-1"), ref("C-2"))
    risks = dependency_risks(late, [cycle], {ref("A-2"): ("pay",), ref("A-3"): ("pay",)})
    summary = [(r.rule, r.fingerprint, r.severity, r.items, r.outcome_key) for r in risks]
    assert summary == [
        (
            RiskRule.LATE_DEPENDENCY,
            "late_dependency:jira:A-1",
            Severity.HIGH,
            (ref("A-1"), ref("A-2"), ref("A-3")),
            "pay",
        ),
        (
            RiskRule.LATE_DEPENDENCY,
            "late_dependency:jira:B-1",
            Severity.MEDIUM,
            (ref("B-1"), ref("A-2")),
            "pay",
        ),
        (
            RiskRule.DEPENDENCY_CYCLE,
            "dependency_cycle:jira:C-1|jira:C-2",
            Severity.HIGH,
            cycle,
            None,
        ),
    ]
    assert risks[2].title == "Dependency cycle: C-1 → C-2 → C-1"


@pytest.mark.parametrize(
    ("milestones", "score", "rules"),
    [
        pytest.param(
            [item("M-1", kind=ItemKind.MILESTONE, due_on=AS_OF - timedelta(days=1))],
            1.0,
            [RiskRule.OVERDUE_MILESTONE],
            id="overdue-milestone",
        ),
        pytest.param(
            [item("M-1", kind=ItemKind.MILESTONE, due_on=AS_OF)], 1.0, [], id="milestone-due-today"
        ),
        pytest.param(
            [done("M-1", kind=ItemKind.MILESTONE, due_on=AS_OF - timedelta(days=3))],
            1.0,
            [],
            id="milestone-met",
        ),
        pytest.param([], 0.79, [RiskRule.DATA_QUALITY], id="poor-data"),
        pytest.param([], 0.8, [], id="good-enough-data"),
    ],
)
def test_program_risks(milestones: list[WorkItem], score: float, rules: list[RiskRule]) -> None:
    quality = DataQuality(score, (Check("missing_estimate", "1 item", (ref("A-1"),)),))
    risks = program_risks(milestones, quality, as_of=AS_OF, quality_below=0.8)
    assert [r.rule for r in risks] == rules


def test_a_late_dependency_lists_each_line_of_evidence_once() -> None:
    (risk,) = dependency_risks([(_late("A-1", "A-2"), True)], [], {}, {ref("A-1"): "Card vault"})
    assert (
        risk.title == "A-1 (Card vault) is late for 1 item(s) that wait on it on the critical path"
    )
    assert [(e.ref, e.detail) for e in risk.evidence] == [
        (ref("A-1"), "1 item(s) wait on it"),
        (ref("A-2"), "A-1 late for A-2"),
    ]


def test_evidence_repeated_by_a_rule_is_kept_once() -> None:
    line = Evidence(ref("A-1"), "due yesterday")
    risk = DerivedRisk(RiskRule.OVERDUE, "overdue:pay", "t", 3, 3, (line, line))
    assert risk.evidence == (line,)
