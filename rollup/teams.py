"""What who carries the work does to the dates: each outcome's forecast run per team.

Every team's share of an outcome's remaining work is simulated at that team's own weekly
throughput; in each trial the outcome is done when its last share is, and the share that
finishes last in most trials is the one that decides the date. Work nobody is assigned
runs at the whole outcome's pace (whoever picks it up), people in no configured team
share one pace between them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Literal

import numpy as np

from rollup import forecast as fc
from rollup.model import ForecastOptions, WorkItem
from rollup.people import Directory, Person
from rollup.status import ProgramRollup

TEAM_TRIALS = 2_000
"""Trials per share: enough to tell which share decides (its sampling error is a few
points), and a program has a share per team per outcome."""

UNASSIGNED, NO_TEAM = "unassigned", "no-team"
"""Share keys for work nobody is assigned, and for people in no configured team (team
keys are slugs, so neither can clash with one that is not meant)."""


ShareBasis = Literal["monte_carlo", "insufficient_history", "done"]
TeamBasis = Literal["monte_carlo", "partial", "insufficient_history", "done", "no_work"]


@dataclass(frozen=True, slots=True)
class TeamShare:
    """One team's share of an outcome's remaining work, at that team's own pace."""

    key: str
    """A team key, ``no-team`` (assigned people in no team) or ``unassigned``."""
    name: str
    remaining: int
    completed: int
    """Items the team finished in the history window: the pace its trials draw from."""
    basis: ShareBasis
    p50: date | None = None
    p85: date | None = None
    decides: float | None = None
    """Share of trials in which this share finished last, so decided the date."""


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


def _share_of(item: WorkItem, directory: Directory) -> str:
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
    """Each outcome's forecast run per team; each outcome draws from its own seed."""
    seed = rng.getrandbits(64)
    names = {**team_names, NO_TEAM: "People in no team", UNASSIGNED: "Unassigned work"}
    return tuple(
        _team_forecast(
            part.outcome.key,
            part.outcome.target,
            [c.item for c in part.progress.contributors],
            lambda i: _share_of(i, directory),
            names,
            as_of=rollup.as_of,
            zone=zone,
            options=rollup.program.policy.forecast,
            rng=random.Random(f"{seed}:{part.outcome.key}"),  # noqa: S311 (simulation)
        )
        for part in rollup.outcomes
    )


def _team_forecast(
    outcome: str,
    target: date | None,
    units: Sequence[WorkItem],
    share_of: Callable[[WorkItem], str],
    names: Mapping[str, str],
    *,
    as_of: date,
    zone: tzinfo,
    options: ForecastOptions,
    rng: random.Random,
) -> TeamForecast:
    """Every share at its own pace; unassigned work at the whole outcome's pace (whoever
    picks it up), since unassigned work has no finished history of its own."""
    if not units:
        return TeamForecast(outcome, "no_work", ())
    groups: dict[str, list[WorkItem]] = {}
    for item in units:
        groups.setdefault(share_of(item), []).append(item)
    generator = np.random.default_rng(rng.getrandbits(64))
    shares: list[TeamShare] = []
    days: dict[str, fc.FloatArray] = {}
    for key in sorted(groups, key=lambda k: (k == UNASSIGNED, k == NO_TEAM, k)):
        items = groups[key]
        remaining = sum(1 for i in items if not i.done)
        paced = units if key == UNASSIGNED else items
        history = fc.weekly_history(paced, as_of=as_of, zone=zone, weeks=options.history_weeks)
        name = names.get(key, key)
        if remaining == 0:
            shares.append(TeamShare(key, name, 0, history.completed, "done"))
            continue
        if (
            len(history.weeks) < options.min_history_weeks
            or history.completed < options.min_completed
        ):
            shares.append(
                TeamShare(key, name, remaining, history.completed, "insufficient_history")
            )
            continue
        days[key] = fc.capacity_days(
            history.weeks,
            remaining,
            trials=min(options.trials, TEAM_TRIALS),
            generator=generator,
            horizon_weeks=options.horizon_weeks,
        )
        p50, p85 = (fc.percentile(days[key], q, as_of=as_of).on for q in (0.5, 0.85))
        shares.append(TeamShare(key, name, remaining, history.completed, "monte_carlo", p50, p85))
    return _combine(outcome, target, shares, days, as_of=as_of)


def _combine(
    outcome: str,
    target: date | None,
    shares: list[TeamShare],
    days: Mapping[str, fc.FloatArray],
    *,
    as_of: date,
) -> TeamForecast:
    """The outcome ends when its last share does; which share that is, trial by trial."""
    short = any(s.basis == "insufficient_history" for s in shares)
    if not days:
        return TeamForecast(outcome, "insufficient_history" if short else "done", tuple(shares))
    keys = list(days)
    stacked = np.vstack([days[k] for k in keys])
    finish = stacked.max(axis=0)
    last = stacked.argmax(axis=0)
    decides = {k: round(float(np.mean(last == i)), 4) for i, k in enumerate(keys)}
    shares = [
        TeamShare(s.key, s.name, s.remaining, s.completed, s.basis, s.p50, s.p85, decides[s.key])
        if s.key in decides
        else s
        for s in shares
    ]
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
