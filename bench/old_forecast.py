"""The forecast model Throughline shipped before #17, kept only to be measured against.

It resamples observed weeks as if they were the whole truth (the pace itself is never
in doubt), counts the oldest partial week and today as whole, and counts items whatever
the progress basis. ``python -m bench calibration`` reports its miss rates beside the
current model's on the same simulated histories; nothing in the product uses it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, timedelta, tzinfo

import numpy as np
import numpy.typing as npt

from bench.histories import QUANTILES, Case, Forecaster
from rollup.history import day_start, local_date
from rollup.model import WorkItem

FloatArray = npt.NDArray[np.float64]


def weekly_history(
    units: Iterable[WorkItem], *, as_of: date, zone: tzinfo, weeks: int
) -> tuple[int, ...]:
    """Completions per seven-day window, whole windows only, as the old model counted."""
    edges = [day_start(as_of + timedelta(days=1 - 7 * k), zone) for k in range(weeks, -1, -1)]
    counts = [0] * weeks
    earliest = None
    for item in units:
        for moment in (item.created_at, item.started_at, item.completed_at):
            if moment is not None and (earliest is None or moment < earliest):
                earliest = moment
        finished = item.completed_at
        if finished is not None and edges[0] <= finished < edges[-1]:
            counts[bisect.bisect_right(edges, finished) - 1] += 1
    first = None if earliest is None else local_date(earliest, zone)
    lived = 0 if first is None else min(weeks, max(0, (as_of - first).days) // 7 + 1)
    return tuple(counts[weeks - lived :]) if lived else ()


def capacity_days(
    throughput: Sequence[int],
    remaining: int,
    *,
    trials: int,
    generator: np.random.Generator,
    horizon_weeks: int = 520,
) -> FloatArray:
    """Days each trial needs, drawing every week from the observed weeks."""
    result = np.full(trials, np.inf)
    if remaining <= 0:
        return np.zeros(trials)
    samples = np.asarray(throughput, dtype=np.int32)
    pace = samples.mean()
    block = int(min(horizon_weeks, max(4, math.ceil(1.25 * remaining / max(pace, 0.1)) + 4)))
    active = np.arange(trials)
    done_so_far = np.zeros(trials, dtype=np.int32)
    weeks_so_far = 0
    while active.size and weeks_so_far < horizon_weeks:
        width = min(block, horizon_weeks - weeks_so_far)
        net = samples.take(generator.integers(0, samples.size, size=(active.size, width)))
        cumulative = np.cumsum(net, axis=1, dtype=np.int32)
        cumulative += done_so_far[active, None]
        reached = cumulative >= remaining
        finished = reached.any(axis=1)
        rows = np.flatnonzero(finished)
        week = reached[rows].argmax(axis=1)
        before = np.where(
            week > 0, cumulative[rows, np.maximum(week - 1, 0)], done_so_far[active[rows]]
        )
        fraction = (remaining - before) / (cumulative[rows, week] - before)
        result[active[rows]] = 7.0 * (weeks_so_far + week + fraction)
        done_so_far[active] = cumulative[:, -1]
        active = active[~finished]
        weeks_so_far += width
    return result


def dates(
    units: Sequence[WorkItem],
    remaining: int,
    *,
    as_of: date,
    zone: tzinfo,
    weeks: int,
    trials: int,
    seed: int,
    quantiles: Sequence[float],
) -> tuple[date | None, ...] | None:
    """The old model's dates at ``quantiles`` (None: too little history to forecast)."""
    history = weekly_history(units, as_of=as_of, zone=zone, weeks=weeks)
    if len(history) < 4 or sum(history) < 3:
        return None
    days = np.sort(
        capacity_days(history, remaining, trials=trials, generator=np.random.default_rng(seed))
    )
    found: list[date | None] = []
    for q in quantiles:
        value = days[min(trials - 1, max(0, math.ceil(q * trials) - 1))]
        found.append(as_of + timedelta(days=math.ceil(value)) if math.isfinite(value) else None)
    return tuple(found)


def old_model(trials: int) -> Forecaster:
    """The old model as a back-test forecaster."""

    def forecast(case: Case, seed: int) -> Sequence[date | None] | None:
        return dates(
            case.units,
            case.remaining,
            as_of=case.now.date(),
            zone=UTC,
            weeks=12,
            trials=trials,
            seed=seed,
            quantiles=QUANTILES,
        )

    return forecast
