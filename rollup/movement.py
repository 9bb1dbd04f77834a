"""Why a forecast moved between two snapshots, in weeks a program manager can check.

Each snapshot keeps its forecast's inputs (``rollup.inputs``). Between two of them the
forecast is re-run with each subset of what changed — scope, pace, work finished (with
the time that passed), dependencies, the target — on the same random numbers, so every
difference is what the inputs did and not the dice. Each factor's share of the move is
its Shapley value: its effect averaged over every order the changes could have come in,
so the shares add up to the whole move whatever the order.

"P85 moved 3 weeks later: scope grew by 12 items (+2 w), pace fell from 6.0 to 4.0 items
a week (+1 w)."
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

import numpy as np

from rollup import forecast as fc
from rollup.figures import amount, day, percent, unit
from rollup.inputs import Inputs
from rollup.model import ForecastOptions, ProgressBasis
from rollup.pace import FloatArray

TRIALS = 4_000
"""Trials per re-run: common random numbers keep the differences steady with fewer."""


class Factor(StrEnum):
    SCOPE = "scope"
    PACE = "pace"
    FINISHED = "finished"
    DEPENDENCIES = "dependencies"
    TARGET = "target"


@dataclass(frozen=True, slots=True)
class Share:
    """One factor's share of the move."""

    factor: Factor
    p50_days: float
    p85_days: float
    probability: float | None
    """Change of P(on time) this factor made (None without a target on both sides)."""
    text: str
    """What changed, in words ("pace fell from 6.0 to 4.0 items a week")."""


@dataclass(frozen=True, slots=True)
class Movement:
    since: date
    until: date
    p50_days: float
    """How far P50 moved by the re-runs (days; positive: later)."""
    p85_days: float
    probability: float | None
    shares: tuple[Share, ...]
    """Factors that changed, largest share of the P85 move first."""
    text: str
    observed_p85_days: float | None = None
    """How far the P85 dates the two snapshots showed moved (they also differ by their
    own trials' noise and by rounding to a day)."""


def _changed(before: Inputs, after: Inputs) -> list[Factor]:
    found = []
    if (before.scope, before.unrefined, before.growth) != (
        after.scope,
        after.unrefined,
        after.growth,
    ):
        found.append(Factor.SCOPE)
    if before.history != after.history:
        found.append(Factor.PACE)
    if (before.done, before.as_of, before.elapsed) != (after.done, after.as_of, after.elapsed):
        found.append(Factor.FINISHED)
    if before.chain_days != after.chain_days:
        found.append(Factor.DEPENDENCIES)
    if before.target != after.target:
        found.append(Factor.TARGET)
    return found


def _mix(before: Inputs, after: Inputs, taken: frozenset[Factor]) -> Inputs:
    """``before`` with the factors in ``taken`` as they are in ``after``."""
    mixed = before
    if Factor.SCOPE in taken:
        mixed = replace(
            mixed,
            scope=after.scope,
            unrefined=after.unrefined,
            growth=after.growth,
            unit_dispersion=after.unit_dispersion,
        )
    if Factor.PACE in taken:
        mixed = replace(mixed, history=after.history)
    if Factor.FINISHED in taken:
        mixed = replace(mixed, done=after.done, as_of=after.as_of, elapsed=after.elapsed)
    # Chains end at fixed dates: moving the day they are counted from shifts them.
    chains = after if Factor.DEPENDENCIES in taken else before
    shift = (chains.as_of - mixed.as_of).days
    mixed = replace(mixed, chain_days=tuple(d + shift for d in chains.chain_days))
    if Factor.TARGET in taken:
        mixed = replace(mixed, target=after.target)
    return mixed


@dataclass(frozen=True, slots=True)
class _Run:
    p50: float
    p85: float
    probability: float | None


def _run_all(
    pairs: Sequence[tuple[Inputs, Inputs]],
    taken: frozenset[Factor],
    draws: Sequence[fc.Draws],
    options: ForecastOptions,
    origin: date,
) -> _Run:
    """Re-run every outcome with ``taken`` swapped in; the last one decides the date and
    the run is on time when every outcome with a target meets it (days from ``origin``)."""
    finish: FloatArray | None = None
    on_time: FloatArray | None = None
    judged = False
    for (before, after), drawn in zip(pairs, draws, strict=True):
        mixed = _mix(before, after, taken)
        days = fc.trial_days(mixed, drawn, options) + (mixed.as_of - origin).days
        finish = days if finish is None else np.maximum(finish, days)
        if mixed.target is not None:
            met = (days <= (mixed.target - origin).days).astype(np.float64)
            on_time = met if on_time is None else on_time * met
            judged = True
    assert finish is not None
    p50, p85 = (float(np.quantile(finish, q, method="inverted_cdf")) for q in (0.5, 0.85))
    return _Run(p50, p85, float(on_time.mean()) if judged and on_time is not None else None)


def _shapley(
    factors: Sequence[Factor], value: Callable[[frozenset[Factor]], _Run]
) -> dict[Factor, tuple[float, float, float | None]]:
    runs = {
        frozenset(s): value(frozenset(s))
        for k in range(len(factors) + 1)
        for s in itertools.combinations(factors, k)
    }
    n = len(factors)
    shares: dict[Factor, tuple[float, float, float | None]] = {}
    for f in factors:
        p50 = p85 = 0.0
        prob: float | None = 0.0
        for subset, run in runs.items():
            if f in subset:
                continue
            orders = math.factorial(len(subset)) * math.factorial(n - len(subset) - 1)
            weight = orders / math.factorial(n)
            with_f = runs[subset | {f}]
            p50 += weight * _delta(with_f.p50, run.p50)
            p85 += weight * _delta(with_f.p85, run.p85)
            if prob is not None and with_f.probability is not None and run.probability is not None:
                prob += weight * (with_f.probability - run.probability)
            else:
                prob = None
        shares[f] = (p50, p85, prob)
    return shares


def _delta(later: float, earlier: float) -> float:
    """A move in days; a date beyond the horizon on either side counts as no move."""
    return later - earlier if math.isfinite(later) and math.isfinite(earlier) else 0.0


def explain(
    pairs: Sequence[tuple[Inputs, Inputs]],
    *,
    basis: ProgressBasis,
    options: ForecastOptions,
    seed: int,
    observed_p85_days: float | None = None,
) -> Movement | None:
    """Why the forecast of these outcomes (one, or a program's) moved from each pair's
    first inputs to its second; None when nothing changed.

    ``observed_p85_days`` is how far the shown P85 dates moved: the headline says that,
    and what the factors do not account for is named as the trials' noise.
    """
    if not pairs:
        return None
    factors = sorted(
        {f for before, after in pairs for f in _changed(before, after)}, key=list(Factor).index
    )
    if not factors:
        return None
    options = replace(options, trials=TRIALS)
    draws = [fc.Draws.of(seed + 7919 * k, TRIALS) for k in range(len(pairs))]
    origin = pairs[0][0].as_of
    shares = _shapley(factors, lambda taken: _run_all(pairs, taken, draws, options, origin))
    described = [
        Share(
            f,
            round(p50, 2),
            round(p85, 2),
            None if p is None else round(p, 4),
            _describe(f, pairs, basis),
        )
        for f, (p50, p85, p) in shares.items()
    ]
    described.sort(key=lambda s: -abs(s.p85_days))
    p50 = sum(s.p50_days for s in described)
    p85 = sum(s.p85_days for s in described)
    probs = [s.probability for s in described]
    probability = None if any(p is None for p in probs) else sum(p for p in probs if p is not None)
    since, until = min(b.as_of for b, _ in pairs), max(a.as_of for _, a in pairs)
    return Movement(
        since,
        until,
        round(p50, 2),
        round(p85, 2),
        probability,
        tuple(described),
        summary(p85 if observed_p85_days is None else observed_p85_days, described, p85),
        observed_p85_days,
    )


def weeks(days: float) -> str:
    """A move as a program manager reads it: "+2 w", "−3 d", "±0 d"."""
    sign = "+" if days > 0 else "−" if days < 0 else "±"
    size = abs(days)
    if size >= 7:
        return f"{sign}{round(size / 7)} w"
    return f"{sign}{round(size)} d"


def summary(p85_days: float, shares: Sequence[Share], explained: float | None = None) -> str:
    """The headline: how far P85 moved, and the factors that moved it by a day or more
    (with what they leave unexplained of ``p85_days``, when that is a day or more)."""
    size = abs(p85_days)
    if size < 0.5:
        head = "P85 held"
    else:
        span = f"{round(size / 7)} week(s)" if size >= 7 else f"{round(size)} day(s)"
        head = f"P85 moved {span} {'later' if p85_days > 0 else 'earlier'}"
    parts = [f"{s.text} ({weeks(s.p85_days)})" for s in shares if abs(s.p85_days) >= 0.5]
    rest = p85_days - (explained if explained is not None else p85_days)
    if abs(rest) >= 1:
        parts.append(f"the trials' own noise and rounding ({weeks(rest)})")
    return f"{head}: {', '.join(parts)}" if parts else head


def _describe(factor: Factor, pairs: Sequence[tuple[Inputs, Inputs]], basis: ProgressBasis) -> str:
    before = [b for b, _ in pairs]
    after = [a for _, a in pairs]
    if factor is Factor.SCOPE:
        change = sum(a.scope + a.unrefined for a in after) - sum(
            b.scope + b.unrefined for b in before
        )
        if abs(change) < 0.05:
            return "scope growth expected from the snapshots changed"
        grew = "grew" if change > 0 else "shrank"
        return f"scope {grew} by {amount(abs(change), basis)}"
    if factor is Factor.PACE:
        then = sum(fc.pace_of(b).mean for b in before)
        now = sum(fc.pace_of(a).mean for a in after)
        moved = "rose" if now > then else "fell" if now < then else "held"
        return f"pace {moved} from {then:.1f} to {now:.1f} {unit(basis)} a week"
    if factor is Factor.FINISHED:
        finished = sum(a.done for a in after) - sum(b.done for b in before)
        elapsed = (max(a.as_of for a in after) - min(b.as_of for b in before)).days
        return f"{amount(max(finished, 0.0), basis)} finished in {elapsed} day(s)"
    if factor is Factor.DEPENDENCIES:
        return "dependency chains changed"
    targets = [(b.target, a.target) for b, a in pairs if b.target != a.target]
    if len(targets) == 1:
        old, new = targets[0]
        return f"target moved from {day(old)} to {day(new)}"
    return f"{len(targets)} targets moved"


def probability_text(movement: Movement) -> str:
    """How P(on time) moved, and by what ("" without a probability on both sides)."""
    if movement.probability is None:
        return ""
    parts = [
        f"{s.text} ({_points(s.probability)})"
        for s in movement.shares
        if s.probability is not None and abs(s.probability) >= 0.005
    ]
    head = f"P(on time) moved {_points(movement.probability)}"
    return f"{head}: {', '.join(parts)}" if parts else head


def _points(change: float) -> str:
    return ("+" if change >= 0 else "−") + percent(abs(change)).replace(" %", " pts")
