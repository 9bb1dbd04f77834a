"""ISO weeks and the day each week's report covers."""

from __future__ import annotations

import zoneinfo
from datetime import date

import pytest

from app.reports.weeks import Week, covered_day, latest_ready

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def test_a_week_parses_prints_and_spans_monday_to_sunday() -> None:
    week = Week.parse("2026-W47")
    assert str(week) == "2026-W47"
    assert (week.monday, week.sunday) == (date(2026, 11, 16), date(2026, 11, 22))
    assert Week.of(date(2026, 11, 22)) == week
    assert str(Week.parse("2027-W01").previous()) == "2026-W53"


@pytest.mark.parametrize("text", ["2026-47", "2026-W7", "2026-W54", "W47"])
def test_a_malformed_week_is_refused_in_words(text: str) -> None:
    with pytest.raises(ValueError, match="ISO week"):
        Week.parse(text)


@pytest.mark.parametrize(
    ("cron", "covered"),
    [
        pytest.param("0 8 * * MON", date(2026, 11, 15), id="monday-covers-the-week-before"),
        pytest.param("30 16 * * FRI", date(2026, 11, 19), id="friday-covers-to-thursday"),
        pytest.param("0 8 1 1 *", date(2026, 11, 22), id="not-firing-covers-to-sunday"),
    ],
)
def test_a_report_covers_up_to_the_day_before_its_scheduled_run(cron: str, covered: date) -> None:
    assert covered_day(Week(2026, 47), cron, BERLIN) == covered


def test_the_latest_ready_week_is_the_one_whose_covered_day_is_over() -> None:
    assert latest_ready(date(2026, 11, 16), "0 8 * * MON", BERLIN) == Week(2026, 47)
    assert latest_ready(date(2026, 11, 19), "30 16 * * FRI", BERLIN) == Week(2026, 46)
    assert latest_ready(date(2026, 11, 20), "30 16 * * FRI", BERLIN) == Week(2026, 47)
