"""Scales shared by the charts: dates and quantities to pixels, and readable ticks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class DateScale:
    """Maps dates in [start, end] onto [left, right] pixels."""

    start: date
    end: date
    left: float
    right: float

    def __call__(self, day: date) -> float:
        span = max((self.end - self.start).days, 1)
        return self.left + (day - self.start).days / span * (self.right - self.left)

    def ticks(self, most: int = 8) -> list[date]:
        """First days of months (or of quarters, for long spans) inside the range."""
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        step = next(s for s in (1, 2, 3, 6, 12, 24) if months / s <= most)
        if (self.end - self.start).days <= 70:
            first = self.start + timedelta(days=-self.start.weekday() % 7)
            return [
                first + timedelta(weeks=w)
                for w in range(0, 11)
                if first + timedelta(weeks=w) <= self.end
            ]
        ticks = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            day = date(year, month, 1)
            if day >= self.start and (month - 1) % step == 0:
                ticks.append(day)
            month += 1
            if month > 12:
                year, month = year + 1, 1
        return ticks


@dataclass(frozen=True, slots=True)
class LinearScale:
    """Maps [0, top] onto [bottom, top_px] pixels (SVG y grows downwards)."""

    top: float
    bottom_px: float
    top_px: float

    def __call__(self, value: float) -> float:
        return self.bottom_px - value / self.top * (self.bottom_px - self.top_px)

    def ticks(self, most: int = 5) -> list[float]:
        raw = self.top / most
        magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
        step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
        return [i * step for i in range(int(self.top // step) + 1)]


def nice_top(value: float) -> float:
    """A round upper bound a little above ``value`` (at least 1)."""
    if value <= 0:
        return 1.0
    wanted = value * 1.05
    magnitude = 10 ** math.floor(math.log10(wanted))
    # wanted / magnitude lies in [1, 10), so one of these always fits.
    steps = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
    return float(next(round(m * magnitude, 10) for m in steps if m * magnitude >= wanted))


def number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
