"""Simulated histories of known shapes, and how often a forecast's dates are missed.

A calibration back-test needs a truth to miss: each case is a team whose true pace we
choose, a history of what it finished until *now*, and the moment its remaining work
actually finished, drawn from the same process. A forecast made from the history alone
is calibrated when its P85 date is missed in 15 % of cases, its P50 in half.

Shapes (true weekly pace λ drawn log-uniformly, so the forecaster cannot know it):

- ``steady``: a Poisson process at 2–12 items a week, with months of history;
- ``bursty``: the same pace, but work lands in batches (geometric, four on average);
- ``slowing``: the pace fell week by week over the last twelve weeks, by 30–50 % in all,
  and has held at its latest level for two weeks;
- ``young``: a steady team that started 3–6 weeks ago (the oldest week partial);
- ``sparse``: a Poisson process at 0.4–1.5 items a week.

Remaining work is 2–20 weeks of it at the pace the history shows. *Now* falls at any time of day.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from rollup.graph import DependencyGraph
from rollup.mapping import ItemIndex
from rollup.model import ForecastOptions, Outcome, Policy, Program, Selector, WorkItem
from rollup.status import evaluate
from rollup.trend import Trend
from vocabulary import ItemKind, StatusCategory

AS_OF = date(2026, 11, 20)
QUANTILES = (0.50, 0.85, 0.95)
SLOWING_FALL = (0.15, 0.3)
SLOWING_HELD = 4
PACE = (2.0, 20.0)
SPARSE_PACE = (0.25, 2.0)
BURST = 3.0


class Shape(StrEnum):
    STEADY = "steady"
    BURSTY = "bursty"
    SLOWING = "slowing"
    YOUNG = "young"
    SPARSE = "sparse"


@dataclass(frozen=True, slots=True)
class Case:
    shape: Shape
    now: datetime
    units: tuple[WorkItem, ...]
    """What was finished before now, and the remaining work (to do)."""
    remaining: int
    finish: datetime
    """When the remaining work actually finished."""


@dataclass(frozen=True, slots=True)
class _Process:
    start: datetime
    paces: tuple[tuple[datetime, float], ...]
    """Weekly pace from each moment on (the first from ``start``), in time order."""
    batch: float
    """Mean batch size (1: one item at a time)."""

    def pace(self, moment: datetime) -> float:
        current = self.paces[0][1]
        for since, pace in self.paces:
            if since > moment:
                break
            current = pace
        return current

    def next_change(self, moment: datetime) -> datetime | None:
        return next((since for since, _ in self.paces if since > moment), None)


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _process(shape: Shape, now: datetime, rng: random.Random) -> _Process:
    week = timedelta(weeks=1)
    pace = _log_uniform(rng, *SPARSE_PACE) if shape is Shape.SPARSE else _log_uniform(rng, *PACE)
    start = now - week * rng.uniform(13, 40)
    if shape is Shape.YOUNG:
        start = now - timedelta(days=rng.uniform(22, 42))
    if shape is Shape.SLOWING:
        # Down week by week from twelve weeks ago, level for the last SLOWING_HELD weeks.
        fall = rng.uniform(*SLOWING_FALL)
        span = 12 - SLOWING_HELD
        steps = [
            (now - week * (12 - k), pace / (1 - fall * (span - k) / span)) for k in range(span + 1)
        ]
        return _Process(start, ((start, steps[0][1]), *steps[1:]), 1.0)
    return _Process(start, ((start, pace),), BURST if shape is Shape.BURSTY else 1.0)


def _batches(process: _Process, rng: random.Random) -> Callable[[], tuple[datetime, int]]:
    """The next batch of completions: when, and how many (a compound Poisson process)."""
    moment = process.start

    def following() -> tuple[datetime, int]:
        nonlocal moment
        while True:
            rate = process.pace(moment) / process.batch / (7 * 86400)
            step = timedelta(seconds=rng.expovariate(rate))
            change = process.next_change(moment)
            if change is not None and change <= moment + step:
                # The pace changes before the next batch: start afresh from the change
                # (memorylessness makes this exact).
                moment = change
                continue
            moment += step
            size = 1
            if process.batch > 1:
                p = 1 / process.batch
                size = 1 + int(math.log(1 - rng.random()) / math.log(1 - p))
            return moment, size

    return following


def simulate(shape: Shape, rng: random.Random) -> Case:
    """One team: its history until now, and when its remaining work truly finished."""
    now = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC) + timedelta(
        seconds=rng.uniform(0, 86400)
    )
    process = _process(shape, now, rng)
    following = _batches(process, rng)
    finished: list[datetime] = []
    moment, size = following()
    while moment < now:
        finished += [moment] * size
        moment, size = following()
    # The work left is sized from what the history shows, never from the true pace: a
    # size that knew the pace would tell the forecaster more than the history does.
    since = max(process.start, now - timedelta(weeks=12))
    seen = sum(1 for at in finished if at >= since) / ((now - since) / timedelta(weeks=1))
    remaining = max(1, round(max(seen, 0.5) * rng.uniform(2, 20)))
    left = remaining
    while True:
        left -= size
        if left <= 0:
            break
        moment, size = following()
    # Work finished before the last thirteen weeks is left out: no forecast looks that far
    # back, and the work left (created at the start) still says when the work began.
    kept = [at for at in finished if at >= now - timedelta(weeks=13)]
    units = [_done(f"H-{n}", at, process.start, rng) for n, at in enumerate(kept, 1)]
    units += [_todo(f"H-{len(kept) + n}", process.start) for n in range(1, remaining + 1)]
    return Case(shape, now, tuple(units), remaining, moment)


def _done(key: str, at: datetime, start: datetime, rng: random.Random) -> WorkItem:
    return WorkItem(
        source="sim",
        key=key,
        title=key,
        kind=ItemKind.STORY,
        project="SIM",
        status="Done",
        status_category=StatusCategory.DONE,
        updated_at=at,
        created_at=start,
        started_at=max(start, at - timedelta(days=rng.uniform(0.5, 10))),
        done_at=at,
    )


def _todo(key: str, start: datetime) -> WorkItem:
    return WorkItem(
        source="sim",
        key=key,
        title=key,
        kind=ItemKind.STORY,
        project="SIM",
        status="To Do",
        status_category=StatusCategory.TODO,
        updated_at=start,
        created_at=start,
    )


Forecaster = Callable[[Case, int], Sequence[date | None] | None]
"""Dates at ``QUANTILES`` for a case (given a seed), or None when it cannot forecast."""


def current_model(trials: int) -> Forecaster:
    """The product's forecast, run end to end: the case as a program of one outcome."""
    program = Program(
        "sim",
        "Simulated",
        (Outcome("work", "Work", selectors=(Selector("sim", projects=("SIM",)),)),),
        policy=Policy(forecast=ForecastOptions(trials=trials)),
    )

    def forecast(case: Case, seed: int) -> Sequence[date | None] | None:
        index = ItemIndex(case.units)
        rollup = evaluate(
            program,
            index,
            DependencyGraph((), index),
            Trend(),
            as_of=case.now.date(),
            zone=UTC,
            rng=random.Random(seed),
            now=case.now,
        )
        found = rollup.outcomes[0].forecast
        if found.p50 is None or found.p85 is None or found.p95 is None:
            return None
        return (found.p50.on, found.p85.on, found.p95.on)

    return forecast


@dataclass(slots=True)
class Tally:
    """How often each quantile's date was missed over the cases a forecaster judged."""

    cases: int = 0
    unforecast: int = 0
    missed: list[int] = field(default_factory=lambda: [0] * len(QUANTILES))

    def rate(self, q: float) -> float:
        return self.missed[QUANTILES.index(q)] / self.cases if self.cases else math.nan


def back_test(shape: Shape, forecaster: Forecaster, *, cases: int, seed: int) -> Tally:
    """Simulate ``cases`` histories of one shape and count the forecaster's missed dates."""
    rng = random.Random(f"{seed}:{shape}")
    tally = Tally()
    for n in range(cases):
        case = simulate(shape, rng)
        dates = forecaster(case, seed * 1_000_003 + n)
        if dates is None:
            tally.unforecast += 1
            continue
        tally.cases += 1
        finished_on = case.finish.date()
        for i, on in enumerate(dates):
            if on is not None and finished_on > on:
                tally.missed[i] += 1
    return tally
