"""ISO weeks and the day a week's report covers.

A report covers whole days only, so that regenerating it later gives the same figures:
the week's report is as of the end of the day before its scheduled run that week. With
the default schedule (Monday 08:00) that is the Sunday before, so each report covers the
ISO week just ended. A schedule that does not fire in a week covers up to its Sunday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from app.config.cron import crontab_trigger

_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
WEEK_PATTERN = r"^\d{4}-W\d{2}$"


@dataclass(frozen=True, slots=True, order=True)
class Week:
    """An ISO week, written ``2026-W47``."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """The week ``text`` names; ``ValueError`` with a plain sentence otherwise."""
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not an ISO week like 2026-W47")
        year, number = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise ValueError(f"{year} has no ISO week {number}") from None
        return cls(year, number)

    @classmethod
    def of(cls, day: date) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def previous(self) -> Week:
        return Week.of(self.monday - timedelta(days=7))

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"


def scheduled_run(week: Week, cron: str, zone: tzinfo) -> datetime | None:
    """The first time the report schedule fires in ``week``; None if it does not."""
    start = datetime.combine(week.monday, time(), tzinfo=zone)
    fire: datetime | None = crontab_trigger(cron, zone).get_next_fire_time(None, start)
    if fire is None or fire.date() > week.sunday:
        return None
    return fire


def covered_day(week: Week, cron: str, zone: tzinfo) -> date:
    """The last day ``week``'s report covers: the day before its scheduled run."""
    fire = scheduled_run(week, cron, zone)
    return week.sunday if fire is None else fire.date() - timedelta(days=1)


def latest_ready(today: date, cron: str, zone: tzinfo) -> Week:
    """The latest week whose report can be written on ``today``: its covered day is over."""
    week = Week.of(today)
    return week if covered_day(week, cron, zone) < today else week.previous()
