"""Goals, outcome dependencies and portfolio limits in the configuration: read when right,
every wrong reference named with its file and line."""

from __future__ import annotations

from datetime import date

import pytest

from app.config import ConfigError, parse_config
from tests.app import portfolio_data

PROGRAMS = """\
server: {auth: none}
programs:
  - key: checkout
    name: Checkout v2
    owner: Ana Lima
    outcomes:
      - {key: fast-pay, name: Pay in one click}
  - key: mobile
    name: Mobile
    outcomes:
      - {key: app, name: App}
"""


def problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, name="t.yaml")
    return [(p.line, p.message) for p in caught.value.problems]


def test_the_scripted_organisation_reads() -> None:
    config = portfolio_data.config()
    revenue, mobile_first = config.goals
    assert (revenue.owner, revenue.period.start, revenue.period.end) == (
        "Fay Green",
        date(2027, 1, 1),
        date(2027, 3, 31),
    )
    assert [(c.ref, c.weight) for c in revenue.contributors] == [
        ("checkout", 2.0),
        ("platform/vault", 1.0),
    ]
    assert [k.metric for k in revenue.key_results] == ["percent_done", "on_time"]
    assert mobile_first.period.end == date(2027, 6, 30)
    (link,) = config.programs[2].outcomes[0].depends_on
    assert (link.program, link.outcome) == ("checkout", "fast-pay")
    assert config.programs[0].owner == "Ana Lima"
    assert config.portfolio.max_programs == 2
    assert config.goal("revenue") is revenue


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2027", date(2027, 1, 1), date(2027, 12, 31)),
        ("2027-H2", date(2027, 7, 1), date(2027, 12, 31)),
        ("2027-Q1", date(2027, 1, 1), date(2027, 3, 31)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("{start: 2027-01-15, end: 2027-04-15}", date(2027, 1, 15), date(2027, 4, 15)),
    ],
)
def test_periods_read_as_their_first_and_last_day(period: str, start: date, end: date) -> None:
    text = PROGRAMS + f"goals:\n  - {{key: g, name: G, owner: O, period: {period}}}\n"
    (goal,) = parse_config(text).goals
    assert (goal.period.start, goal.period.end) == (start, end)


GOAL = "goals:\n  - key: g\n    name: G\n    owner: O\n    period: 2027-Q1\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            GOAL + "    contributors:\n      - {program: payments}\n",
            (18, "goal 'g' names unknown program 'payments' (known: checkout, mobile)"),
            id="unknown-program",
        ),
        pytest.param(
            GOAL + "    contributors:\n      - {program: checkout, outcome: vault}\n",
            (
                18,
                "goal 'g' names unknown outcome 'vault' of program 'checkout' (its outcomes: fast-pay)",
            ),
            id="unknown-outcome",
        ),
        pytest.param(
            GOAL + "    contributors:\n      - {program: mobile}\n      - {program: mobile}\n",
            (19, "goal 'g' names contributor 'mobile' twice"),
            id="twice",
        ),
        pytest.param(
            GOAL
            + "    contributors: [{program: mobile}]\n    key_results:\n"
            + "      - {key: k, name: K, metric: percent_done, target: 50, contributors: [checkout]}\n",
            (19, "key result 'k' of goal 'g' names 'checkout', which does not contribute"),
            id="key-result-outside-the-goal",
        ),
        pytest.param(
            GOAL + "    key_results:\n      - {key: k, name: K, metric: on_time, target: 120}\n",
            (18, "goals.0.key_results.0: a on_time target is a percentage (0–100)"),
            id="percent-over-100",
        ),
        pytest.param(
            GOAL.replace("2027-Q1", "2027-Q5"),
            (16, "goals.0.period: '2027-Q5' is not a period"),
            id="bad-period",
        ),
        pytest.param(
            GOAL.replace("2027-Q1", "{start: 2027-05-01, end: 2027-04-01}"),
            (16, "goals.0.period: the period ends (2027-04-01) before it starts"),
            id="period-backwards",
        ),
        pytest.param(
            GOAL + GOAL[len("goals:\n") :],
            (17, "duplicate goal 'g'"),
            id="duplicate-goal",
        ),
        pytest.param(
            "goals:\n  - {key: g, name: G, period: 2027}\n",
            (13, "goals.0.owner is required"),
            id="owner-required",
        ),
        pytest.param(
            "portfolio: {max_programs: 0}\n",
            (12, "portfolio.max_programs:"),
            id="max-programs",
        ),
    ],
)
def test_goal_problems_are_reported_with_their_line(text: str, expected: tuple[int, str]) -> None:
    found = problems(PROGRAMS + text)
    line, message = expected
    assert any(p_line == line and m.startswith(message) for p_line, m in found), found


@pytest.mark.parametrize(
    ("depends_on", "expected"),
    [
        pytest.param(
            "{program: payments, outcome: vault}",
            "outcome 'app' depends_on names unknown program 'payments'",
            id="unknown-program",
        ),
        pytest.param(
            "{program: checkout, outcome: vault}",
            "outcome 'app' depends_on names unknown outcome 'vault' of program 'checkout'",
            id="unknown-outcome",
        ),
        pytest.param(
            "{program: mobile, outcome: app}",
            "outcome 'app' depends_on its own program 'mobile'",
            id="own-program",
        ),
    ],
)
def test_outcome_dependencies_must_name_another_programs_outcome(
    depends_on: str, expected: str
) -> None:
    text = PROGRAMS.replace(
        "      - {key: app, name: App}\n",
        f"      - key: app\n        name: App\n        depends_on:\n          - {depends_on}\n",
    )
    found = problems(text)
    assert any(line == 14 and m.startswith(expected) for line, m in found), found
