"""What was finished, week by week: the evidence every pace and every forecast rests on.

Weeks are seven-day windows of local days ending with ``as_of`` (a partial ISO week would
make the latest week look slow). Each window also says how much of it was observed: the
oldest starts when the work first showed life, and the newest ends *now* — today counts
only as far as it has gone. A pace is work over weeks observed, so a history of 21 items
over four weeks of which the first had two days is 21 over 3.3 weeks, not over 4.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from rollup.model import ItemRef, WorkItem

_WEEK = 7 * 86400.0


def local_date(moment: datetime, zone: tzinfo) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).date()


def day_start(day: date, zone: tzinfo) -> datetime:
    """The instant a local day begins (daylight-saving changes included)."""
    return datetime.combine(day, time(), tzinfo=zone)


def elapsed_share(as_of: date, now: datetime | None, zone: tzinfo) -> float:
    """How much of the day ``as_of`` has gone by ``now`` (1: all of it, or no ``now``)."""
    if now is None:
        return 1.0
    start, end = day_start(as_of, zone), day_start(as_of + timedelta(days=1), zone)
    share = (now - start).total_seconds() / (end - start).total_seconds()
    return min(1.0, max(0.0, share))


@dataclass(frozen=True, slots=True)
class History:
    """Completions per window (oldest first) over the windows the work has existed."""

    weeks: tuple[int, ...]
    """Items finished in each window."""
    starts: tuple[date, ...]
    """First day of each window, for display."""
    exposure: tuple[float, ...] = ()
    """Share of each window observed, in weeks (empty: every window whole)."""
    sizes: tuple[float, ...] = ()
    """Work finished in each window in the progress basis's unit (empty: ``weeks``)."""

    @property
    def completed(self) -> int:
        """Items finished in the windows."""
        return sum(self.weeks)

    @property
    def sized(self) -> tuple[float, ...]:
        return self.sizes or tuple(float(w) for w in self.weeks)

    @property
    def exposed(self) -> tuple[float, ...]:
        return self.exposure or tuple(1.0 for _ in self.weeks)

    @property
    def observed_weeks(self) -> float:
        return float(sum(self.exposed))

    def rate(self, last: int | None = None) -> float:
        """Work finished per week observed, over the last ``last`` windows (all: None)."""
        sizes, exposed = self.sized, self.exposed
        if last is not None:
            sizes, exposed = sizes[-last:], exposed[-last:]
        weeks = sum(exposed)
        return sum(sizes) / weeks if weeks > 0 else 0.0

    def quiet_weeks(self) -> int:
        """Whole windows at the end in which nothing was finished."""
        quiet = 0
        for count in reversed(self.weeks):
            if count:
                break
            quiet += 1
        return quiet


def weekly_history(
    units: Iterable[WorkItem],
    *,
    as_of: date,
    zone: tzinfo,
    weeks: int,
    now: datetime | None = None,
    sizes: Mapping[ItemRef, float] | None = None,
) -> History:
    """Completions per seven-day window, over at most ``weeks`` windows ending on ``as_of``.

    Windows before the work's first sign of life (creation, start or completion) are left
    out: they are not weeks of zero throughput, they are weeks before there was any work.
    ``sizes`` gives each item's size in the basis's unit (by count, 1 each); ``now``
    (within ``as_of``) ends the newest window's observation.
    """
    # Window edges as instants: placing a completion is a comparison, not a conversion.
    edges = [day_start(as_of + timedelta(days=1 - 7 * k), zone) for k in range(weeks, -1, -1)]
    counts = [0] * weeks
    amounts = [0.0] * weeks
    earliest: datetime | None = None
    for item in units:
        for moment in (item.created_at, item.started_at, item.completed_at):
            if moment is not None and (earliest is None or moment < earliest):
                earliest = moment
        finished = item.completed_at
        if finished is not None and edges[0] <= finished < edges[-1]:
            slot = bisect.bisect_right(edges, finished) - 1
            counts[slot] += 1
            amounts[slot] += 1.0 if sizes is None else sizes.get(item.ref, 1.0)
    first = None if earliest is None else local_date(earliest, zone)
    lived = 0 if first is None else min(weeks, max(0, (as_of - first).days) // 7 + 1)
    if not lived:
        return History((), ())
    end = edges[-1] if now is None else min(max(now, edges[-2]), edges[-1])
    since = edges[0] if earliest is None else earliest
    exposure = []
    for k in range(weeks - lived, weeks):
        seen = min(edges[k + 1], end) - max(edges[k], since)
        exposure.append(round(min(1.0, max(0.0, seen.total_seconds() / _WEEK)), 6))
    starts = [as_of - timedelta(days=7 * (lived - i) - 1) for i in range(lived)]
    return History(
        tuple(counts[weeks - lived :]),
        tuple(starts),
        tuple(exposure),
        tuple(round(a, 6) for a in amounts[weeks - lived :]) if sizes is not None else (),
    )
