"""CSV cells: formulas defused, values plain, and which Accept headers mean CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.web import csv_export


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        pytest.param("=1+2", "'=1+2", id="equals"),
        pytest.param("+33 1 23", "'+33 1 23", id="plus"),
        pytest.param("-2", "'-2", id="minus in text"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("\t=1", "'\t=1", id="tab"),
        pytest.param("\r=1", "'\r=1", id="carriage return"),
        pytest.param("plain = text", "plain = text", id="inner equals"),
        pytest.param(-2, "-2", id="negative number"),
        pytest.param(2.5, "2.5", id="float"),
        pytest.param(True, "true", id="bool"),
        pytest.param(None, "", id="none"),
        pytest.param(date(2026, 11, 20), "2026-11-20", id="date"),
        pytest.param(datetime(2026, 11, 20, 9, tzinfo=UTC), "2026-11-20T09:00:00+00:00", id="time"),
        pytest.param(["a", "=b"], "a =b", id="list"),
        pytest.param(["=a", "b"], "'=a b", id="list starting with a formula"),
    ],
)
def test_cell(value: csv_export.Cell, cell: str) -> None:
    assert csv_export.cell(value) == cell


def test_lines_quote_what_needs_quoting() -> None:
    text = csv_export.lines(["title"], [['say "hi", then go']])
    assert text == 'title\r\n"say ""hi"", then go"\r\n'


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        (None, False),
        ("application/json", False),
        ("text/csv", True),
        ("text/csv, application/json", False),
        ("application/json;q=0.5, text/csv", True),
        ("text/csv;q=0.1, */*", False),
        ("text/csv, */*", True),
        ("text/csv;q=bad", False),
    ],
)
def test_wants_csv(accept: str | None, wanted: bool) -> None:
    assert csv_export.wants_csv(accept) is wanted
