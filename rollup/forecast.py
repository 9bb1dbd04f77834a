"""When an outcome will likely finish: Monte Carlo over an honest pace posterior.

Every trial draws a pace from what the outcome's history allows (``rollup.pace``), a
growth of scope from what its snapshots show, and how long the remaining work takes at
that net pace; where dependencies force work into sequence, the trial also runs those
chains (``rollup.chains``) and the later of the two is the trial's date. Everything is in
the progress basis's unit: items, or estimate points. Trials start *now*: what is left of
today is the first part of the time they spend.

A forecast is a function of its ``Inputs`` and its ``Draws`` (the trials' random
numbers). ``Inputs`` are small enough to keep in a snapshot, and the draws are smooth
in the inputs, so a forecast re-run with one input changed and the same draws differs
only by what that input does — which is how ``rollup.movement`` explains a move.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum

import numpy as np

from rollup.chains import ChainWork, simulate
from rollup.history import History
from rollup.inputs import CHAIN_QUANTILES, Inputs
from rollup.model import ForecastOptions, ItemRef
from rollup.pace import FloatArray, Pace, drift, estimate, finish_weeks

_Z95 = 1.959964
PERCENTILES = (0.50, 0.85, 0.95)


class ForecastBasis(StrEnum):
    MONTE_CARLO = "monte_carlo"
    INSUFFICIENT_HISTORY = "insufficient_history"
    DONE = "done"
    NO_WORK = "no_work"


@dataclass(frozen=True, slots=True)
class Percentile:
    on: date | None
    """None when the trials at this percentile never finish within the horizon."""
    sampling_error_days: float | None
    """Monte Carlo noise only: half-width of the 95 % interval of this percentile from
    the finite number of trials. The forecast's own uncertainty is the P50–P95 spread."""


@dataclass(frozen=True, slots=True)
class Draws:
    """The random numbers of a set of trials, drawn once."""

    normal: FloatArray
    """Shape (4, trials): pace, growth, time to finish, drift of the pace."""
    uniform: FloatArray
    """Shape (6, trials): the same three (for small Gamma shapes), the chains, and which
    component of the pace and of the growth posterior."""

    @classmethod
    def of(cls, seed: int, trials: int) -> Draws:
        generator = np.random.default_rng(seed)
        return cls(generator.standard_normal((4, trials)), generator.random((6, trials)))

    @property
    def trials(self) -> int:
        return int(self.normal.shape[1])


@dataclass(frozen=True, slots=True)
class Forecast:
    basis: ForecastBasis
    remaining: float
    """Work left in the basis's unit, unrefined work's expected size included."""
    history: History
    p50: Percentile | None = None
    p85: Percentile | None = None
    p95: Percentile | None = None
    probability_on_time: float | None = None
    """The chance to finish by ``inputs.target`` (its own target, for an outcome)."""
    probability_error: float | None = None
    """Standard error of ``probability_on_time`` from sampling."""
    trials: int = 0
    pace: Pace | None = None
    growth: Pace | None = None
    """The scope growth the trials drew from (None when not included)."""
    capacity_share: float | None = None
    """Share of trials whose date the team's pace decided rather than a dependency chain
    (None without cycle-time history: then chains were not run)."""
    criticality: tuple[tuple[ItemRef, float], ...] = ()
    """Items by how often the chain they lie on decided the date, most critical first."""
    inputs: Inputs | None = None
    finish_days: FloatArray | None = field(default=None, compare=False, repr=False)
    """Days after ``as_of`` each trial finished (inf: beyond the horizon)."""


def sufficient(history: History, options: ForecastOptions) -> bool:
    return (
        len(history.weeks) >= options.min_history_weeks
        and history.completed >= options.min_completed
    )


def pace_of(inputs: Inputs) -> Pace:
    history = inputs.history
    return estimate(history.sized, history.exposed, floor=inputs.unit_dispersion)


def growth_of(inputs: Inputs, options: ForecastOptions) -> Pace | None:
    """The growth posterior, from at least two weeks of snapshots (net of removals)."""
    growth = inputs.growth
    if not options.scope_growth or growth is None or len(growth.sized) < 2:
        return None
    net = max(0.0, sum(growth.sized))
    weekly = [max(0.0, s) for s in growth.sized]
    total = sum(weekly)
    scaled = [s * net / total for s in weekly] if total > 0 else weekly
    return estimate(scaled, growth.exposed, floor=inputs.unit_dispersion)


def pace_days(
    inputs: Inputs, draws: Draws, options: ForecastOptions
) -> tuple[FloatArray, Pace, Pace | None]:
    """Days after ``as_of`` each trial needs at its drawn pace (and growth), chains aside."""
    pace = pace_of(inputs)
    growth = growth_of(inputs, options)
    drawn = drift(
        pace.draw(draws.normal[0], draws.uniform[0], draws.uniform[4]) * inputs.pace_factor
        + inputs.pace_added,
        inputs.remaining,
        draws.normal[3],
    )
    weeks = finish_weeks(
        drawn,
        inputs.remaining,
        dispersion=pace.dispersion,
        growth=None
        if growth is None
        else growth.draw(draws.normal[1], draws.uniform[1], draws.uniform[5]),
        growth_dispersion=1.0 if growth is None else growth.dispersion,
        normal=draws.normal[2],
        uniform=draws.uniform[2],
    )
    days = weeks * 7.0 - (1.0 - inputs.elapsed)
    days[weeks > options.horizon_weeks] = math.inf
    return days, pace, growth


def trial_days(inputs: Inputs, draws: Draws, options: ForecastOptions) -> FloatArray:
    """Each trial's finish from the inputs alone: chains from their kept quantiles."""
    days, _, _ = pace_days(inputs, draws, options)
    if inputs.chain_days:
        chains = np.interp(draws.uniform[3], CHAIN_QUANTILES, inputs.chain_days)
        days = np.maximum(days, chains)
    return days


def run(
    inputs: Inputs,
    *,
    options: ForecastOptions,
    rng: random.Random,
    chains: ChainWork | None = None,
    cycle_times: Sequence[float] = (),
) -> Forecast:
    """Forecast one outcome from its inputs and its chains.

    ``chains`` (with the program's ``cycle_times`` in days) adds dependency chains to the
    trials: a trial ends when both the team's pace and the last chain say it is done.
    """
    history = inputs.history
    if not sufficient(history, options):
        return Forecast(
            ForecastBasis.INSUFFICIENT_HISTORY, inputs.remaining, history, inputs=inputs
        )
    draws = Draws.of(rng.getrandbits(64), options.trials)
    chain_seed = rng.getrandbits(32)
    days, pace, growth = pace_days(inputs, draws, options)
    simulated = (
        simulate(
            chains,
            cycle_times,
            trials=options.trials,
            seed=chain_seed,
            unless_before=float(days.min()) + (1.0 - inputs.elapsed),
        )
        if chains
        else None
    )
    chain_days = None if simulated is None else simulated.days - (1.0 - inputs.elapsed)
    kept = inputs
    if chain_days is not None:
        spread = np.quantile(chain_days, CHAIN_QUANTILES)
        kept = replace(inputs, chain_days=tuple(round(float(d), 3) for d in spread))
    forecast = finish(
        days if chain_days is None else np.maximum(days, chain_days),
        basis=ForecastBasis.MONTE_CARLO,
        remaining=inputs.remaining,
        history=history,
        as_of=inputs.as_of,
        target=inputs.target,
    )
    forecast = replace(forecast, pace=pace, growth=growth, inputs=kept)
    if chains is None:
        return forecast
    if simulated is None or chain_days is None:
        # There were chains to weigh, and none could outlast the team's pace.
        return replace(forecast, capacity_share=1.0)
    deciding = chain_days > days
    return replace(
        forecast,
        capacity_share=round(1.0 - float(deciding.mean()), 4),
        criticality=simulated.criticality(deciding),
    )


def percentile(finish_days: FloatArray, q: float, *, as_of: date) -> Percentile:
    """The q-quantile as a date, with the half-width of its 95 % sampling interval.

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
    on = as_of + timedelta(days=max(0, math.ceil(value))) if math.isfinite(value) else None
    error = float(high - low) / 2 if math.isfinite(high) else None
    return Percentile(on, None if error is None else round(error, 2))


def on_time(finish_days: FloatArray, target: date | None, *, as_of: date) -> tuple[float, float]:
    """Share of trials finished by the end of ``target``, and its standard error."""
    if target is None:
        raise ValueError("on_time needs a target date")
    p = float(np.mean(finish_days <= (target - as_of).days))
    return p, math.sqrt(p * (1 - p) / finish_days.size)


def completed(
    history: History, finished_on: date | None, target: date | None, inputs: Inputs | None = None
) -> Forecast:
    """The forecast of finished work: its completion date, on time or not."""
    when = Percentile(finished_on, 0.0)
    late = finished_on is not None and target is not None and finished_on > target
    return Forecast(
        ForecastBasis.DONE,
        0.0,
        history,
        p50=when,
        p85=when,
        p95=when,
        probability_on_time=None if target is None else 0.0 if late else 1.0,
        probability_error=None if target is None else 0.0,
        inputs=inputs,
    )


def finish(
    days: FloatArray,
    *,
    basis: ForecastBasis,
    remaining: float,
    history: History,
    as_of: date,
    target: date | None,
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
        finish_days=days,
    )


def days_at_pace(
    history: History,
    remaining: float,
    *,
    trials: int,
    seed: int,
    options: ForecastOptions,
    as_of: date,
    elapsed: float = 1.0,
    unit_dispersion: float = 1.0,
) -> FloatArray:
    """Days a share of work needs at the pace of its own history (no chains, no growth)."""
    inputs = Inputs(
        as_of=as_of,
        target=None,
        scope=remaining,
        done=0.0,
        history=history,
        elapsed=elapsed,
        unit_dispersion=unit_dispersion,
    )
    days, _, _ = pace_days(inputs, Draws.of(seed, trials), replace(options, scope_growth=False))
    return days
