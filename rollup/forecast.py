"""When an outcome will likely finish: Monte Carlo over its own weekly throughput.

Each trial replays the past: week after week it draws a throughput from the outcome's
recent weeks (and, optionally, a scope growth from its snapshots) until the remaining
work is done. Where dependencies force work into sequence, the trial also runs those
chains (``rollup.chains``) and the later of the two is the trial's date. Trials are
vectorised with numpy and seeded from the caller's ``random.Random``, so the same data
and seed give the same answer.

Weeks are rolling seven-day windows ending on ``as_of``: a partial ISO week would make
the most recent week look slow.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from rollup.chains import ChainWork, simulate
from rollup.model import ForecastOptions, ItemRef, WorkItem

FloatArray = npt.NDArray[np.float64]

_Z95 = 1.959964
PERCENTILES = (0.50, 0.85, 0.95)


class ForecastBasis(StrEnum):
    MONTE_CARLO = "monte_carlo"
    INSUFFICIENT_HISTORY = "insufficient_history"
    DONE = "done"
    NO_WORK = "no_work"


@dataclass(frozen=True, slots=True)
class History:
    """Weekly completions (oldest first) over the weeks the work has existed."""

    weeks: tuple[int, ...]
    starts: tuple[date, ...]
    """First day of each seven-day window, for display."""

    @property
    def completed(self) -> int:
        return sum(self.weeks)


@dataclass(frozen=True, slots=True)
class Percentile:
    on: date | None
    """None when the trials at this percentile never finish within the horizon."""
    error_days: float | None
    """Half-width of the 95 % confidence interval of this percentile, from sampling."""


@dataclass(frozen=True, slots=True)
class Forecast:
    basis: ForecastBasis
    remaining: int
    history: History
    p50: Percentile | None = None
    p85: Percentile | None = None
    p95: Percentile | None = None
    probability_on_time: float | None = None
    probability_error: float | None = None
    """Standard error of ``probability_on_time`` from sampling."""
    trials: int = 0
    growth: tuple[int, ...] = ()
    """Weekly scope growth the trials drew from (empty when not included)."""
    capacity_share: float | None = None
    """Share of trials whose date the team's pace decided rather than a dependency chain
    (None without cycle-time history: then chains were not run)."""
    criticality: tuple[tuple[ItemRef, float], ...] = ()
    """Items by how often the chain they lie on decided the date, most critical first."""
    finish_days: FloatArray | None = field(default=None, compare=False, repr=False)
    """Days after ``as_of`` each trial finished (inf: beyond the horizon)."""


def local_date(moment: datetime, zone: tzinfo) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).date()


def day_start(day: date, zone: tzinfo) -> datetime:
    """The instant a local day begins (daylight-saving changes included)."""
    return datetime.combine(day, time(), tzinfo=zone)


def weekly_history(units: Iterable[WorkItem], *, as_of: date, zone: tzinfo, weeks: int) -> History:
    """Completions per seven-day window, over at most ``weeks`` windows ending on ``as_of``.

    Windows before the work's first sign of life (creation, start or completion) are left
    out: they are not weeks of zero throughput, they are weeks before there was any work.
    """
    # Window edges as instants: placing a completion is a comparison, not a conversion.
    edges = [day_start(as_of + timedelta(days=1 - 7 * k), zone) for k in range(weeks, -1, -1)]
    counts = [0] * weeks
    earliest: datetime | None = None
    for item in units:
        for moment in (item.created_at, item.started_at, item.completed_at):
            if moment is not None and (earliest is None or moment < earliest):
                earliest = moment
        finished = item.completed_at
        if finished is not None and edges[0] <= finished < edges[-1]:
            counts[bisect.bisect_right(edges, finished) - 1] += 1
    first = None if earliest is None else local_date(earliest, zone)
    lived = 0 if first is None else min(weeks, max(0, (as_of - first).days) // 7 + 1)
    kept = counts[weeks - lived :] if lived else []
    starts = [as_of - timedelta(days=7 * (len(kept) - i) - 1) for i in range(len(kept))]
    return History(tuple(kept), tuple(starts))


def capacity_days(
    throughput: Sequence[int],
    remaining: int,
    *,
    trials: int,
    generator: np.random.Generator,
    growth: Sequence[int] = (),
    horizon_weeks: int = 520,
) -> FloatArray:
    """Days each trial needs to finish ``remaining`` items at a pace drawn from the past.

    Weeks are drawn in blocks for all unfinished trials at once; within the finishing
    week the day is interpolated, so dates are not all on the same weekday.
    """
    result = np.full(trials, np.inf)
    if remaining <= 0:
        return np.zeros(trials)
    # Whole items per week: integer arithmetic until the finishing week is interpolated.
    samples = np.asarray(throughput, dtype=np.int32)
    growths = np.asarray(growth, dtype=np.int32) if len(growth) else None
    pace = samples.mean() - (growths.mean() if growths is not None else 0.0)
    block = int(min(horizon_weeks, max(4, math.ceil(1.25 * remaining / max(pace, 0.1)) + 4)))
    active = np.arange(trials)
    done_so_far = np.zeros(trials, dtype=np.int32)
    weeks_so_far = 0
    while active.size and weeks_so_far < horizon_weeks:
        width = min(block, horizon_weeks - weeks_so_far)
        net = samples.take(generator.integers(0, samples.size, size=(active.size, width)))
        if growths is not None:
            net -= growths.take(generator.integers(0, growths.size, size=(active.size, width)))
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


def percentile(finish_days: FloatArray, q: float, *, as_of: date) -> Percentile:
    """The q-quantile as a date, with the half-width of its 95 % interval in days.

    The interval comes from the binomial distribution of order statistics: the true
    quantile lies between ranks n·q ± 1.96·√(n·q·(1−q)) of the sorted trials.
    """
    ordered = np.sort(finish_days)
    n = ordered.size
    rank = min(n - 1, max(0, math.ceil(q * n) - 1))
    spread = _Z95 * math.sqrt(n * q * (1 - q))
    low = ordered[max(0, math.floor(q * n - spread))]
    high = ordered[min(n - 1, math.ceil(q * n + spread))]
    value = ordered[rank]
    on = as_of + timedelta(days=math.ceil(value)) if math.isfinite(value) else None
    error = float(high - low) / 2 if math.isfinite(high) else None
    return Percentile(on, None if error is None else round(error, 2))


def on_time(finish_days: FloatArray, target: date | None, *, as_of: date) -> tuple[float, float]:
    """Share of trials finished by the end of ``target``, and its standard error."""
    if target is None:
        raise ValueError("on_time needs a target date")
    p = float(np.mean(finish_days <= (target - as_of).days))
    return p, math.sqrt(p * (1 - p) / finish_days.size)


def run(
    remaining: int,
    history: History,
    *,
    as_of: date,
    target: date | None,
    options: ForecastOptions,
    rng: random.Random,
    growth: Sequence[int] = (),
    chains: ChainWork | None = None,
    cycle_times: Sequence[float] = (),
) -> Forecast:
    """Forecast one outcome from its remaining work, its history and its chains.

    ``chains`` (with the program's ``cycle_times`` in days) adds dependency chains to the
    trials: a trial ends when both the team's pace and the last chain say it is done.
    """
    if len(history.weeks) < options.min_history_weeks or history.completed < options.min_completed:
        return Forecast(ForecastBasis.INSUFFICIENT_HISTORY, remaining, history)
    generator = np.random.default_rng(rng.getrandbits(64))
    chain_seed = rng.getrandbits(32)
    pace = capacity_days(
        history.weeks,
        remaining,
        trials=options.trials,
        generator=generator,
        growth=growth if options.scope_growth else (),
        horizon_weeks=options.horizon_weeks,
    )
    simulated = (
        simulate(
            chains,
            cycle_times,
            trials=options.trials,
            seed=chain_seed,
            unless_before=float(pace.min()),
        )
        if chains
        else None
    )
    forecast = finish(
        pace if simulated is None else np.maximum(pace, simulated.days),
        basis=ForecastBasis.MONTE_CARLO,
        remaining=remaining,
        history=history,
        as_of=as_of,
        target=target,
        growth=tuple(growth) if options.scope_growth else (),
    )
    if chains is None:
        return forecast
    if simulated is None:
        # There were chains to weigh, and none could outlast the team's pace.
        return replace(forecast, capacity_share=1.0)
    deciding = simulated.days > pace
    return replace(
        forecast,
        capacity_share=round(1.0 - float(deciding.mean()), 4),
        criticality=simulated.criticality(deciding),
    )


def completed(history: History, finished_on: date | None, target: date | None) -> Forecast:
    """The forecast of finished work: its completion date, on time or not."""
    when = Percentile(finished_on, 0.0)
    late = finished_on is not None and target is not None and finished_on > target
    return Forecast(
        ForecastBasis.DONE,
        0,
        history,
        p50=when,
        p85=when,
        p95=when,
        probability_on_time=None if target is None else 0.0 if late else 1.0,
        probability_error=None if target is None else 0.0,
    )


def finish(
    days: FloatArray,
    *,
    basis: ForecastBasis,
    remaining: int,
    history: History,
    as_of: date,
    target: date | None,
    growth: tuple[int, ...] = (),
    probability: tuple[float, float] | None = None,
) -> Forecast:
    """A forecast from per-trial finish days: percentiles, and the chance to meet target."""
    p50, p85, p95 = (percentile(days, q, as_of=as_of) for q in PERCENTILES)
    if probability is None and target is not None:
        probability = on_time(days, target, as_of=as_of)
    return Forecast(
        basis=basis,
        remaining=remaining,
        history=history,
        p50=p50,
        p85=p85,
        p95=p95,
        probability_on_time=None if probability is None else round(probability[0], 4),
        probability_error=None if probability is None else round(probability[1], 4),
        trials=int(days.size),
        growth=growth,
        finish_days=days,
    )
