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
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo

import numpy as np
import numpy.typing as npt

from vocabulary import StatusCategory

_EPOCH = date(1970, 1, 1).toordinal()
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


_CODES = {c: n for n, c in enumerate(CATEGORIES)}
TODO, IN_PROGRESS, DONE = 0, 1, 2
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class FlowData:
    """Items and their moves as columns: what ``measure`` reads, built by ``of`` from
    ``FlowItem``\\ s or directly by a loader (a program of 100,000 items needs no object
    per move).

    Instants are seconds since the epoch (UTC; NaN: unknown). Moves are grouped by item
    and in time order within each item.
    """

    keys: Sequence[str]
    titles: Sequence[str]
    categories: IntArray
    """Each item's category now, as an index into ``CATEGORIES``."""
    created: FloatArray
    resolved: FloatArray
    move_item: IntArray
    move_at: FloatArray
    move_category: IntArray

    @classmethod
    def of(cls, items: Iterable[FlowItem]) -> FlowData:
        keys, titles, categories, created, resolved = [], [], [], [], []
        move_item, move_at, move_category = [], [], []
        for n, item in enumerate(items):
            keys.append(item.key)
            titles.append(item.title)
            categories.append(_CODES[item.category])
            created.append(_stamp(item.created_at))
            resolved.append(_stamp(item.resolved_at))
            for move in sorted(item.moves, key=lambda m: m.at):
                move_item.append(n)
                move_at.append(_stamp(move.at))
                move_category.append(_CODES[move.category])
        return cls.columns(
            keys, titles, categories, created, resolved, move_item, move_at, move_category
        )

    @classmethod
    def columns(
        cls,
        keys: Sequence[str],
        titles: Sequence[str],
        categories: Sequence[int] | IntArray,
        created: Sequence[float] | FloatArray,
        resolved: Sequence[float] | FloatArray,
        move_item: Sequence[int] | IntArray,
        move_at: Sequence[float] | FloatArray,
        move_category: Sequence[int] | IntArray,
    ) -> FlowData:
        return cls(
            keys,
            titles,
            np.asarray(categories, dtype=np.int64),
            np.asarray(created, dtype=np.float64),
            np.asarray(resolved, dtype=np.float64),
            np.asarray(move_item, dtype=np.int64),
            np.asarray(move_at, dtype=np.float64),
            np.asarray(move_category, dtype=np.int64),
        )

    def in_order(self) -> FlowData:
        """The same data with its moves grouped by item, in time order within each."""
        ranked = np.lexsort((self.move_at, self.move_item))
        return replace(
            self,
            move_item=self.move_item[ranked],
            move_at=self.move_at[ranked],
            move_category=self.move_category[ranked],
        )

    def subset(self, keep: Sequence[bool]) -> FlowData:
        """Only the items ``keep`` marks, with their moves."""
        mask = np.asarray(keep, dtype=bool)
        renumber = np.cumsum(mask) - 1
        moves = mask[self.move_item]
        chosen = np.flatnonzero(mask).tolist()
        return FlowData(
            [self.keys[i] for i in chosen],
            [self.titles[i] for i in chosen],
            self.categories[mask],
            self.created[mask],
            self.resolved[mask],
            renumber[self.move_item[moves]],
            self.move_at[moves],
            self.move_category[moves],
        )


def _stamp(moment: datetime | None) -> float:
    if moment is None:
        return math.nan
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def local_days(stamps: FloatArray, zone: tzinfo) -> FloatArray:
    """Local day ordinals of instants (NaN stays NaN), the zone's offset looked up once
    per distinct UTC hour: offsets change on the hour at most."""
    found = np.full(stamps.shape, np.nan)
    known = ~np.isnan(stamps)
    if not known.any():
        return found
    hours = np.floor(stamps[known] / 3600.0)
    distinct, where = np.unique(hours, return_inverse=True)
    offsets = np.array(
        [
            (
                datetime.fromtimestamp(h * 3600.0, UTC).astimezone(zone).utcoffset() or _ZERO
            ).total_seconds()
            for h in distinct
        ]
    )
    found[known] = np.floor((stamps[known] + offsets[where]) / 86400.0) + _EPOCH
    return found


_ZERO = timedelta(0)


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


def measure(
    items: Iterable[FlowItem] | FlowData, *, as_of: date, zone: tzinfo, weeks: int = 12
) -> Flow:
    """The flow of ``items`` over ``weeks`` seven-day windows ending with ``as_of``."""
    data = items if isinstance(items, FlowData) else FlowData.of(items)
    first = as_of - timedelta(days=7 * weeks - 1)
    origin, span = first.toordinal(), 7 * weeks
    n = len(data.keys)
    lives = _lives(data, zone, n)
    arrived, started, finished = lives
    counts = _paint(data, zone, lives, origin, span)
    arrivals = _weekly(arrived, origin, span, weeks)
    departures = _weekly(finished, origin, span, weeks)
    window = ~np.isnan(finished) & (finished >= origin) & (finished < origin + span)
    timed = window & ~np.isnan(started) & (started <= finished)
    without = sorted(data.keys[i] for i in np.flatnonzero(window & ~timed).tolist())
    cycle = sorted(
        (
            CycleTime(
                data.keys[i],
                data.titles[i],
                date.fromordinal(int(started[i])),
                date.fromordinal(int(finished[i])),
                int(finished[i] - started[i]) + 1,
            )
            for i in np.flatnonzero(timed).tolist()
        ),
        key=lambda c: (c.finished_on, c.key),
    )
    days_only = [c.days for c in cycle]
    p50, p85, p95 = (nearest_rank(days_only, q) for q in PERCENTILES)
    in_progress = data.categories[:n] == IN_PROGRESS
    open_started = np.flatnonzero(in_progress & ~np.isnan(started))
    return Flow(
        as_of=as_of,
        cycle_times=tuple(cycle),
        percentiles=Percentiles(p50, p85, p95, len(cycle)),
        done_without_start=tuple(without),
        weeks=tuple(
            Week(first + timedelta(days=7 * w), int(arrivals[w]), int(departures[w]))
            for w in range(weeks)
        ),
        days=tuple(
            Day(first + timedelta(days=d), int(counts[0][d]), int(counts[1][d]), int(counts[2][d]))
            for d in range(span)
        ),
        aging=_aging(data, open_started, started, sorted(days_only), p85, as_of),
        unknown_start=int(np.count_nonzero(in_progress)) - len(open_started),
        trend_per_week=trend([int(d) for d in departures]),
    )


def _lives(data: FlowData, zone: tzinfo, n: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each item's arrival, start and finish as local day ordinals (NaN: none)."""
    item, moves = data.move_item, local_days(data.move_at, zone)
    created, resolved = local_days(data.created, zone), local_days(data.resolved, zone)
    first_move = np.full(n, np.inf)
    np.minimum.at(first_move, item, moves)
    arrived = np.fmin(created, np.where(np.isinf(first_move), np.nan, first_move))
    started = np.full(n, np.inf)
    doing = data.move_category == IN_PROGRESS
    np.minimum.at(started, item[doing], moves[doing])
    last_done = np.full(n, -np.inf)
    done_moves = data.move_category == DONE
    np.maximum.at(last_done, item[done_moves], moves[done_moves])
    last_done = np.where(np.isinf(last_done), resolved, last_done)
    finished = np.where(data.categories == DONE, last_done, np.nan)
    return arrived, np.where(np.isinf(started), np.nan, started), finished


def _paint(
    data: FlowData,
    zone: tzinfo,
    lives: tuple[FloatArray, FloatArray, FloatArray],
    origin: int,
    span: int,
) -> IntArray:
    """Items in each category at the end of each day of the window, shape (3, span).

    An item's stretches are its arrival (to do; for an item without moves, its category
    now unless it finished), each move, and — when it is done now but its last move is
    not into done — its finish. Each stretch adds one from its first day to the next
    stretch's (the day's last category wins); stretches before the window start it.
    """
    arrived, _, finished = lives
    n = len(data.keys)
    item_ids = np.arange(n)
    has_moves = np.zeros(n, dtype=bool)
    has_moves[data.move_item] = True
    last_category = np.full(n, -1)
    last_category[data.move_item] = data.move_category
    last_day = np.full(n, np.nan)
    last_day[data.move_item] = local_days(data.move_at, zone)
    at_first = np.where(
        has_moves | (data.categories == DONE) & ~np.isnan(finished), TODO, data.categories
    )
    closing = (data.categories == DONE) & ~np.isnan(finished) & (last_category != DONE)
    closing_day = np.fmax(finished, last_day)
    # Stretches as (item, order, day, category): arrival 0, moves 1, closing 2.
    item = np.concatenate([item_ids, data.move_item, item_ids[closing]])
    order = np.concatenate([np.zeros(n), np.ones(len(data.move_item)), np.full(closing.sum(), 2)])
    day = np.concatenate([arrived, local_days(data.move_at, zone), closing_day[closing]])
    category = np.concatenate([at_first, data.move_category, np.full(closing.sum(), DONE)])
    keep = ~np.isnan(day)
    item, order, day, category = item[keep], order[keep], day[keep], category[keep]
    # Stable sorts keep the moves' own order within an item.
    ranked = np.lexsort((order, item))
    item, day, category = item[ranked], day[ranked], category[ranked]
    start = np.clip(day - origin, 0, span).astype(np.int64)
    end = np.full(len(start), span)
    same = item[1:] == item[:-1]
    end[:-1][same] = start[1:][same]
    end = np.maximum(end, start)
    counts = np.zeros((3, span + 1), dtype=np.int64)
    inside = start < span
    np.add.at(counts, (category[inside], start[inside]), 1)
    np.add.at(counts, (category[inside], end[inside]), -1)
    return np.cumsum(counts, axis=1)[:, :span]


def _weekly(days: FloatArray, origin: int, span: int, weeks: int) -> IntArray:
    inside = days[~np.isnan(days)]
    inside = inside[(inside >= origin) & (inside < origin + span)]
    return np.bincount(((inside - origin) // 7).astype(np.int64), minlength=weeks)


def _aging(
    data: FlowData,
    open_started: IntArray,
    started: FloatArray,
    finished: Sequence[int],
    p85: int | None,
    as_of: date,
) -> tuple[Aging, ...]:
    found = []
    today = as_of.toordinal()
    for i in open_started.tolist():
        age = today - int(started[i]) + 1
        shorter = bisect.bisect_left(finished, age)
        share = round(100.0 * shorter / len(finished), 1) if finished else 0.0
        found.append(
            Aging(
                data.keys[i],
                data.titles[i],
                date.fromordinal(int(started[i])),
                age,
                share,
                p85 is not None and age > p85,
            )
        )
    found.sort(key=lambda a: (-a.age_days, a.key))
    return tuple(found)
