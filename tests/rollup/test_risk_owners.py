"""Every derived risk has an owner: the assignee of the item that causes it, else the
owner of its outcome."""

from __future__ import annotations

import pytest

from rollup.risk import DerivedRisk, Evidence, RiskRule, assign_owners, stall_risk
from tests.rollup.builders import doing, item, outcome, ref

PAY = outcome("pay", name="Pay in one click", owner="Olga")
ITEMS = {
    ref("PAY-3"): doing("PAY-3", assignee="Bo"),
    ref("PAY-4"): item("PAY-4", assignee="Ana"),
    ref("PAY-5"): item("PAY-5", assignee="Ana"),
    ref("PAY-6"): item("PAY-6", assignee=None),
}


def _risk(rule: RiskRule, *keys: str, outcome_key: str | None = "pay") -> DerivedRisk:
    evidence = tuple(Evidence(ref(k), "") for k in keys)
    return DerivedRisk(rule, f"{rule}:x", "t", 3, 3, evidence, outcome_key)


@pytest.mark.parametrize(
    ("risk", "owner", "basis"),
    [
        pytest.param(
            _risk(RiskRule.LATE_DEPENDENCY, "PAY-3", "PAY-4", "PAY-5"),
            "Bo",
            "assignee of PAY-3",
            id="late-dependency-blocking-item",
        ),
        pytest.param(
            _risk(RiskRule.STALE_WORK, "PAY-3", "PAY-4", "PAY-5"),
            "Ana",
            "assignee of PAY-4",
            id="group-most-items",
        ),
        pytest.param(
            _risk(RiskRule.OVERDUE, "PAY-6"), "Olga", "owner of Pay in one click", id="no-assignee"
        ),
        pytest.param(
            stall_risk(PAY, "nothing finished in 5 weeks"),
            "Olga",
            "owner of Pay in one click",
            id="stall",
        ),
        pytest.param(
            _risk(RiskRule.UNOWNED_WORK, "PAY-3"),
            "Olga",
            "owner of Pay in one click",
            id="unowned-work-goes-to-the-outcome",
        ),
        pytest.param(
            _risk(RiskRule.DATA_QUALITY, outcome_key=None), None, None, id="nobody-to-name"
        ),
    ],
)
def test_a_derived_risk_is_owned_by_who_causes_it(
    risk: DerivedRisk, owner: str | None, basis: str | None
) -> None:
    (owned,) = assign_owners([risk], ITEMS, [PAY])
    assert (owned.owner, owned.owner_basis) == (owner, basis)


def test_a_risk_nobody_else_answers_for_is_the_programs_owner() -> None:
    risk = _risk(RiskRule.DATA_QUALITY, outcome_key=None)
    (owned,) = assign_owners([risk], ITEMS, [PAY], "Priya")
    assert (owned.owner, owned.owner_basis) == ("Priya", "owner of the program")
