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
- **By status** (one tracker's workflow): an item is in the status its last move of the
  day went into; before its first move, in that move's from-status (``NOT_RECORDED``
  when the history does not say); an item without history, in its status now. Statuses
  are ordered by category (to do, in progress, done), then by name.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
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
    from_status: str = ""


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
    status: str = ""


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
class Status:
    """One status of a workflow, a band of the cumulative flow by status."""

    name: str
    """Tracker text: escaped where shown."""
    category: StatusCategory


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
    statuses: tuple[Status, ...] = ()
    """The bands of the cumulative flow by status (empty unless asked for)."""
    status_days: tuple[tuple[int, ...], ...] = ()
    """Per day of ``days``, the items in each of ``statuses`` at its end."""


_CODES = {c: n for n, c in enumerate(CATEGORIES)}
TODO, IN_PROGRESS, DONE = 0, 1, 2
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
NOT_RECORDED = "(status not recorded)"
"""The status an item was in before its first move when its history does not say."""
_NONE: IntArray = np.zeros(0, dtype=np.int64)


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
    statuses: Sequence[str] = ()
    """Status names (empty: statuses not loaded); the codes below index into it."""
    status: IntArray = field(default_factory=lambda: _NONE)
    """Each item's status now."""
    move_status: IntArray = field(default_factory=lambda: _NONE)
    """Each move's status (into)."""
    move_from: IntArray = field(default_factory=lambda: _NONE)
    """Each move's from-status (-1: not recorded)."""

    @classmethod
    def of(cls, items: Iterable[FlowItem]) -> FlowData:
        keys, titles, categories, created, resolved = [], [], [], [], []
        move_item, move_at, move_category = [], [], []
        status, move_status, move_from = [], [], []
        codes: dict[str, int] = {}
        for n, item in enumerate(items):
            keys.append(item.key)
            titles.append(item.title)
            categories.append(_CODES[item.category])
            created.append(_stamp(item.created_at))
            resolved.append(_stamp(item.resolved_at))
            status.append(codes.setdefault(item.status, len(codes)))
            for move in sorted(item.moves, key=lambda m: m.at):
                move_item.append(n)
                move_at.append(_stamp(move.at))
                move_category.append(_CODES[move.category])
                move_status.append(codes.setdefault(move.status, len(codes)))
                move_from.append(
                    codes.setdefault(move.from_status, len(codes)) if move.from_status else -1
                )
        data = cls.columns(
            keys, titles, categories, created, resolved, move_item, move_at, move_category
        )
        return replace(
            data,
            statuses=list(codes),
            status=np.asarray(status, dtype=np.int64),
            move_status=np.asarray(move_status, dtype=np.int64),
            move_from=np.asarray(move_from, dtype=np.int64),
        )

    @property
    def has_statuses(self) -> bool:
        return len(self.status) == len(self.keys) and len(self.move_status) == len(self.move_at)

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
        statuses = self.has_statuses
        return replace(
            self,
            move_item=self.move_item[ranked],
            move_at=self.move_at[ranked],
            move_category=self.move_category[ranked],
            move_status=self.move_status[ranked] if statuses else _NONE,
            move_from=self.move_from[ranked] if statuses else _NONE,
        )

    def subset(self, keep: Sequence[bool]) -> FlowData:
        """Only the items ``keep`` marks, with their moves."""
        mask = np.asarray(keep, dtype=bool)
        renumber = np.cumsum(mask) - 1
        moves = mask[self.move_item]
        chosen = np.flatnonzero(mask).tolist()
        statuses = self.has_statuses
        return FlowData(
            [self.keys[i] for i in chosen],
            [self.titles[i] for i in chosen],
            self.categories[mask],
            self.created[mask],
            self.resolved[mask],
            renumber[self.move_item[moves]],
            self.move_at[moves],
            self.move_category[moves],
            self.statuses if statuses else (),
            self.status[mask] if statuses else _NONE,
            self.move_status[moves] if statuses else _NONE,
            self.move_from[moves] if statuses else _NONE,
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
    items: Iterable[FlowItem] | FlowData,
    *,
    as_of: date,
    zone: tzinfo,
    weeks: int = 12,
    by_status: bool = False,
) -> Flow:
    """The flow of ``items`` over ``weeks`` seven-day windows ending with ``as_of``;
    ``by_status`` adds the cumulative flow by status (the data must carry statuses)."""
    data = items if isinstance(items, FlowData) else FlowData.of(items)
    first = as_of - timedelta(days=7 * weeks - 1)
    origin, span = first.toordinal(), 7 * weeks
    n = len(data.keys)
    move_days = local_days(data.move_at, zone)
    lives = _lives(data, zone, n, move_days)
    arrived, started, finished = lives
    stretches = _Stretches.of(data, lives, move_days, origin, span)
    counts = stretches.paint(
        np.concatenate([stretches.at_first, data.move_category, np.full(stretches.closing, DONE)]),
        3,
    )
    arrivals = _weekly(arrived, origin, span, weeks)
    departures = _weekly(finished, origin, span, weeks)
    window = ~np.isnan(finished) & (finished >= origin) & (finished < origin + span)
    timed = window & ~np.isnan(started) & (started <= finished)
    without = sorted(data.keys[i] for i in np.flatnonzero(window & ~timed).tolist())
    chosen = np.flatnonzero(timed)
    starts, finishes = started[chosen].astype(np.int64), finished[chosen].astype(np.int64)
    lengths = finishes - starts + 1
    day_of = _dates(np.concatenate([starts, finishes]))
    keys, titles = data.keys, data.titles
    cycle = sorted(
        (
            CycleTime(keys[i], titles[i], day_of[s], day_of[f], d)
            for i, s, f, d in zip(
                chosen.tolist(), starts.tolist(), finishes.tolist(), lengths.tolist(), strict=True
            )
        ),
        key=lambda c: (c.finished_on, c.key),
    )
    days_only = sorted(lengths.tolist())
    p50, p85, p95 = (nearest_rank(days_only, q) for q in PERCENTILES)
    in_progress = data.categories[:n] == IN_PROGRESS
    open_started = np.flatnonzero(in_progress & ~np.isnan(started))
    statuses: tuple[Status, ...] = ()
    status_days: tuple[tuple[int, ...], ...] = ()
    if by_status:
        statuses, status_days = _by_status(data, stretches)
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
        aging=_aging(data, open_started, started, days_only, p85, as_of),
        unknown_start=int(np.count_nonzero(in_progress)) - len(open_started),
        trend_per_week=trend([int(d) for d in departures]),
        statuses=statuses,
        status_days=status_days,
    )


def _dates(ordinals: IntArray) -> dict[int, date]:
    """Each distinct day ordinal as a date, built once however many items share it."""
    return {o: date.fromordinal(o) for o in np.unique(ordinals).tolist()}


def _lives(
    data: FlowData, zone: tzinfo, n: int, moves: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each item's arrival, start and finish as local day ordinals (NaN: none)."""
    item = data.move_item
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


@dataclass(frozen=True, slots=True)
class _Stretches:
    """Where each item was from day to day, as stretches ready to be counted.

    An item's stretches are its arrival (to do; for an item without moves, its category
    now unless it finished), each move, and — when it is done now but its last move is
    not into done — its finish. Each stretch counts from its first day to the next
    stretch's (the day's last stretch wins); stretches before the window start it.

    The stretches are listed as arrivals (one per item), moves, then closings; ``chosen``
    picks those that count, in order, and ``start`` and ``end`` are their days in the
    window. ``paint`` counts any labelling of them (categories, statuses).
    """

    has_moves: npt.NDArray[np.bool_]
    at_first: IntArray
    """Each item's category on arrival."""
    closing_items: IntArray
    chosen: IntArray
    start: IntArray
    end: IntArray
    span: int

    @property
    def closing(self) -> int:
        return len(self.closing_items)

    @classmethod
    def of(
        cls,
        data: FlowData,
        lives: tuple[FloatArray, FloatArray, FloatArray],
        move_days: FloatArray,
        origin: int,
        span: int,
    ) -> _Stretches:
        arrived, _, finished = lives
        n = len(data.keys)
        item_ids = np.arange(n)
        has_moves = np.zeros(n, dtype=bool)
        has_moves[data.move_item] = True
        last_category = np.full(n, -1)
        last_category[data.move_item] = data.move_category
        last_day = np.full(n, np.nan)
        last_day[data.move_item] = move_days
        finishes = (data.categories == DONE) & ~np.isnan(finished)
        at_first = np.where(has_moves | finishes, TODO, data.categories)
        closing = finishes & (last_category != DONE)
        closing_day = np.fmax(finished, last_day)
        item = np.concatenate([item_ids, data.move_item, item_ids[closing]])
        order = np.concatenate(
            [np.zeros(n), np.ones(len(data.move_item)), np.full(closing.sum(), 2)]
        )
        day = np.concatenate([arrived, move_days, closing_day[closing]])
        keep = np.flatnonzero(~np.isnan(day))
        # Stable sorts keep the moves' own order within an item.
        chosen = keep[np.lexsort((order[keep], item[keep]))]
        item, day = item[chosen], day[chosen]
        start = np.clip(day - origin, 0, span).astype(np.int64)
        end = np.full(len(start), span)
        same = item[1:] == item[:-1]
        end[:-1][same] = start[1:][same]
        end = np.maximum(end, start)
        return cls(has_moves, at_first, item_ids[closing], chosen, start, end, span)

    def paint(self, labels: IntArray, k: int) -> IntArray:
        """Items under each of ``k`` labels at the end of each day, shape (k, span);
        ``labels`` gives every stretch's label, listed as the stretches are."""
        label = labels[self.chosen]
        inside = self.start < self.span
        flat = np.bincount(
            label[inside] * (self.span + 1) + self.start[inside], minlength=k * (self.span + 1)
        ) - np.bincount(
            label[inside] * (self.span + 1) + self.end[inside], minlength=k * (self.span + 1)
        )
        return np.cumsum(flat.reshape(k, self.span + 1), axis=1)[:, : self.span]


def _by_status(
    data: FlowData, stretches: _Stretches
) -> tuple[tuple[Status, ...], tuple[tuple[int, ...], ...]]:
    """The cumulative flow by status: the bands in order, and each day's counts."""
    if not data.has_statuses:
        raise ValueError("the flow by status needs the items' statuses")
    names = [*data.statuses, NOT_RECORDED]
    unknown = len(names) - 1
    n = len(data.keys)
    first_from = np.full(n, unknown)
    # Moves are in order within each item: the first move of each item is where the
    # item changes from the previous move's.
    leads = np.ones(len(data.move_item), dtype=bool)
    leads[1:] = data.move_item[1:] != data.move_item[:-1]
    recorded = np.where(data.move_from[leads] >= 0, data.move_from[leads], unknown)
    first_from[data.move_item[leads]] = recorded
    finishes = stretches.at_first != data.categories
    on_arrival = np.where(stretches.has_moves, first_from, np.where(finishes, unknown, data.status))
    labels = np.concatenate([on_arrival, data.move_status, data.status[stretches.closing_items]])
    counts = stretches.paint(labels, len(names))
    # A status's category: the one most of its counted stretches have (before the first
    # move: to do, as the cumulative flow by category counts it). A status no stretch
    # counts in is no band.
    categories = np.concatenate(
        [
            stretches.at_first,
            data.move_category,
            np.full(stretches.closing, DONE),
        ]
    )
    tally = np.zeros((len(names), 3), dtype=np.int64)
    np.add.at(tally, (labels[stretches.chosen], categories[stretches.chosen]), 1)
    shown = [s for s in range(len(names)) if tally[s].sum() > 0]
    ranked = sorted(shown, key=lambda s: (int(np.argmax(tally[s])), names[s].casefold(), names[s]))
    statuses = tuple(Status(names[s], CATEGORIES[int(np.argmax(tally[s]))]) for s in ranked)
    per_day = counts[ranked].T.tolist()
    return statuses, tuple(tuple(day) for day in per_day)


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
    begun = started[open_started].astype(np.int64)
    day_of = _dates(begun)
    keys, titles, total = data.keys, data.titles, len(finished)
    for i, start in zip(open_started.tolist(), begun.tolist(), strict=True):
        age = today - start + 1
        shorter = bisect.bisect_left(finished, age)
        share = round(100.0 * shorter / total, 1) if total else 0.0
        found.append(
            Aging(keys[i], titles[i], day_of[start], age, share, p85 is not None and age > p85)
        )
    found.sort(key=lambda a: (-a.age_days, a.key))
    return tuple(found)
