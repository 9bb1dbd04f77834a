"""A program manager's say on derived risks, held while the signal lasts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rollup.model import Severity
from rollup.overrides import ManagedRisk, Override, lapsed, manage
from rollup.risk import DerivedRisk, RiskRule

RISK = DerivedRisk(RiskRule.STALE_WORK, "stale_work:pay", "3 items are stale", 3, 2, ())


def test_a_risk_without_override_shows_what_the_data_says() -> None:
    (managed,) = manage([RISK], {})
    assert (managed.probability, managed.impact, managed.severity) == (3, 2, Severity.MEDIUM)
    assert managed.overridden == ()


def test_an_override_rescores_the_risk_and_says_what_was_set() -> None:
    override = Override(
        "stale_work:pay",
        probability=5,
        impact=5,
        owner="Ana",
        roam="owned",
        set_by="pm-team",
        set_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    (managed,) = manage([RISK], {"stale_work:pay": override})
    assert (managed.probability, managed.impact, managed.severity) == (5, 5, Severity.CRITICAL)
    assert managed.overridden == ("probability", "impact", "owner", "roam")
    assert managed.risk.probability == 3


def test_overrides_lapse_with_their_signal() -> None:
    overrides = {
        "stale_work:pay": Override("stale_work:pay"),
        "overdue:web": Override("overdue:web"),
    }
    assert lapsed([RISK], overrides) == ("overdue:web",)


@pytest.mark.parametrize(
    "values",
    [({"probability": 0}, "probability"), ({"impact": 6}, "impact"), ({"roam": "x"}, "roam")],
    ids=["probability-too-low", "impact-too-high", "unknown-roam"],
)
def test_an_override_out_of_range_is_refused(values: tuple[dict[str, object], str]) -> None:
    fields, name = values
    with pytest.raises(ValueError, match=name):
        Override("stale_work:pay", **fields)  # type: ignore[arg-type]


def test_managed_risk_keeps_the_datas_scores_beside_the_override() -> None:
    managed = ManagedRisk(RISK, Override("stale_work:pay", impact=4))
    assert (managed.risk.impact, managed.impact, managed.probability) == (2, 4, 3)
