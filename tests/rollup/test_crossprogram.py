"""Dependencies between programs: found from the dependencies that leave each program,
judged late by the waiting program, declared between outcomes, and turned into risks in
the waiting program that name the other program and its owner."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from rollup import crossprogram as cp
from rollup.forecast import ForecastBasis
from rollup.goals import OutcomeState
from rollup.graph import LateReason
from rollup.model import Color
from rollup.risk import RiskRule

TODAY = date(2026, 11, 20)
LATE = cp.Lateness(LateReason.DUE_AFTER_NEEDED, "PLAT-2 is due after PAY-3 needs it", TODAY)
INFOS = {
    "checkout": cp.ProgramInfo("checkout", "Checkout v2", "Ana Lima"),
    "platform": cp.ProgramInfo("platform", "Platform", "Bo Chen"),
    "mobile": cp.ProgramInfo("mobile", "Mobile", None),
}


def end(key: str, source: str = "jira") -> cp.End:
    return cp.End((source, key), f"Title of {key}")


def boundary(program: str, before: str, after: str, inside: str, **extra: Any) -> cp.Boundary:
    return cp.Boundary(program, end(before), end(after), inside, **extra)


def test_a_blocker_in_one_program_and_a_waiting_item_in_another_is_cross_program() -> None:
    found = cp.cross_dependencies(
        [
            boundary("platform", "PLAT-2", "PAY-3", "before"),
            boundary("checkout", "PLAT-2", "PAY-3", "after", late=LATE, critical=True,
                     outcomes=("fast-pay",)),
        ]
    )  # fmt: skip
    (dep,) = found
    assert (dep.owners, dep.waiting) == (("platform",), ("checkout",))
    assert dep.late == LATE
    assert (dep.late_for, dep.critical_for) == (("checkout",), ("checkout",))
    assert dep.outcomes == (("checkout", "fast-pay"),)


@pytest.mark.parametrize(
    "boundaries",
    [
        pytest.param(
            [boundary("checkout", "X-1", "PAY-3", "after", late=LATE)], id="blocker-in-no-program"
        ),
        pytest.param([boundary("platform", "PLAT-2", "X-1", "before")], id="waiting-in-no-program"),
    ],
)
def test_work_outside_every_program_is_not_cross_program(boundaries: list[cp.Boundary]) -> None:
    assert cp.cross_dependencies(boundaries) == ()


def test_the_waiting_programs_view_decides_lateness() -> None:
    # The blocker's program sees no late dependency (it does not know when PAY-3 is needed).
    (dep,) = cp.cross_dependencies(
        [
            boundary("platform", "PLAT-2", "PAY-3", "before", late=None),
            boundary("checkout", "PLAT-2", "PAY-3", "after", late=LATE),
        ]
    )
    assert dep.late_for == ("checkout",)


def fast_pay(**overrides: Any) -> OutcomeState:
    values: dict[str, Any] = {
        "program": "checkout",
        "key": "fast-pay",
        "name": "Pay in one click",
        "target": TODAY + timedelta(days=60),
        "color": Color.GREEN,
        "percent": 50.0,
        "done_count": 5,
        "scope_count": 10,
        "forecast": ForecastBasis.MONTE_CARLO.value,
        "p85": TODAY + timedelta(days=40),
    }
    return OutcomeState(**(values | overrides))


def app(**overrides: Any) -> OutcomeState:
    values: dict[str, Any] = {
        "program": "mobile",
        "key": "app",
        "name": "App 5.0",
        "target": TODAY + timedelta(days=90),
        "color": Color.GREEN,
        "percent": 10.0,
        "done_count": 1,
        "scope_count": 10,
        "forecast": ForecastBasis.MONTE_CARLO.value,
    }
    return OutcomeState(**(values | overrides))


@pytest.mark.parametrize(
    ("needed_by", "on", "reason"),
    [
        pytest.param(TODAY + timedelta(days=30), fast_pay(), LateReason.DUE_AFTER_NEEDED, id="target-after"),
        pytest.param(TODAY + timedelta(days=70), fast_pay(p85=TODAY + timedelta(days=80)),
                     LateReason.FORECAST_AFTER_NEEDED, id="forecast-after"),
        pytest.param(TODAY + timedelta(days=70), fast_pay(p85=None),
                     LateReason.FORECAST_AFTER_NEEDED, id="beyond-the-horizon"),
        pytest.param(TODAY + timedelta(days=70), fast_pay(p85=None, forecast="insufficient_history"),
                     None, id="no-forecast-target-in-time"),
        pytest.param(TODAY + timedelta(days=70), fast_pay(), None, id="in-time"),
        pytest.param(TODAY + timedelta(days=10), fast_pay(forecast="done", finished_on=TODAY), None,
                     id="already-done"),
        pytest.param(None, fast_pay(target=TODAY + timedelta(days=100)),
                     LateReason.DUE_AFTER_NEEDED, id="needed-by-the-waiting-target"),
    ],
)  # fmt: skip
def test_an_outcome_waiting_on_another_programs_outcome_is_judged(
    needed_by: date | None, on: OutcomeState, reason: LateReason | None
) -> None:
    link = cp.OutcomeLink("mobile", "app", "checkout", "fast-pay", needed_by)
    (judged,) = cp.outcome_dependencies(
        [link], {("checkout", "fast-pay"): on, ("mobile", "app"): app()}
    )
    assert (judged.late.reason if judged.late else None) == reason
    assert judged.needed_on == (needed_by or app().target)


def test_late_work_of_another_program_is_one_risk_naming_it_and_its_owner() -> None:
    deps = cp.cross_dependencies(
        [
            boundary("platform", "PLAT-2", "PAY-3", "before"),
            boundary("platform", "PLAT-2", "PAY-4", "before"),
            boundary("checkout", "PLAT-2", "PAY-3", "after", late=LATE, critical=True,
                     outcomes=("fast-pay",)),
            boundary("checkout", "PLAT-2", "PAY-4", "after", late=LATE, outcomes=("fast-pay",)),
        ]
    )  # fmt: skip
    (risk,) = cp.risks_for("checkout", deps, (), INFOS)
    assert risk.rule is RiskRule.CROSS_PROGRAM_DEPENDENCY
    assert risk.fingerprint == "cross_program_dependency:platform"
    assert risk.title == (
        "2 item(s) wait on late work in Platform (owner Bo Chen) on the critical path"
    )
    assert risk.items == (("jira", "PLAT-2"), ("jira", "PAY-3"), ("jira", "PAY-4"))
    assert risk.outcome_key == "fast-pay"
    assert risk.severity.value == "high"
    assert cp.risks_for("platform", deps, (), INFOS) == []


def test_a_late_outcome_link_is_a_risk_of_the_waiting_program() -> None:
    link = cp.OutcomeLink("mobile", "app", "checkout", "fast-pay", TODAY + timedelta(days=30))
    judged = cp.outcome_dependencies(
        [link], {("checkout", "fast-pay"): fast_pay(), ("mobile", "app"): app()}
    )
    (risk,) = cp.risks_for("mobile", (), judged, INFOS)
    assert risk.fingerprint == "cross_program_dependency:checkout/fast-pay>app"
    assert risk.title.startswith(
        "App 5.0 waits on Pay in one click in Checkout v2 (owner Ana Lima)"
    )
    assert risk.outcome_key == "app"
    assert cp.risks_for("checkout", (), judged, INFOS) == []


def test_a_program_without_an_owner_says_so() -> None:
    deps = cp.cross_dependencies(
        [
            boundary("mobile", "M-1", "PAY-3", "before"),
            boundary("checkout", "M-1", "PAY-3", "after", late=LATE),
        ]
    )
    (risk,) = cp.risks_for("checkout", deps, (), INFOS)
    assert "in Mobile (no owner named)" in risk.title


def test_long_subjects_get_a_fingerprint_the_store_can_keep() -> None:
    key = "p" * 60
    link = cp.OutcomeLink(key, "o" * 60, key + "x", "q" * 60, TODAY)
    judged = cp.outcome_dependencies(
        [link],
        {
            (key + "x", "q" * 60): fast_pay(program=key + "x", key="q" * 60),
            (key, "o" * 60): app(program=key, key="o" * 60),
        },
    )
    (risk,) = cp.risks_for(key, (), judged, {})
    assert len(risk.fingerprint) <= cp.FINGERPRINT_LIMIT


def test_dependencies_roll_up_between_programs() -> None:
    deps = cp.cross_dependencies(
        [
            boundary("platform", "PLAT-2", "PAY-3", "before"),
            boundary("checkout", "PLAT-2", "PAY-3", "after", late=LATE),
            boundary("platform", "PLAT-5", "PAY-9", "before"),
            boundary("checkout", "PLAT-5", "PAY-9", "after"),
        ]
    )
    link = cp.OutcomeLink("mobile", "app", "checkout", "fast-pay", TODAY + timedelta(days=30))
    judged = cp.outcome_dependencies(
        [link], {("checkout", "fast-pay"): fast_pay(), ("mobile", "app"): app()}
    )
    edges = {(e.before, e.after): (e.count, e.late) for e in cp.program_edges(deps, judged)}
    assert edges == {("platform", "checkout"): (2, 1), ("checkout", "mobile"): (1, 1)}
