"""The RAG policy: the forecast's verdict, rules that push towards red, and grey."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rollup.model import Color, RagPolicy
from rollup.rag import Signals, judge
from tests.rollup.builders import AS_OF, ref

TARGET = AS_OF + timedelta(days=30)
A, B = ref("A-1"), ref("A-2")


def signals(**overrides: object) -> Signals:
    values: dict[str, object] = {"has_work": True, "probability_on_time": 0.9, "target": TARGET}
    return Signals(**(values | overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "color", "rules"),
    [
        pytest.param(signals(), Color.GREEN, ["probability_on_time"], id="likely"),
        pytest.param(
            signals(probability_on_time=0.85), Color.GREEN, ["probability_on_time"], id="green-edge"
        ),
        pytest.param(
            signals(probability_on_time=0.84), Color.AMBER, ["probability_on_time"], id="amber"
        ),
        pytest.param(
            signals(probability_on_time=0.5), Color.AMBER, ["probability_on_time"], id="amber-edge"
        ),
        pytest.param(
            signals(probability_on_time=0.49), Color.RED, ["probability_on_time"], id="red"
        ),
        pytest.param(signals(has_work=False), Color.GREY, ["no_work"], id="nothing-to-judge"),
        pytest.param(
            signals(probability_on_time=None), Color.GREY, ["no_forecast"], id="no-forecast"
        ),
        pytest.param(signals(done=True, probability_on_time=1.0), Color.GREEN, ["done"], id="done"),
        pytest.param(
            signals(late_critical=(A, B)),
            Color.RED,
            ["late_dependency", "probability_on_time"],
            id="late-critical-dependency",
        ),
        pytest.param(
            signals(overdue_milestones=(A,)),
            Color.RED,
            ["overdue_milestone", "probability_on_time"],
            id="overdue-milestone",
        ),
        pytest.param(
            signals(stale=(A,), in_progress=4),
            Color.AMBER,
            ["stale_work", "probability_on_time"],
            id="stale-work-at-share",
        ),
        pytest.param(
            signals(stale=(A,), in_progress=5),
            Color.GREEN,
            ["probability_on_time"],
            id="a-little-stale",
        ),
        pytest.param(
            signals(scope_growth=0.11),
            Color.AMBER,
            ["scope_growth", "probability_on_time"],
            id="scope-growth",
        ),
        pytest.param(
            signals(scope_growth=0.10), Color.GREEN, ["probability_on_time"], id="growth-at-limit"
        ),
        pytest.param(
            signals(data_quality=0.79, quality_gaps=(A,)),
            Color.AMBER,
            ["data_quality", "probability_on_time"],
            id="poor-data",
        ),
        pytest.param(
            signals(cycles=(A, B)),
            Color.AMBER,
            ["dependency_cycle", "probability_on_time"],
            id="cycle",
        ),
        pytest.param(
            signals(probability_on_time=None, stale=(A,), in_progress=1),
            Color.AMBER,
            ["stale_work", "no_forecast"],
            id="rules-judge-without-a-forecast",
        ),
        pytest.param(
            signals(probability_on_time=0.3, scope_growth=0.5),
            Color.RED,
            ["probability_on_time", "scope_growth"],
            id="never-better-than-the-forecast",
        ),
    ],
)
def test_default_policy(given: Signals, color: Color, rules: list[str]) -> None:
    rag = judge(given, RagPolicy())
    assert rag.color is color
    assert [r.rule for r in rag.reasons] == rules
    assert rag.policy_version == "1"


def test_reasons_carry_their_evidence_items() -> None:
    rag = judge(signals(late_critical=(A, B)), RagPolicy())
    assert rag.reasons[0].items == (A, B)


@pytest.mark.parametrize(
    ("policy", "given", "color"),
    [
        pytest.param(RagPolicy(green_at=0.95), signals(), Color.AMBER, id="stricter-green"),
        pytest.param(
            RagPolicy(late_dependency=Color.AMBER),
            signals(late_critical=(A,)),
            Color.AMBER,
            id="softer-rule",
        ),
        pytest.param(
            RagPolicy(late_dependency=None), signals(late_critical=(A,)), Color.GREEN, id="rule-off"
        ),
        pytest.param(
            RagPolicy(stale_work=Color.RED, stale_share=0.5),
            signals(stale=(A,), in_progress=2),
            Color.RED,
            id="custom-stale",
        ),
    ],
)
def test_policy_is_configurable(policy: RagPolicy, given: Signals, color: Color) -> None:
    assert judge(given, policy).color is color
