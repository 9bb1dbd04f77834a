"""What who carries the work does to the dates: each outcome's forecast run per team.

A team has one pace for the whole program, and its remaining work in every outcome
draws on it. Each capacity pool — a team, the people in no configured team, and the
work nobody is assigned — gets a pace posterior from *its own* finished work across the
program (``rollup.pace``); unassigned work is paced by the work that was finished while
unassigned, never by the whole outcome's pace.

How a pool divides itself between outcomes: in proportion to where its recent work went
(its completions per outcome in the window, plus one item's worth spread by what is
left, so an outcome it never touched still moves), and when its share of one outcome is
done that capacity flows to the rest (generalised processor sharing). Each trial draws
the pool's pace, and every outcome's share finishes at its place in that schedule. An
outcome is done when its last share is; the share that finishes last in most trials
decides its date.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, tzinfo
from typing import Literal

import numpy as np

from rollup import forecast as fc
from rollup.history import History, day_start, weekly_history
from rollup.inputs import Inputs
from rollup.model import ForecastOptions, ItemRef, ProgressBasis, WorkItem
from rollup.pace import FloatArray, Pace
from rollup.people import Directory, Person
from rollup.status import ProgramRollup

TEAM_TRIALS = 2_000
"""Trials per pool: enough to tell which share decides (its sampling error is a few
points), and a program has a pool per team."""

UNASSIGNED, NO_TEAM = "unassigned", "no-team"
"""Pool keys for work nobody is assigned, and for people in no configured team (team
keys are slugs, so neither can clash with one that is not meant)."""


ShareBasis = Literal["monte_carlo", "insufficient_history", "done"]
TeamBasis = Literal["monte_carlo", "partial", "insufficient_history", "done", "no_work"]


@dataclass(frozen=True, slots=True)
class TeamShare:
    """One pool's share of an outcome's remaining work, on the pool's shared pace."""

    key: str
    """A team key, ``no-team`` (assigned people in no team) or ``unassigned``."""
    name: str
    remaining: int
    completed: int
    """Items the pool finished in the history window, across the program: its pace."""
    basis: ShareBasis
    p50: date | None = None
    p85: date | None = None
    decides: float | None = None
    """Share of trials in which this share finished last, so decided the date."""
    capacity: float | None = None
    """The share of the pool's capacity this outcome gets at first (from its mix)."""


@dataclass(frozen=True, slots=True)
class TeamForecast:
    outcome: str
    basis: TeamBasis
    shares: tuple[TeamShare, ...]
    p50: date | None = None
    p85: date | None = None
    probability_on_time: float | None = None
    deciding: str | None = None
    """The share that decides the date in most trials."""


@dataclass(frozen=True, slots=True)
class _Pool:
    key: str
    work: Mapping[str, float]
    """Remaining work per outcome, in the basis's unit."""
    counts: Mapping[str, int]
    history: History
    mix: Mapping[str, float]
    """Completions per outcome in the window."""


def _pool_of(item: WorkItem, directory: Directory) -> str:
    person: Person | None = directory.person_of(item)
    if person is None:
        return UNASSIGNED
    return person.team or NO_TEAM


def team_forecasts(
    rollup: ProgramRollup,
    directory: Directory,
    team_names: Mapping[str, str],
    *,
    zone: tzinfo,
    rng: random.Random,
) -> tuple[TeamForecast, ...]:
    """Every outcome's forecast per pool, the pools' capacity shared across outcomes."""
    names = {**team_names, NO_TEAM: "People in no team", UNASSIGNED: "Unassigned work"}
    options = rollup.program.policy.forecast
    pools = _pools(rollup, lambda i: _pool_of(i, directory), zone=zone, options=options)
    seed = rng.getrandbits(64)
    finishes = {
        p.key: _schedule(p, rollup.as_of, options, random.Random(f"{seed}:{p.key}"))  # noqa: S311
        for p in pools
    }
    by_key = {p.key: p for p in pools}
    return tuple(
        _combine(part.outcome.key, part.outcome.target, by_key, finishes, names, as_of=rollup.as_of)
        if part.progress.contributors
        else TeamForecast(part.outcome.key, "no_work", ())
        for part in rollup.outcomes
    )


def _pools(
    rollup: ProgramRollup,
    pool_of: Callable[[WorkItem], str],
    *,
    zone: tzinfo,
    options: ForecastOptions,
) -> list[_Pool]:
    """Each pool's remaining work per outcome, its history across the program and mix."""
    by_estimate = rollup.program.basis is ProgressBasis.ESTIMATE
    work: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    units: dict[str, dict[ItemRef, WorkItem]] = defaultdict(dict)
    sizes: dict[ItemRef, float] = {}
    finished_in: dict[ItemRef, list[str]] = defaultdict(list)
    for part in rollup.outcomes:
        key = part.outcome.key
        for c in part.progress.contributors:
            pool = pool_of(c.item)
            units[pool][c.item.ref] = c.item
            sizes[c.item.ref] = c.estimate if by_estimate else 1.0
            if c.item.done:
                finished_in[c.item.ref].append(key)
            else:
                work[pool][key] += sizes[c.item.ref]
                counts[pool][key] += 1
            work[pool].setdefault(key, 0.0)
    found = []
    for pool in sorted(units):
        items = list(units[pool].values())
        history = weekly_history(
            items,
            as_of=rollup.as_of,
            zone=zone,
            weeks=options.history_weeks,
            sizes=sizes if by_estimate else None,
        )
        mix: dict[str, float] = defaultdict(float)
        start = day_start(history.starts[0], zone) if history.starts else None
        for item in items:
            if item.completed_at is not None and start is not None and item.completed_at >= start:
                for key in finished_in[item.ref]:
                    mix[key] += sizes[item.ref]
        found.append(_Pool(pool, dict(work[pool]), dict(counts[pool]), history, dict(mix)))
    return found


def capacity_weights(work: Mapping[str, float], mix: Mapping[str, float]) -> dict[str, float]:
    """How a pool first divides its pace between the outcomes it has work left in: its
    recent mix, plus one item's worth spread by what is left (shares summing to 1)."""
    total = sum(w for w in work.values() if w > 0)
    raw = {k: mix.get(k, 0.0) + w / total for k, w in work.items() if w > 0}
    norm = sum(raw.values())
    return {k: v / norm for k, v in raw.items()} if norm else {}


def share_schedule(work: Mapping[str, float], mix: Mapping[str, float]) -> dict[str, float]:
    """Generalised processor sharing at unit pace: the pool's cumulative work done when
    each outcome's share finishes; a finished share's capacity flows to the rest."""
    weight = capacity_weights(work, mix)
    left = {k: w for k, w in work.items() if w > 0}
    done_at: dict[str, float] = {k: 0.0 for k, w in work.items() if w <= 0}
    clock = 0.0
    while left:
        weights = sum(weight[k] for k in left)
        # The share that finishes first at the current division of the pace.
        first = min(left, key=lambda k: (left[k] * weights / weight[k], k))
        step = left[first] * weights / weight[first]
        clock += step
        for k in list(left):
            left[k] -= step * weight[k] / weights
        done_at[first] = clock
        del left[first]
    return done_at


def _schedule(
    pool: _Pool, as_of: date, options: ForecastOptions, rng: random.Random
) -> tuple[ShareBasis, dict[str, FloatArray], Pace | None]:
    """Per outcome, when the pool's share of it finishes in each trial (days)."""
    total = sum(pool.work.values())
    if total <= 0:
        return "done", {}, None
    if not fc.sufficient(pool.history, options):
        return "insufficient_history", {}, None
    inputs = Inputs(as_of=as_of, target=None, scope=total, done=0.0, history=pool.history)
    trials = min(options.trials, TEAM_TRIALS)
    draws = fc.Draws.of(rng.getrandbits(64), trials)
    days, pace, _ = fc.pace_days(inputs, draws, replace(options, scope_growth=False))
    shares = share_schedule(pool.work, pool.mix)
    return "monte_carlo", {k: days * (c / total) for k, c in shares.items()}, pace


def _combine(
    outcome: str,
    target: date | None,
    pools: Mapping[str, _Pool],
    finishes: Mapping[str, tuple[ShareBasis, dict[str, FloatArray], Pace | None]],
    names: Mapping[str, str],
    *,
    as_of: date,
) -> TeamForecast:
    """The outcome ends when its last share does; which share that is, trial by trial."""
    shares: list[TeamShare] = []
    days: dict[str, FloatArray] = {}
    order = sorted(pools, key=lambda k: (k == UNASSIGNED, k == NO_TEAM, k))
    for key in order:
        pool = pools[key]
        if outcome not in pool.work:
            continue
        basis, finish, _ = finishes[key]
        remaining = pool.counts.get(outcome, 0)
        completed = pool.history.completed
        name = names.get(key, key)
        if remaining == 0 or pool.work[outcome] <= 0:
            shares.append(TeamShare(key, name, 0, completed, "done"))
            continue
        if basis != "monte_carlo":
            shares.append(TeamShare(key, name, remaining, completed, "insufficient_history"))
            continue
        days[key] = finish[outcome]
        capacity = round(capacity_weights(pool.work, pool.mix)[outcome], 4)
        p50, p85 = (fc.percentile(days[key], q, as_of=as_of).on for q in (0.5, 0.85))
        shares.append(
            TeamShare(key, name, remaining, completed, "monte_carlo", p50, p85, capacity=capacity)
        )
    short = any(s.basis == "insufficient_history" for s in shares)
    if not days:
        return TeamForecast(outcome, "insufficient_history" if short else "done", tuple(shares))
    keys = list(days)
    stacked = np.vstack([days[k] for k in keys])
    finish = stacked.max(axis=0)
    last = stacked.argmax(axis=0)
    decides = {k: round(float(np.mean(last == i)), 4) for i, k in enumerate(keys)}
    shares = [replace(s, decides=decides[s.key]) if s.key in decides else s for s in shares]
    probability = None if target is None else round(fc.on_time(finish, target, as_of=as_of)[0], 4)
    return TeamForecast(
        outcome,
        "partial" if short else "monte_carlo",
        tuple(shares),
        p50=fc.percentile(finish, 0.5, as_of=as_of).on,
        p85=fc.percentile(finish, 0.85, as_of=as_of).on,
        probability_on_time=probability,
        deciding=max(keys, key=lambda k: (decides[k], k)),
    )
