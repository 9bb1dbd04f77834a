"""The RAG policy: the forecast's verdict, rules that push towards red, and grey."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rollup.history import History
from rollup.hysteresis import Verdict
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
            signals(done=True, scope_growth=0.9, stale=(A,), in_progress=1),
            Color.GREEN,
            ["done"],
            id="done-whatever-happened-on-the-way",
        ),
        pytest.param(
            signals(done=True, finished_on=TARGET + timedelta(days=4), probability_on_time=0.0),
            Color.GREEN,
            ["done_late"],
            id="done-late",
        ),
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
    assert rag.policy_version == "2"


def test_reasons_carry_their_evidence_items() -> None:
    rag = judge(signals(late_critical=(A, B)), RagPolicy())
    assert rag.reasons[0].items == (A, B)


QUIET = History((3, 2, 0, 0, 0, 0), ())
SLOWER = History((6, 6, 6, 6, 6, 6, 6, 6, 1, 2, 1, 2), ())
STEADY = History((4, 5, 4, 3, 5, 4, 4, 5, 4, 3, 5, 4), ())


@pytest.mark.parametrize(
    ("given", "color", "rules"),
    [
        pytest.param(
            signals(probability_on_time=None, history=QUIET, remaining=50.0),
            Color.RED,
            ["stalled", "no_forecast"],
            id="nothing-finished-for-weeks",
        ),
        pytest.param(
            signals(probability_on_time=0.95, history=QUIET, remaining=50.0),
            Color.RED,
            ["stalled", "probability_on_time"],
            id="a-stall-overrides-good-odds",
        ),
        pytest.param(
            signals(history=QUIET, remaining=0.0),
            Color.GREEN,
            ["probability_on_time"],
            id="quiet-with-nothing-left",
        ),
        pytest.param(
            signals(history=SLOWER, remaining=40.0),
            Color.AMBER,
            ["slowdown", "probability_on_time"],
            id="recent-pace-well-below-the-window",
        ),
        pytest.param(
            signals(history=STEADY, remaining=40.0),
            Color.GREEN,
            ["probability_on_time"],
            id="steady-pace",
        ),
    ],
)
def test_pace_rules(given: Signals, color: Color, rules: list[str]) -> None:
    rag = judge(given, RagPolicy())
    assert rag.color is color
    assert [r.rule for r in rag.reasons] == rules


def test_a_stall_says_how_long_and_how_much_is_left() -> None:
    rag = judge(signals(history=QUIET, remaining=50.0), RagPolicy())
    assert rag.reasons[0].detail == "nothing finished in 4 weeks, with 50 items left"


def test_a_slowdown_names_both_paces() -> None:
    rag = judge(signals(history=SLOWER, remaining=40.0), RagPolicy())
    assert rag.reasons[0].detail == (
        "pace fell from 4.5 to 1.5 items a week (the last 4 weeks against the last 12)"
    )


def test_done_late_says_by_how_much() -> None:
    finished = TARGET + timedelta(days=4)
    rag = judge(signals(done=True, finished_on=finished), RagPolicy())
    assert "4 day(s) after its target" in rag.reasons[0].detail


def test_outcomes_are_named_in_a_programs_reasons() -> None:
    rag = judge(signals(worse_parts=(("Pay in one click", Color.RED),)), RagPolicy())
    assert ("outcome", "outcome Pay in one click is red") in [
        (r.rule, r.detail) for r in rag.reasons
    ]


def test_the_verdict_is_held_near_a_threshold() -> None:
    held = judge(
        signals(probability_on_time=0.83, previous=Verdict(Color.GREEN, Color.GREEN)),
        RagPolicy(),
    )
    assert held.color is Color.GREEN
    assert held.verdict == Verdict(Color.GREEN, Color.AMBER)
    assert "held green" in held.reasons[0].detail


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
