"""Crontab expressions read the way cron reads them, as APScheduler 3 triggers.

APScheduler 3 numbers weekdays from Monday = 0, while crontab numbers them from
Sunday = 0 (7 is Sunday too), so ``0 8 * * 1`` would silently run on Tuesdays. Numeric
weekdays are translated to names here; names (``MON``, ``mon-fri``) pass through.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMERIC = re.compile(r"^(\*|\d+)(?:-(\d+))?(?:/(\d+))?$")


def _weekday_term(term: str) -> str:
    if term == "*":
        return term
    match = _NUMERIC.match(term)
    if match is None:
        return term.lower()
    start, end, step = match.groups()
    if start == "*":
        first, last = 0, 6
    else:
        first = int(start)
        last = int(end) if end is not None else (6 if step else first)
    if not 0 <= first <= 7 or not 0 <= last <= 7 or first > last:
        raise ValueError(f"weekday {term!r} is outside 0-7")
    days = range(first, last + 1, int(step or 1))
    return ",".join(_NAMES[d % 7] for d in days)


def crontab_trigger(expression: str, timezone: tzinfo) -> CronTrigger:
    """A trigger for a five-field crontab expression in ``timezone``; ``ValueError`` if bad."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields, not {len(fields)}")
    minute, hour, day, month, weekdays = fields
    weekday = ",".join(_weekday_term(t) for t in weekdays.split(","))
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=timezone
    )
