"""Goals above programs: how each stands, rolled up from the programs and outcomes that
contribute to it, with the same mechanics as a program.

- **Progress** is the contributors' own progress weighted by their contribution: a
  goal's contributors may count items or points, so their amounts cannot be added; their
  shares done can. It says so ("56 % done, weighted across 3 contributors").
- **Forecast and confidence**: every open outcome behind the goal is forecast again from
  the inputs its program's last roll-up kept (``rollup.inputs``), by the same pace model
  (``rollup.forecast``); in each trial the goal is done when its last outcome is, and on
  time when that is by the end of the goal's period. The confidence is that share of
  trials, with its sampling error; P50/P85/P95 are the goal's dates.
- **Colour**: the forecast's verdict against ``green_at``/``amber_at`` (held against
  flicker as a program's is), pushed towards red by contributors that are amber or red
  (a goal is never better than its worst contributor) and towards amber by outcomes whose
  own target lies after the goal's period (``rollup.rag``).
- **Key results** measure the goal on these figures (``Metric``).

Reasons name the contributors behind them in their ``items``, as ``(program, outcome)``
pairs (``outcome`` empty for a whole program), so every figure leads to its contributors.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import numpy as np

from rollup import forecast as fc
from rollup.figures import day, percent
from rollup.forecast import ForecastBasis, Percentile
from rollup.hysteresis import Verdict
from rollup.inputs import Inputs
from rollup.model import Color, ForecastOptions, RagPolicy
from rollup.pace import FloatArray
from rollup.rag import Rag, Reason, Signals, judge

TRIALS = 10_000
"""Trials of a goal's forecast (the P(on time) sampling error is at most half a point)."""
NOT_COMPUTED = "not_computed"
"""The forecast basis of an outcome whose program has not been rolled up yet."""


class Metric(StrEnum):
    PERCENT_DONE = "percent_done"
    ITEMS_DONE = "items_done"
    OUTCOMES_DONE = "outcomes_done"
    ON_TIME = "on_time"


@dataclass(frozen=True, slots=True)
class OutcomeState:
    """One outcome as its program's last roll-up left it."""

    program: str
    key: str
    name: str
    target: date | None
    color: Color
    percent: float
    """Done over total on the outcome's basis, 0–100."""
    done_count: int
    scope_count: int
    forecast: str
    """Its forecast's basis (``rollup.forecast.ForecastBasis``), or ``not_computed``."""
    p50: date | None = None
    p85: date | None = None
    probability: float | None = None
    finished_on: date | None = None
    inputs: Inputs | None = None
    """What its forecast was computed from (None: nothing kept)."""
    options: ForecastOptions = field(default_factory=ForecastOptions)

    @property
    def ref(self) -> str:
        return f"{self.program}/{self.key}"

    @property
    def done(self) -> bool:
        return self.forecast == ForecastBasis.DONE

    @property
    def has_work(self) -> bool:
        return self.scope_count > 0 and self.forecast != ForecastBasis.NO_WORK


@dataclass(frozen=True, slots=True)
class ProgramState:
    """A program as its last roll-up left it, with its outcomes."""

    key: str
    name: str
    owner: str | None
    color: Color
    percent: float
    done_count: int
    scope_count: int
    target: date | None
    forecast: str
    p50: date | None
    p85: date | None
    probability: float | None
    outcomes: tuple[OutcomeState, ...]
    as_of: date | None = None

    def outcome(self, key: str) -> OutcomeState | None:
        return next((o for o in self.outcomes if o.key == key), None)


@dataclass(frozen=True, slots=True)
class Contribution:
    """A program (all its outcomes) or one of its outcomes, with its weight in the goal."""

    program: str
    outcome: str | None = None
    weight: float = 1.0

    @property
    def ref(self) -> str:
        return f"{self.program}/{self.outcome}" if self.outcome else self.program


@dataclass(frozen=True, slots=True)
class KeyResult:
    key: str
    name: str
    metric: Metric
    target: float
    contributors: tuple[str, ...] = ()
    """Refs among the goal's contributors (empty: all of them)."""


@dataclass(frozen=True, slots=True)
class Goal:
    key: str
    name: str
    owner: str
    start: date
    end: date
    label: str
    contributions: tuple[Contribution, ...] = ()
    key_results: tuple[KeyResult, ...] = ()
    policy: RagPolicy = field(default_factory=RagPolicy)


@dataclass(frozen=True, slots=True)
class Contributor:
    """One contributor of a goal, with the figures it brings."""

    ref: str
    program: str
    outcome: str | None
    name: str
    weight: float
    share: float
    """Its weight over the goal's total weight."""
    color: Color
    percent: float
    done_count: int
    scope_count: int
    target: date | None
    forecast: str
    p50: date | None
    p85: date | None
    probability: float | None
    computed: bool
    """False when its program (or outcome) has no roll-up to read yet."""
    outcomes: tuple[OutcomeState, ...]
    """The outcomes it stands for: one, or a program's all."""


@dataclass(frozen=True, slots=True)
class GoalForecast:
    basis: str
    """A ``ForecastBasis`` value."""
    p50: Percentile | None = None
    p85: Percentile | None = None
    p95: Percentile | None = None
    probability: float | None = None
    """The chance that every open outcome finishes by the end of the period."""
    error: float | None = None
    trials: int = 0
    covers: tuple[str, ...] = ()
    """Outcomes (refs) the forecast runs."""
    left_out: tuple[tuple[str, str], ...] = ()
    """Outcomes left out, and why ("done", "no work", ...)."""
    deciding: tuple[tuple[str, float], ...] = ()
    """Outcomes by the share of trials in which they finished last, largest first."""
    text: str = ""


@dataclass(frozen=True, slots=True)
class KeyResultValue:
    result: KeyResult
    value: float | None
    met: bool | None
    text: str
    contributors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GoalRollup:
    goal: Goal
    as_of: date
    contributors: tuple[Contributor, ...]
    percent: float | None
    """Weighted progress, 0–100 (None: no contributor has work)."""
    progress_text: str
    forecast: GoalForecast
    rag: Rag
    key_results: tuple[KeyResultValue, ...]


@dataclass(frozen=True, slots=True)
class Standing:
    """How a goal or a program stood on a day: what its movement is measured between."""

    on: date
    color: Color
    percent: float | None = None
    p85: date | None = None
    probability: float | None = None
    verdict: Color | None = None
    """The forecast's verdict as shown that day (to hold the next day's against)."""
    verdict_raw: Color | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    since: date
    color_from: Color
    percent_from: float | None
    p85_from: date | None
    probability_from: float | None
    text: str


def contributors(goal: Goal, programs: Mapping[str, ProgramState]) -> tuple[Contributor, ...]:
    """The goal's contributors with their figures; an unknown or not yet computed one is
    grey, marked not computed, and has no outcomes to forecast."""
    total = sum(c.weight for c in goal.contributions) or 1.0
    found = []
    for c in goal.contributions:
        program = programs.get(c.program)
        outcome = program.outcome(c.outcome) if program and c.outcome else None
        share = round(c.weight / total, 4)
        if program is None or (c.outcome is not None and outcome is None):
            found.append(
                Contributor(
                    c.ref, c.program, c.outcome, c.ref, c.weight, share, Color.GREY, 0.0, 0, 0,
                    None, NOT_COMPUTED, None, None, None, False, (),
                )
            )  # fmt: skip
        elif outcome is not None:
            found.append(
                Contributor(
                    c.ref, c.program, c.outcome, f"{program.name} › {outcome.name}", c.weight,
                    share, outcome.color, outcome.percent, outcome.done_count,
                    outcome.scope_count, outcome.target, outcome.forecast, outcome.p50,
                    outcome.p85, outcome.probability, outcome.forecast != NOT_COMPUTED,
                    (outcome,),
                )
            )  # fmt: skip
        else:
            assert program is not None
            found.append(
                Contributor(
                    c.ref, c.program, None, program.name, c.weight, share, program.color,
                    program.percent, program.done_count, program.scope_count, program.target,
                    program.forecast, program.p50, program.p85, program.probability,
                    program.forecast != NOT_COMPUTED, program.outcomes,
                )
            )  # fmt: skip
    return tuple(found)


def weighted_percent(parts: Iterable[Contributor]) -> float | None:
    """Contributors' progress weighted by their contribution (those with work only)."""
    counted = [(c.weight, c.percent) for c in parts if c.scope_count > 0]
    weight = sum(w for w, _ in counted)
    if weight <= 0:
        return None
    return round(sum(w * p for w, p in counted) / weight, 1)


def _progress_text(value: float | None, parts: Sequence[Contributor]) -> str:
    counted = [c for c in parts if c.scope_count > 0]
    if value is None:
        return "no contributor has work yet"
    shown = percent(value / 100)
    if len(counted) == 1:
        return f"{shown} done ({counted[0].name})"
    return f"{shown} done, weighted across {len(counted)} contributors"


def _outcomes(parts: Iterable[Contributor]) -> list[OutcomeState]:
    """Each outcome behind the contributors once (a program and its outcome may both be)."""
    seen: dict[str, OutcomeState] = {}
    for part in parts:
        for outcome in part.outcomes:
            seen.setdefault(outcome.ref, outcome)
    return list(seen.values())


def _left_out_because(outcome: OutcomeState) -> str | None:
    if not outcome.has_work:
        return "no work"
    if outcome.done:
        return "done"
    if outcome.forecast == NOT_COMPUTED:
        return "not computed yet"
    if outcome.forecast == ForecastBasis.INSUFFICIENT_HISTORY or outcome.inputs is None:
        return "too little history"
    return None


def forecast(
    outcomes: Sequence[OutcomeState],
    *,
    as_of: date,
    end: date,
    seed: str,
    trials: int = TRIALS,
    runs: dict[str, FloatArray] | None = None,
) -> GoalForecast:
    """When the last of ``outcomes`` finishes, and the chance that it is by ``end``.

    Each open outcome is run again from its kept inputs on trials of its own (seeded by
    ``seed`` and the outcome, so adding a contributor changes nobody else's draws).
    ``runs`` keeps each outcome's trials for another forecast over some of the same
    outcomes with the same seed (a key result's), which then shares their draws.
    """
    with_work = [o for o in outcomes if o.has_work]
    open_ = [o for o in with_work if not o.done]
    reasons = {o.ref: _left_out_because(o) for o in outcomes}
    left_out = tuple((o.ref, r) for o in outcomes if (r := reasons[o.ref]) is not None)
    by = day(end)
    if not with_work:
        return GoalForecast(
            ForecastBasis.NO_WORK, left_out=left_out, text="no contributor has work yet"
        )
    finished = [o.finished_on for o in with_work if o.done and o.finished_on is not None]
    late_done = [o for o in with_work if o.done and o.finished_on and o.finished_on > end]
    if not open_:
        last = max(finished, default=None)
        when = Percentile(last, 0.0)
        on_time = last is None or last <= end
        text = f"all work is done (finished {day(last)}), " + (
            "within the period" if on_time else f"after the period ended {by}"
        )
        return GoalForecast(
            ForecastBasis.DONE, when, when, when, 1.0 if on_time else 0.0, 0.0,
            left_out=left_out, text=text,
        )  # fmt: skip
    short = [o for o in open_ if reasons[o.ref] is not None]
    if short:
        names = ", ".join(f"{o.name} ({reasons[o.ref]})" for o in short)
        return GoalForecast(
            ForecastBasis.INSUFFICIENT_HISTORY,
            left_out=left_out,
            text=f"no forecast until every open outcome has one: {names}",
        )
    kept = {} if runs is None else runs
    for o in open_:
        if o.ref not in kept:
            kept[o.ref] = _trial_days(o, as_of=as_of, seed=seed, trials=trials)
    stacked = np.vstack([kept[o.ref] for o in open_])
    days = stacked.max(axis=0)
    met = days <= (end - as_of).days
    p = 0.0 if late_done else float(met.mean())
    error = float(np.sqrt(p * (1 - p) / trials))
    decided = np.bincount(stacked.argmax(axis=0), minlength=len(open_)) / trials
    deciding = tuple(
        sorted(
            ((o.ref, round(float(s), 4)) for o, s in zip(open_, decided, strict=True) if s > 0),
            key=lambda pair: (-pair[1], pair[0]),
        )
    )
    p50, p85, p95 = (fc.percentile(days, q, as_of=as_of) for q in fc.PERCENTILES)
    if late_done:
        text = f"0 % likely: {late_done[0].name} finished after the period ended {by}"
    elif len(open_) == 1:
        text = f"{percent(p)} likely that {open_[0].name} finishes by the end of the period ({by})"
    else:
        text = (
            f"{percent(p)} likely that all {len(open_)} open outcomes finish by the end of "
            f"the period ({by})"
        )
    return GoalForecast(
        ForecastBasis.MONTE_CARLO,
        p50,
        p85,
        p95,
        round(p, 4),
        round(error, 4),
        trials,
        tuple(o.ref for o in open_),
        left_out,
        deciding,
        text,
    )


def _trial_days(outcome: OutcomeState, *, as_of: date, seed: str, trials: int) -> FloatArray:
    """Days after ``as_of`` each trial of one outcome finishes."""
    assert outcome.inputs is not None
    draws = fc.Draws.of(random.Random(f"{seed}:{outcome.ref}").getrandbits(64), trials)  # noqa: S311
    days = fc.trial_days(outcome.inputs, draws, outcome.options)
    # Programs are rolled up on their own days; count every outcome from the goal's.
    return np.maximum(days + (outcome.inputs.as_of - as_of).days, 0.0)


def _reasons(
    goal: Goal, parts: Sequence[Contributor], outcomes: Sequence[OutcomeState]
) -> tuple[Reason, ...]:
    found = []
    for part in parts:
        subject = ((part.program, part.outcome or ""),)
        if not part.computed:
            found.append(
                Reason("not_computed", f"{part.name} has no roll-up yet", subject, Color.GREY)
            )
        elif part.color.rank >= Color.AMBER.rank:
            found.append(Reason("contributor", f"{part.name} is {part.color}", subject, part.color))
    for outcome in outcomes:
        if outcome.has_work and not outcome.done and outcome.target and outcome.target > goal.end:
            found.append(
                Reason(
                    "target_after_period",
                    f"{outcome.name} ({outcome.program}) targets {day(outcome.target)}, after "
                    f"the goal's period ends {day(goal.end)}",
                    ((outcome.program, outcome.key),),
                    Color.AMBER,
                )
            )
    return tuple(found)


def _key_result(
    result: KeyResult,
    parts: Sequence[Contributor],
    *,
    goal: Goal,
    as_of: date,
    trials: int,
    runs: dict[str, FloatArray],
) -> KeyResultValue:
    chosen = [
        p
        for p in parts
        if not result.contributors
        or p.ref in result.contributors
        or p.program in result.contributors
    ]
    refs = tuple(p.ref for p in chosen)
    target = result.target
    if result.metric is Metric.PERCENT_DONE:
        value = weighted_percent(chosen)
        text = f"{_pct(value)} done, against a target of {_pct(target)}"
    elif result.metric is Metric.ITEMS_DONE:
        whole = {p.program for p in chosen if p.outcome is None}
        value = float(
            sum(p.done_count for p in chosen if p.outcome is None or p.program not in whole)
        )
        text = f"{value:.0f} items done, against a target of {target:.0f}"
    elif result.metric is Metric.OUTCOMES_DONE:
        outcomes = [o for o in _outcomes(chosen) if o.has_work]
        value = float(sum(1 for o in outcomes if o.done))
        text = f"{value:.0f} of {len(outcomes)} outcomes done, against a target of {target:.0f}"
    else:
        found = forecast(
            _outcomes(chosen), as_of=as_of, end=goal.end, seed=goal.key, trials=trials, runs=runs
        )
        value = None if found.probability is None else round(100 * found.probability, 1)
        text = (
            f"{_pct(value)} likely by {day(goal.end)}, against a target of {_pct(target)}"
            if value is not None
            else found.text
        )
    met = None if value is None else value >= target
    return KeyResultValue(result, value, met, text, refs)


def _pct(value: float | None) -> str:
    return percent(None if value is None else value / 100)


def roll_up(
    goal: Goal,
    programs: Mapping[str, ProgramState],
    *,
    as_of: date,
    previous: Verdict | None = None,
    trials: int = TRIALS,
) -> GoalRollup:
    """How one goal stands as of a day, from its contributors' last roll-ups.

    ``previous`` is the verdict the goal showed on its last day before (hysteresis).
    """
    parts = contributors(goal, programs)
    outcomes = _outcomes(parts)
    value = weighted_percent(parts)
    runs: dict[str, FloatArray] = {}
    found = forecast(outcomes, as_of=as_of, end=goal.end, seed=goal.key, trials=trials, runs=runs)
    done = found.basis == ForecastBasis.DONE
    signals = Signals(
        has_work=any(o.has_work for o in outcomes),
        done=done,
        finished_on=found.p50.on if done and found.p50 else None,
        probability_on_time=found.probability,
        on_time=found.text,
        target=goal.end,
        p85=found.p85.on if found.p85 else None,
        no_forecast_because=found.text if found.probability is None else "",
        previous=previous,
        extra=_reasons(goal, parts, outcomes),
    )
    if not goal.contributions:
        signals = Signals(has_work=False, no_forecast_because="nothing contributes to it yet")
    rag = judge(signals, goal.policy)
    return GoalRollup(
        goal=goal,
        as_of=as_of,
        contributors=parts,
        percent=value,
        progress_text=_progress_text(value, parts),
        forecast=found,
        rag=rag,
        key_results=tuple(
            _key_result(r, parts, goal=goal, as_of=as_of, trials=trials, runs=runs)
            for r in goal.key_results
        ),
    )


def standing(rollup: GoalRollup) -> Standing:
    """What a day's snapshot keeps of a goal."""
    verdict = rollup.rag.verdict
    return Standing(
        on=rollup.as_of,
        color=rollup.rag.color,
        percent=rollup.percent,
        p85=rollup.forecast.p85.on if rollup.forecast.p85 else None,
        probability=rollup.forecast.probability,
        verdict=verdict.shown if verdict else None,
        verdict_raw=verdict.raw if verdict else None,
    )


def movement(now: Standing, then: Standing | None) -> Movement | None:
    """What moved since ``then`` (a week back, usually), in words; None without a then."""
    if then is None or then.on >= now.on:
        return None
    parts = []
    if now.color is not then.color:
        parts.append(f"{then.color} → {now.color}")
    if now.p85 is not None and then.p85 is not None and now.p85 != then.p85:
        shift = (now.p85 - then.p85).days
        parts.append(f"P85 {'+' if shift > 0 else '−'}{abs(shift)} d ({day(now.p85)})")
    elif now.p85 != then.p85:
        parts.append(f"P85 {day(then.p85)} → {day(now.p85)}")
    if now.percent is not None and then.percent is not None:
        gained = now.percent - then.percent
        if abs(gained) >= 0.5:
            parts.append(f"{'+' if gained > 0 else '−'}{abs(gained):.0f} pts done")
    if now.probability is not None and then.probability is not None:
        moved = now.probability - then.probability
        if abs(moved) >= 0.005:
            parts.append(
                f"chance {'+' if moved > 0 else '−'}{percent(abs(moved)).replace(' %', ' pts')}"
            )
    text = f"since {day(then.on)}: " + (", ".join(parts) if parts else "no change")
    return Movement(then.on, then.color, then.percent, then.p85, then.probability, text)
