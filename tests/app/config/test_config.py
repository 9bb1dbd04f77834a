"""The configuration file: parsed when right, every problem named with its line when not."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from app.config import ConfigError, load_config, parse_config, parse_duration

EXAMPLE = Path(__file__).parents[3] / "examples" / "throughline.yaml"
EXAMPLE_ENV = dict.fromkeys(
    (
        "THROUGHLINE_VIEWER_TOKEN",
        "THROUGHLINE_ADMIN_TOKEN",
        "JIRA_EMAIL",
        "JIRA_API_TOKEN",
        "JIRA_WEBHOOK_SECRET",
        "ASANA_TOKEN",
        "CHECKOUT_SLACK_WEBHOOK_URL",
        "CONFLUENCE_EMAIL",
        "CONFLUENCE_API_TOKEN",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
    ),
    "x",
)


def problems(text: str, environ: dict[str, str] | None = None) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, name="t.yaml", environ=environ)
    return [(p.line, p.message) for p in caught.value.problems]


def test_example_configuration_is_valid() -> None:
    config = load_config(EXAMPLE, environ=EXAMPLE_ENV)
    jira, asana = config.sources
    assert (jira.kind, jira.projects, jira.sync_every) == (
        "jira",
        ("PAY", "WEB"),
        timedelta(minutes=15),
    )
    assert asana.url == "https://app.asana.com/api/1.0"
    assert asana.sections == {"in_progress": ("In progress", "Doing")}
    outcome = config.programs[0].outcomes[0]
    assert outcome.target == date(2027, 3, 31)
    assert [m.source for m in outcome.match] == ["acme-jira", "acme-jira", "acme-asana"]
    deliver = config.programs[0].report.deliver
    assert deliver.confluence is not None
    assert (deliver.confluence.space, deliver.confluence.page) == ("PM", "weekly")
    assert deliver.email is not None
    assert deliver.email.recipients == ("checkout-leads@acme.com",)


REPORT = """
server: {{auth: none}}
programs:
  - key: checkout
    name: Checkout
    report:
{body}
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "      cron: '0 8 * * 9'",
            "programs.0.report.cron: '0 8 * * 9' is not a valid cron expression",
            id="bad-weekday",
        ),
        pytest.param(
            "      deliver: {email: {host: smtp.test, sender: 'x', recipients: [a@b.test]}}",
            "programs.0.report.deliver.email.sender: 'x' is not an e-mail address",
            id="bad-sender",
        ),
        pytest.param(
            "      deliver: {email: {host: smtp.test, sender: a@b.test, recipients: []}}",
            "programs.0.report.deliver.email.recipients: Tuple should have at least 1 item",
            id="no-recipients",
        ),
        pytest.param(
            "      deliver: {email: {host: h, sender: a@b.test, recipients: [c@d.test], "
            "username_env: U}}",
            "username_env and password_env go together",
            id="half-credentials",
        ),
        pytest.param(
            "      deliver: {confluence: {url: 'ftp://wiki', space: PM, auth: {token_env: T}}}",
            "is not an http(s) URL",
            id="bad-wiki-url",
        ),
    ],
)
def test_report_settings_are_checked(body: str, expected: str) -> None:
    found = problems(REPORT.format(body=body))
    assert any(expected in message for _, message in found), found


def test_delivery_secrets_are_named_and_required() -> None:
    text = REPORT.format(
        body="      deliver: {slack: {webhook_url_env: HOOK}, confluence: {url: 'https://w.test', "
        "space: PM, auth: {token_env: WIKI}}}"
    )
    found = problems(text, environ={})
    assert [m for _, m in found] == [
        "environment variable HOOK is not set",
        "environment variable WIKI is not set",
    ]


def test_missing_secret_names_the_variable_and_line() -> None:
    env = dict(EXAMPLE_ENV, JIRA_API_TOKEN="")
    with pytest.raises(ConfigError) as caught:
        load_config(EXAMPLE, environ=env)
    (problem,) = caught.value.problems
    assert problem.file.endswith("throughline.yaml")
    assert problem.line == 12
    assert problem.message == "environment variable JIRA_API_TOKEN is not set"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "server: {auth: none, colour: blue}\n",
            (1, "unknown key 'colour' in server"),
            id="unknown-key",
        ),
        pytest.param(
            "server: {auth: none}\nprograms:\n  - key: a\n    name: A\n    report: {cron: '61 * * * *'}\n",
            (5, "programs.0.report.cron: '61 * * * *' is not a valid cron expression"),
            id="bad-cron",
        ),
        pytest.param(
            "server: {auth: none}\nprograms:\n  - {key: a, name: A}\n  - {key: a, name: B}\n",
            (4, "duplicate program 'a'"),
            id="duplicate-program",
        ),
        pytest.param(
            "server: {auth: none}\nprograms:\n  - key: a\n    name: A\n    outcomes:\n"
            "      - key: o\n        name: O\n        match: [{source: ghost}]\n",
            (8, "outcome 'o' selects from unknown source 'ghost' (known: none)"),
            id="unknown-source",
        ),
        pytest.param(
            "server: {auth: none}\nprograms:\n  - {key: a, name: A, timezone: Mars/Base}\n",
            (3, "programs.0.timezone: 'Mars/Base' is not a known time zone"),
            id="timezone",
        ),
        pytest.param(
            "server:\n  auth: tokens\n",
            (2, "server.auth is 'tokens' but no tokens are listed"),
            id="no-tokens",
        ),
        pytest.param(
            "server: {auth: none}\nsources:\n  - {name: j, kind: jira, auth: {token_env: T}}\n",
            (3, "sources.0.url is required"),
            id="missing-field",
        ),
        pytest.param(
            "server: {auth: none}\nprograms:\n  - key: a\n    name: A\n"
            "    forecast: {history_weeks: 3, min_history_weeks: 4}\n",
            (5, "programs.0.forecast: min_history_weeks (4) is more than history_weeks (3)"),
            id="forecast-never-possible",
        ),
        pytest.param(
            "server: {auth: none}\nprograms:\n  - key: a\n    name: A\n"
            "    forecast: {history_weeks: 6, min_history_weeks: 2}\n    rag: {stall_weeks: 8}\n",
            (3, "programs.0: rag.stall_weeks (8) is more than forecast.history_weeks (6)"),
            id="stall-never-seen",
        ),
        pytest.param("programs: [\n", (2, "not valid YAML"), id="yaml-syntax"),
        pytest.param(
            "server: {auth: none}\nserver: {auth: none}\n",
            (2, "key 'server' appears twice"),
            id="duplicate-key",
        ),
    ],
)
def test_problem_is_reported_with_line_and_sentence(text: str, expected: tuple[int, str]) -> None:
    found = problems(text)
    assert any(
        line == expected[0] and message.startswith(expected[1]) for line, message in found
    ), found


def test_people_and_teams_are_read() -> None:
    config = load_config(EXAMPLE, environ=EXAMPLE_ENV)
    assert config.people[0].aliases == ("alima", "Ana L.")
    assert (config.teams[0].key, config.teams[0].wip_limit) == ("payments", 4)
    assert (config.resources.wip_limit, config.resources.throughput_weeks) == (3, 6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "people:\n  - {name: Ana Lima, aliases: [ana]}\n  - {name: Ana Souza, aliases: [ANA]}\n",
            (3, "'ANA' already stands for another person"),
            id="alias-of-two-people",
        ),
        pytest.param(
            "people:\n  - {name: José Núñez}\n  - {name: jose nunez}\n",
            (3, "duplicate person 'jose nunez'"),
            id="same-name-twice-accents-aside",
        ),
        pytest.param(
            "teams:\n  - {key: a, name: A, members: [Ana]}\n  - {key: b, name: B, members: [ana]}\n",
            (3, "'ana' is already in team 'a' (a person belongs to one team)"),
            id="person-in-two-teams",
        ),
        pytest.param(
            "people:\n  - {name: Ana Lima, aliases: [al]}\n"
            "teams:\n  - {key: a, name: A, members: [al]}\n  - {key: b, name: B, members: [Ana Lima]}\n",
            (5, "'Ana Lima' is already in team 'a'"),
            id="person-in-two-teams-by-alias",
        ),
        pytest.param(
            "teams:\n  - {key: a, name: A}\n  - {key: a, name: B}\n",
            (3, "duplicate team 'a'"),
            id="duplicate-team",
        ),
        pytest.param("resources: {wip_limit: 0}\n", (1, "resources.wip_limit:"), id="wip-limit"),
    ],
)
def test_people_problems_are_reported_with_their_line(text: str, expected: tuple[int, str]) -> None:
    found = problems("server: {auth: none}\n" + text)
    line, message = expected
    assert any(p_line == line + 1 and m.startswith(message) for p_line, m in found), found


def test_every_problem_is_reported_at_once() -> None:
    text = (
        "server: {auth: none, colour: blue}\nprograms:\n  - {key: a, name: A, timezone: X/Y}\n"
        "  - {key: a, name: B}\n"
    )
    assert len(problems(text)) == 3


def test_secret_values_never_appear_in_problems() -> None:
    text = "server:\n  auth: tokens\n  tokens: [{name: t, role: superuser, token_env: TOK}]\n"
    found = problems(text, environ={"TOK": "s3cr3t-value"})
    assert all("s3cr3t-value" not in message for _, message in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0m", "soon", "15", "m15"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
