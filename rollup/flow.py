"""How work flows through a program: cumulative flow, cycle times, throughput, ageing work
in progress and net flow, from each item's status history.

Definitions (the flow page states them the same way):

- An item's **start** is its first move into an in-progress category; its **finish** is
  its last move into done, and counts only while the item is done now. Work re-opened and
  finished again is counted once, to its final finish.
- **Cycle time** is the number of local days (the program's time zone) from the start's
  day to the finish's day, both counted: started and finished the same day is one day.
  Items finished without ever being in progress have no cycle time and are counted apart.
- **Age** of open started work is counted the same way, up to ``as_of``.
- **Weeks** are seven-day windows ending with ``as_of``, as the forecast's history uses.
- An item **arrives** when it is created and **departs** at its finish.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from rollup.history import local_date
from vocabulary import StatusCategory

CATEGORIES = (StatusCategory.TODO, StatusCategory.IN_PROGRESS, StatusCategory.DONE)
PERCENTILES = (50, 85, 95)


@dataclass(frozen=True, slots=True)
class Move:
    """One change of status: into ``category`` at ``at``."""

    at: datetime
    category: StatusCategory
    status: str = ""


@dataclass(frozen=True, slots=True)
class FlowItem:
    """One unit of work with its status history, as the flow sees it.

    ``moves`` may be empty (a tracker whose history is not stored): the item then counts
    in its current category from its creation, and done work finishes at ``resolved_at``.
    """

    key: str
    title: str
    category: StatusCategory
    created_at: datetime | None
    moves: tuple[Move, ...] = ()
    resolved_at: datetime | None = None
    outcomes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CycleTime:
    key: str
    title: str
    started_on: date
    finished_on: date
    days: int


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50: int | None
    p85: int | None
    p95: int | None
    count: int


@dataclass(frozen=True, slots=True)
class Aging:
    key: str
    title: str
    started_on: date
    age_days: int
    percentile: float
    """Share of finished items (in %) whose cycle time was shorter than this age."""
    past_p85: bool


@dataclass(frozen=True, slots=True)
class Week:
    start: date
    """First day of the seven-day window."""
    arrivals: int
    departures: int

    @property
    def net(self) -> int:
        return self.arrivals - self.departures


@dataclass(frozen=True, slots=True)
class Day:
    """Items in each category at the end of a day (done: every item finished by then)."""

    on: date
    todo: int
    in_progress: int
    done: int


@dataclass(frozen=True, slots=True)
class Flow:
    as_of: date
    cycle_times: tuple[CycleTime, ...]
    """Items finished in the window, by finish day."""
    percentiles: Percentiles
    done_without_start: tuple[str, ...]
    """Items finished in the window that were never in progress (no cycle time)."""
    weeks: tuple[Week, ...]
    days: tuple[Day, ...]
    aging: tuple[Aging, ...]
    """Open started work, oldest first."""
    unknown_start: int
    """Open work in progress whose start is not in the history (no age)."""
    trend_per_week: float
    """Least-squares slope of weekly throughput, items per week per week."""


@dataclass(frozen=True, slots=True)
class _Life:
    arrived: date | None
    started: date | None
    finished: date | None
    segments: tuple[tuple[date, StatusCategory], ...]
    """(first local day, category) of each stretch, in order; the last runs on."""


def _life(item: FlowItem, zone: tzinfo) -> _Life:
    moves = sorted(item.moves, key=lambda m: m.at)
    done = item.category is StatusCategory.DONE
    if not moves:
        arrived = local_date(item.created_at, zone) if item.created_at else None
        finished = local_date(item.resolved_at, zone) if done and item.resolved_at else None
        segments: list[tuple[date, StatusCategory]] = []
        if arrived is not None:
            first = StatusCategory.TODO if done and finished else item.category
            segments.append((arrived, first))
        if finished is not None:
            segments.append((finished, StatusCategory.DONE))
        return _Life(arrived, None, finished, tuple(segments))
    first_move = local_date(moves[0].at, zone)
    arrived = local_date(item.created_at, zone) if item.created_at else first_move
    arrived = min(arrived, first_move)
    started = next(
        (local_date(m.at, zone) for m in moves if m.category is StatusCategory.IN_PROGRESS), None
    )
    last_done = next(
        (m.at for m in reversed(moves) if m.category is StatusCategory.DONE),
        item.resolved_at,
    )
    finished = local_date(last_done, zone) if done and last_done is not None else None
    segments = [(arrived, StatusCategory.TODO)]
    for move in moves:
        segments.append((local_date(move.at, zone), move.category))
    if done and finished is not None and segments[-1][1] is not StatusCategory.DONE:
        segments.append((finished, StatusCategory.DONE))
    return _Life(arrived, started, finished, tuple(segments))


def nearest_rank(values: Sequence[int], q: float) -> int | None:
    """The q-th percentile by nearest rank: the smallest value with at least q % at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def trend(values: Sequence[int]) -> float:
    """Least-squares slope of ``values`` against their position (0 for fewer than two)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return round(num / den, 4)


def measure(items: Iterable[FlowItem], *, as_of: date, zone: tzinfo, weeks: int = 12) -> Flow:
    """The flow of ``items`` over ``weeks`` seven-day windows ending with ``as_of``."""
    first = as_of - timedelta(days=7 * weeks - 1)
    span = (as_of - first).days + 1
    # Difference arrays per category: an item adds one from the day a stretch begins.
    change = {c: [0] * (span + 1) for c in CATEGORIES}
    arrivals, departures = [0] * weeks, [0] * weeks
    cycle: list[CycleTime] = []
    without: list[str] = []
    open_started: list[tuple[FlowItem, date]] = []
    unknown = 0
    for item in items:
        life = _life(item, zone)
        _paint(life.segments, first, as_of, change)
        if life.arrived is not None and first <= life.arrived <= as_of:
            arrivals[(life.arrived - first).days // 7] += 1
        if life.finished is not None and first <= life.finished <= as_of:
            departures[(life.finished - first).days // 7] += 1
            if life.started is None or life.started > life.finished:
                without.append(item.key)
            else:
                days = (life.finished - life.started).days + 1
                cycle.append(CycleTime(item.key, item.title, life.started, life.finished, days))
        if item.category is StatusCategory.IN_PROGRESS:
            if life.started is None:
                unknown += 1
            else:
                open_started.append((item, life.started))
    cycle.sort(key=lambda c: (c.finished_on, c.key))
    days_only = [c.days for c in cycle]
    p50, p85, p95 = (nearest_rank(days_only, q) for q in PERCENTILES)
    throughput = tuple(
        Week(first + timedelta(days=7 * w), arrivals[w], departures[w]) for w in range(weeks)
    )
    return Flow(
        as_of=as_of,
        cycle_times=tuple(cycle),
        percentiles=Percentiles(p50, p85, p95, len(cycle)),
        done_without_start=tuple(sorted(without)),
        weeks=throughput,
        days=_days(change, first, span),
        aging=_aging(open_started, sorted(days_only), p85, as_of),
        unknown_start=unknown,
        trend_per_week=trend(departures),
    )


def _paint(
    segments: Sequence[tuple[date, StatusCategory]],
    first: date,
    last: date,
    change: dict[StatusCategory, list[int]],
) -> None:
    """Add one item's stretches to the per-day counts (the day's last category wins)."""
    kept: list[tuple[int, StatusCategory]] = []
    for on, category in segments:
        if on > last:
            break
        index = max(0, (on - first).days)
        if kept and kept[-1][0] == index:
            kept[-1] = (index, category)
        else:
            kept.append((index, category))
    for n, (index, category) in enumerate(kept):
        end = kept[n + 1][0] if n + 1 < len(kept) else len(change[category]) - 1
        change[category][index] += 1
        change[category][end] -= 1


def _days(change: dict[StatusCategory, list[int]], first: date, span: int) -> tuple[Day, ...]:
    running = dict.fromkeys(CATEGORIES, 0)
    found = []
    for d in range(span):
        for c in CATEGORIES:
            running[c] += change[c][d]
        found.append(
            Day(
                first + timedelta(days=d),
                running[StatusCategory.TODO],
                running[StatusCategory.IN_PROGRESS],
                running[StatusCategory.DONE],
            )
        )
    return tuple(found)


def _aging(
    open_started: Sequence[tuple[FlowItem, date]],
    finished: Sequence[int],
    p85: int | None,
    as_of: date,
) -> tuple[Aging, ...]:
    found = []
    for item, started in open_started:
        age = (as_of - started).days + 1
        shorter = bisect.bisect_left(finished, age)
        share = round(100.0 * shorter / len(finished), 1) if finished else 0.0
        found.append(
            Aging(item.key, item.title, started, age, share, p85 is not None and age > p85)
        )
    found.sort(key=lambda a: (-a.age_days, a.key))
    return tuple(found)
