"""A program's forecast: it finishes when its last outcome does, and it is on time when
every outcome still open meets its own target in the same trial (``rollup.figures``).

Outcomes already done — on time or late — are settled: they no longer move the
program's chance, and its ``OnTime`` lists them as left out, as it lists outcomes
without work or without a target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Protocol

import numpy as np

from rollup import forecast as fc
from rollup.figures import OnTime, program_on_time
from rollup.forecast import Forecast, ForecastBasis
from rollup.history import weekly_history
from rollup.model import Outcome, WorkItem
from rollup.outcome import finished_on
from rollup.pace import FloatArray
from rollup.scope import ProgramScope


class Part(Protocol):
    """What the program's forecast reads of an outcome: its roll-up, or only its figures
    (a what-if's)."""

    @property
    def outcome(self) -> Outcome: ...

    @property
    def forecast(self) -> Forecast: ...

    @property
    def done_late(self) -> bool: ...


def program_forecast(
    scope: ProgramScope,
    outcomes: Sequence[Part],
    units: Sequence[WorkItem],
    target: date | None,
) -> tuple[Forecast, OnTime]:
    """The program's forecast, and what its probability is stated against."""
    options = scope.program.policy.forecast
    history = weekly_history(
        units, as_of=scope.as_of, zone=scope.zone, weeks=options.history_weeks, now=scope.now
    )
    remaining = float(sum(1 for u in units if not u.done))
    open_parts = [
        o for o in outcomes if o.forecast.basis not in (ForecastBasis.DONE, ForecastBasis.NO_WORK)
    ]
    left_out = [
        (o.outcome.name, reason)
        for o in outcomes
        if (reason := _left_out_because(o, open_parts)) is not None
    ]
    covered = [(o.outcome.name, t) for o in open_parts if (t := o.outcome.target) is not None]
    if not units:
        return Forecast(ForecastBasis.NO_WORK, 0.0, history), program_on_time(None, [], left_out)
    if any(o.forecast.basis is ForecastBasis.INSUFFICIENT_HISTORY for o in open_parts):
        forecast = Forecast(ForecastBasis.INSUFFICIENT_HISTORY, remaining, history)
        return forecast, program_on_time(None, covered, left_out)
    if not open_parts:
        done = fc.completed(history, finished_on(units, scope.zone), target)
        late = any(o.done_late for o in outcomes)
        settled = None if target is None else 0.0 if late else 1.0
        return replace(done, probability_on_time=settled), program_on_time(settled, [], left_out)
    trials = options.trials
    days = np.zeros(trials)
    on_time = np.ones(trials, dtype=bool)
    for o in open_parts:
        finish = _finish_days(o.forecast, scope.as_of, trials)
        days = np.maximum(days, finish)
        if o.outcome.target is not None:
            on_time &= finish <= (o.outcome.target - scope.as_of).days
    p = float(on_time.mean())
    forecast = fc.finish(
        days,
        basis=ForecastBasis.MONTE_CARLO,
        remaining=sum(o.forecast.remaining for o in open_parts),
        history=history,
        as_of=scope.as_of,
        target=target,
        probability=(p, math.sqrt(p * (1 - p) / trials)) if covered else None,
    )
    shown = forecast.probability_on_time
    return forecast, program_on_time(shown, covered, left_out)


def _left_out_because(part: Part, open_parts: Sequence[Part]) -> str | None:
    if part.forecast.basis is ForecastBasis.NO_WORK:
        return "no work"
    if part.done_late:
        return "done late"
    if part.forecast.basis is ForecastBasis.DONE:
        return "done"
    if part in open_parts and part.outcome.target is None:
        return "no target"
    return None


def _finish_days(forecast: Forecast, as_of: date, trials: int) -> FloatArray:
    if forecast.finish_days is not None:
        return forecast.finish_days
    finished = forecast.p50.on if forecast.p50 else None
    return np.full(trials, float((finished - as_of).days) if finished else 0.0)
