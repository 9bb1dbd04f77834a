"""JQL building: every value quoted and escaped, time bounds that no time zone can shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.fake.jira.jql import tokenize
from connectors.jira import jql


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("PAY", '"PAY"'),
        ("INT", '"INT"'),
        ('A"B', '"A\\"B"'),
        ("back\\slash", '"back\\\\slash"'),
        ("line\nbreak\ttab", '"line\\nbreak\\ttab"'),
        ("bell\x07", '"bell\\u0007"'),
        ("emoji 🚀", '"emoji 🚀"'),
    ],
    ids=["plain", "reserved-word", "quote", "backslash", "controls", "other-control", "emoji"],
)
def test_quote_escapes_what_jql_needs_escaped(value: str, quoted: str) -> None:
    assert jql.quote(value) == quoted


@given(st.text(max_size=60))
def test_any_quoted_text_reads_back_as_exactly_one_string_literal(value: str) -> None:
    tokens = tokenize(f"project = {jql.quote(value)}")
    assert [t.kind for t in tokens] == ["word", "op", "str"]
    assert tokens[2].value == value


def test_issue_query_quotes_the_project_and_bounds_updated_in_epoch_millis() -> None:
    since = datetime(2026, 1, 5, 10, 0, 30, 250_000, tzinfo=timezone(timedelta(hours=-11)))
    query = jql.issue_query('Q"X', updated_from=since, after_id=10_042)
    millis = int(since.astimezone(UTC).timestamp() * 1000)
    assert query == f'project = "Q\\"X" AND updated >= {millis} AND id > 10042 ORDER BY id ASC'


def test_a_naive_time_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        jql.epoch_millis(datetime(2026, 1, 5))


def test_in_projects_lists_several_quoted_keys() -> None:
    assert jql.in_projects(["PAY", "INT"]) == 'project in ("PAY", "INT")'
    with pytest.raises(ValueError, match="at least one project"):
        jql.in_projects([])
