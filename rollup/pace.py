"""How fast work gets done, and how sure the data lets us be: the pace posterior.

The model is Gamma–Poisson. Work (items, or estimate points) finishes as a Poisson
process whose weekly rate λ nobody knows; what we know is a few weeks of completions,
each window observed for some share of a week (the oldest window starts when the work
first showed life, the newest ends now, today counted only as far as it has gone). The
posterior of λ is a Gamma in closed form, so each trial draws its own pace from it
before it draws how long the work takes at that pace.

Why not resample the observed weeks (a bootstrap, Bayesian or not)? Resampling takes the
handful of weeks seen for the whole truth: over four weeks the spread of their mean comes
out well under what the data allow, and a sparse history of zero weeks can never be
followed by anything else. The Gamma posterior is as wide as the evidence is thin (8
items leave about ±35 % on the pace, 100 items ±10 %), and a conjugate closed form keeps
every trial a smooth function of its random numbers (see ``gamma_variates``).

Four refinements keep it honest on real histories, each checked by the calibration
back-test (``tests/rollup/test_calibration_backtest.py``, ``python -m bench calibration``):

- **Dispersion.** Work finishes in lumps (release trains; points come in item-sized
  lumps), so weekly counts vary more than a Poisson process allows. The dispersion φ —
  Pearson's χ² of the windows per degree of freedom, pulled a little towards the floor
  the unit implies (1 for items; Σs²/Σs of the item sizes for points) — scales the
  evidence down (φ units count as one observation) and widens the time to finish.
- **Change.** A pace may have changed at any week boundary in the window. Each place,
  and no change at all, is weighed by its marginal likelihood (which charges an extra
  rate its due), and the current pace is the mixture of what each says about the weeks
  since. A change must have lasted two windows and enough time to expect a few items.
- **Recency.** Within the weeks that count, each week back weighs ``DISCOUNT`` as much
  as the week after it, and the posterior is only as sure as the effective number of
  observations a weighted mean has (Kish's (Σw·y)²/Σw²·y).
- **Drift.** Over the weeks ahead the pace wanders further: a random walk of ``DRIFT``
  a week, so long forecasts are wider than short ones at the same pace.

The constants below were set with that back-test, on the simulated histories described in
``bench/histories.py``; a change to any of them should be judged by it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

PRIOR_SHAPE = 0.5
"""Half an observation's worth of prior belief in the pace."""

PRIOR_CENTRE = 2.0
"""Where that half observation sits, against the observed pace: at twice it. With few
items a posterior centred on the observed pace forecasts late more often than early (the
spread of 1/λ is skewed); half an observation at twice the pace evens that out, and the
calibration back-test is what chose it."""

NO_CHANGE = 0.5
"""Prior belief that the pace has not changed within the window; the rest is spread
evenly over the week boundaries where it may have."""

LATEST_SEGMENT = 2
"""Windows a changed pace must have lasted to be told from a quiet week..."""

SEGMENT_WORK = 6.0
"""...and the work the whole window's pace would have finished in them (observations)."""

DISCOUNT = 0.8
"""Weight of each week relative to the week after it, within the weeks that count."""

DRIFT = 0.02
"""How far the pace wanders each week ahead (standard deviation of its logarithm)."""

DISPERSION_PRIOR = 0.5
"""Degrees of freedom of belief that work is no lumpier than its unit implies."""

DISPERSION_LOW = 0.7
"""Work may finish more evenly than a Poisson process, but not much more."""


@dataclass(frozen=True, slots=True)
class Pace:
    """The posterior of a weekly rate: a mixture of Gamma components, one per place the
    pace may have changed (the first: no change), and the process's dispersion."""

    components: tuple[tuple[float, float, float], ...]
    """(weight, shape, mean pace per week) per component; weights sum to 1."""
    dispersion: float
    observed: float
    """Work finished in the windows, in the unit of the pace."""
    exposure: float
    """Weeks observed."""

    @property
    def mean(self) -> float:
        """The posterior mean pace per week."""
        return sum(w * m for w, _, m in self.components)

    @property
    def observed_rate(self) -> float:
        """What was finished per week observed, without prior or weighting."""
        return self.observed / self.exposure if self.exposure > 0 else 0.0

    @property
    def changed(self) -> float:
        """The posterior probability that the pace changed within the window."""
        return 1.0 - self.components[0][0] if self.components else 0.0

    def draw(self, normal: FloatArray, uniform: FloatArray, choice: FloatArray) -> FloatArray:
        """A pace per trial, a smooth function of the trial's random numbers (``choice``
        picks the component)."""
        weights = np.array([w for w, _, _ in self.components])
        shapes = np.array([a for _, a, _ in self.components])
        means = np.array([m for _, _, m in self.components])
        if not weights.size or not np.all(means > 0):
            return np.zeros_like(normal)
        picked = np.minimum(np.searchsorted(np.cumsum(weights), choice), weights.size - 1)
        drawn = gamma_variates(shapes[picked], normal, uniform) * means[picked] / shapes[picked]
        return np.asarray(drawn, dtype=np.float64)


def estimate(sizes: Sequence[float], exposure: Sequence[float], *, floor: float = 1.0) -> Pace:
    """The pace posterior from the work finished per window and the weeks each covers.

    Windows are oldest first; ``floor`` is the least dispersion the unit implies.
    """
    observed, exposed = float(sum(sizes)), float(sum(exposure))
    n = len(sizes)
    phi = _shrunk(dispersion(sizes, exposure), floor, n)
    # Work in observations: φ units of work are one.
    ys = [y / phi for y in sizes]
    es = [e / phi for e in exposure]
    total, weeks = observed / phi, exposed / phi
    if total <= 0 or weeks <= 0:
        return Pace(((1.0, PRIOR_SHAPE, 0.0),), phi, observed, exposed)
    a0, b0 = PRIOR_SHAPE, PRIOR_SHAPE / PRIOR_CENTRE * weeks / total
    # The weeks since each boundary: discounted sums for the pace, and Kish's effective
    # number of observations for its certainty.
    tail_y, tail_e, tail_y2 = [0.0] * (n + 1), [0.0] * (n + 1), [0.0] * (n + 1)
    for k in range(n - 1, -1, -1):
        weight = DISCOUNT ** (n - 1 - k)
        tail_y[k] = tail_y[k + 1] + weight * ys[k]
        tail_e[k] = tail_e[k + 1] + weight * es[k]
        tail_y2[k] = tail_y2[k + 1] + weight * weight * ys[k]

    def since(c: int) -> tuple[float, float]:
        effective = tail_y[c] ** 2 / tail_y2[c] if tail_y2[c] > 0 else 0.0
        return a0 + effective, (a0 + tail_y[c]) / (b0 + tail_e[c])

    latest = max(LATEST_SEGMENT, math.ceil(SEGMENT_WORK * n / total))
    places = n - latest
    # The evidence for each history uses the plain counts, with a prior worth half an
    # observation at the overall pace.
    p0, q0 = PRIOR_SHAPE, PRIOR_SHAPE * weeks / total
    found = [(math.log(NO_CHANGE if places > 0 else 1.0) + _evidence(total, weeks, p0, q0), 0)]
    before_y = before_e = 0.0
    for c in range(1, places + 1):
        before_y, before_e = before_y + ys[c - 1], before_e + es[c - 1]
        log_weight = (
            math.log((1 - NO_CHANGE) / places)
            + _evidence(before_y, before_e, p0, q0)
            + _evidence(total - before_y, weeks - before_e, p0, q0)
        )
        found.append((log_weight, c))
    top = max(w for w, _ in found)
    weights = [math.exp(w - top) for w, _ in found]
    norm = sum(weights)
    return Pace(
        tuple((w / norm, *since(c)) for w, (_, c) in zip(weights, found, strict=True)),
        phi,
        observed,
        exposed,
    )


def _evidence(y: float, e: float, a0: float, b0: float) -> float:
    """Log marginal likelihood of a segment under a Gamma(a0, b0) prior, leaving out the
    terms every segmentation shares."""
    return a0 * math.log(b0) - math.lgamma(a0) + math.lgamma(a0 + y) - (a0 + y) * math.log(b0 + e)


def _shrunk(found: float, floor: float, windows: int) -> float:
    df = max(0, windows - 1)
    if found <= 0 or df == 0:
        return floor
    pulled = (DISPERSION_PRIOR * floor + df * found) / (DISPERSION_PRIOR + df)
    return max(DISPERSION_LOW * floor, pulled)


def dispersion(sizes: Sequence[float], exposure: Sequence[float]) -> float:
    """Pearson's χ² per degree of freedom of the windows against one constant rate
    (about 1 for a Poisson process; 0 when it cannot be told)."""
    total, exposed = sum(sizes), sum(exposure)
    cells = [(y, e) for y, e in zip(sizes, exposure, strict=True) if e > 0]
    if len(cells) < 2 or total <= 0 or exposed <= 0:
        return 0.0
    rate = total / exposed
    chi2 = sum((y - rate * e) ** 2 / (rate * e) for y, e in cells)
    return chi2 / (len(cells) - 1)


def size_dispersion(sizes: Sequence[float]) -> float:
    """The least dispersion a total of lumps of these sizes has: Σs²/Σs (1 for items)."""
    total = sum(s for s in sizes if s > 0)
    return max(1.0, sum(s * s for s in sizes if s > 0) / total) if total > 0 else 1.0


def gamma_variates(shape: FloatArray, normal: FloatArray, uniform: FloatArray) -> FloatArray:
    """Gamma(shape, 1) variates as a smooth, increasing function of the trial's numbers.

    Gamma(k) = Gamma(k+1)·U^(1/k) exactly, and Gamma(k+1) comes from Wilson and
    Hilferty's cube-root transform of a standard normal (within a few per cent of the
    exact quantiles from shape 1 up). Both factors grow with k, so a trial's variate moves
    a little and the same way when its shape does, rather than the trials reshuffling:
    forecasts with one input changed stay comparable, trial by trial.
    """
    k = shape + 1.0
    c = 1.0 / (9.0 * k)
    x = k * np.maximum(1.0 - c + normal * np.sqrt(c), 0.0) ** 3
    with np.errstate(divide="ignore"):
        boost = uniform ** (1.0 / np.maximum(shape, 1e-12))
    return np.asarray(x * boost, dtype=np.float64)


def drift(pace: FloatArray, remaining: float, normal: FloatArray) -> FloatArray:
    """The average pace over the weeks ahead: today's, wandered by a random walk.

    A random walk of ``DRIFT`` a week, averaged over the H weeks the work takes, moves
    the log pace by DRIFT·√(H/3) (one standard deviation); the mean stays.
    """
    with np.errstate(divide="ignore"):
        horizon = np.minimum(remaining / np.maximum(pace, 1e-9), 520.0)
    spread = DRIFT * np.sqrt(horizon / 3.0)
    return np.asarray(pace * np.exp(spread * normal - spread * spread / 2.0), dtype=np.float64)


def finish_weeks(
    pace: FloatArray,
    remaining: float,
    *,
    dispersion: float,
    growth: FloatArray | None = None,
    growth_dispersion: float = 1.0,
    normal: FloatArray,
    uniform: FloatArray,
) -> FloatArray:
    """Weeks to finish ``remaining`` at each trial's pace, less its scope growth.

    Net progress is a process with drift ν = pace − growth and variance σ² = φ·pace +
    φ_g·growth a week; the time it first reaches ``remaining`` has mean R/ν and variance
    R·σ²/ν³ (Wald's first passage), drawn as the Gamma with those moments — exactly the
    Poisson process's when nothing grows. Where growth outruns the pace the work never
    finishes (``inf``).
    """
    if remaining <= 0:
        return np.zeros_like(pace)
    grows = growth if growth is not None else np.zeros_like(pace)
    net = pace - grows
    variance = dispersion * pace + growth_dispersion * grows
    moving = net > 0
    result = np.full_like(pace, math.inf)
    nu, s2 = net[moving], np.maximum(variance[moving], 1e-12)
    shape = remaining * nu / s2
    result[moving] = gamma_variates(shape, normal[moving], uniform[moving]) * s2 / (nu * nu)
    return result
