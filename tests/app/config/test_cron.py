"""Crontab expressions read as cron reads them, weekdays included."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import pytest

from app.config.cron import crontab_trigger

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
FRIDAY = datetime(2026, 11, 20, 12, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param("0 8 * * MON", "Mon 2026-11-23 08:00", id="name"),
        pytest.param("0 8 * * 1", "Mon 2026-11-23 08:00", id="1-is-monday-as-in-cron"),
        pytest.param("0 8 * * 0", "Sun 2026-11-22 08:00", id="0-is-sunday"),
        pytest.param("0 8 * * 7", "Sun 2026-11-22 08:00", id="7-is-sunday-too"),
        pytest.param("0 8 * * 1-5", "Mon 2026-11-23 08:00", id="weekday-range"),
        pytest.param("30 16 * * 5", "Fri 2026-11-20 16:30", id="later-today"),
        pytest.param("0 9 * * */2", "Sat 2026-11-21 09:00", id="every-other-day-from-sunday"),
    ],
)
def test_crontab_weekdays_follow_cron_not_apscheduler(expression: str, expected: str) -> None:
    fire = crontab_trigger(expression, BERLIN).get_next_fire_time(None, FRIDAY)
    assert fire is not None
    assert fire.strftime("%a %Y-%m-%d %H:%M") == expected


@pytest.mark.parametrize("expression", ["0 8 * *", "0 8 * * 9", "x 8 * * MON"])
def test_a_bad_expression_is_refused(expression: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        crontab_trigger(expression, BERLIN)
