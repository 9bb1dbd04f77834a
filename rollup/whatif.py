"""What-if scenarios: the program and its items as a change would leave them.

A scenario never runs a forecast of its own: ``apply`` edits the roll-up's inputs — the
program's outcomes and the items — and the caller runs the same ``rollup.status.evaluate``
on them, with the same seed, as the recomputation does. A what-if's answer is therefore
the forecast the edited program would get, to the trial.

- ``remove_keys`` defers work: each named item (an epic, a story) and everything under it
  leaves the program, except work already done, which stays as the history the pace rests
  on (and so do the containers above such work).
- ``add_items`` adds that many unstarted items, spread evenly over the outcomes (the first
  outcomes take the remainder), or as many as ``add_per_outcome`` names for each.
- ``pace_factor`` multiplies the pace every outcome's history shows; ``pace_factors``
  does so for single outcomes (over the program's).
- ``team_factors`` change one team's pace: an outcome's pace is what its teams finished
  in its history window (``TeamPace``), so a team's factor moves each outcome's pace by
  the team's share of that throughput — 2 for a team that did three quarters of an
  outcome's recent work makes it 1.75 times as fast, and leaves alone outcomes the team
  never touched.
- ``added_teams`` add capacity: a team *like* an existing one works where that team
  does, at a factor of its pace (its share of each outcome's throughput, once more, and
  as uncertain as the team's own); a team at a stated pace (items a week) adds that
  pace to every trial of the outcomes it works on, split in proportion to their work
  left.
- ``targets`` moves outcomes' target dates.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo

from rollup.forecast import Forecast, ForecastBasis
from rollup.graph import DependencyGraph
from rollup.history import day_start
from rollup.mapping import ItemIndex
from rollup.model import ItemRef, Program, ProgressBasis, Selector, WorkItem
from rollup.outcome import Figures, measure
from rollup.program_forecast import program_forecast
from rollup.scope import scope_program
from rollup.trend import Trend
from vocabulary import ItemKind, StatusCategory

ADDED_SOURCE = "what-if"
"""The source of the items a scenario adds (no tracker has it)."""


@dataclass(frozen=True, slots=True)
class AddedTeam:
    """A team a scenario adds: like an existing team (``like``, at ``factor`` of its pace),
    or at a stated ``pace`` in items a week on ``outcomes`` (all with work left if none)."""

    name: str
    like: str | None = None
    factor: float = 1.0
    pace: float | None = None
    outcomes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
    add_items: int = 0
    add_per_outcome: Mapping[str, int] = field(default_factory=dict)
    remove_keys: tuple[str, ...] = ()
    pace_factor: float = 1.0
    pace_factors: Mapping[str, float] = field(default_factory=dict)
    team_factors: Mapping[str, float] = field(default_factory=dict)
    added_teams: tuple[AddedTeam, ...] = ()
    targets: Mapping[str, date] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (
            self.add_items
            or any(self.add_per_outcome.values())
            or self.remove_keys
            or self.pace_factor != 1.0
            or self.pace_factors
            or self.team_factors
            or self.added_teams
            or self.targets
        )

    @property
    def by_team(self) -> bool:
        """Whether the scenario changes a team's pace (and so needs ``TeamPace``)."""
        return bool(self.team_factors or self.added_teams)


@dataclass(frozen=True, slots=True)
class TeamPace:
    """Who finished each outcome's recent work: the throughput a team's pace is.

    ``finished`` is, per outcome, the work each team finished in the outcome's history
    window (in the outcome's unit; work of people in no team, or of nobody, under
    ``None``); ``left`` the work left per outcome and ``unit`` the size of one item in
    the outcome's unit (1 when counting items, the mean estimate of its work in points).
    Only outcomes with a Monte Carlo forecast are here: the others have no pace to move.
    """

    finished: Mapping[str, Mapping[str | None, float]]
    left: Mapping[str, float]
    unit: Mapping[str, float]

    def share(self, outcome: str, team: str) -> float:
        """The team's share of what the outcome finished in its window (0 to 1)."""
        done = self.finished.get(outcome, {})
        total = sum(done.values())
        return done.get(team, 0.0) / total if total > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Forecasts:
    """A program's forecasts without the rest of its roll-up: what a what-if compares."""

    program: Program
    as_of: date
    forecast: Forecast
    outcomes: tuple[Figures, ...]


def forecasts(
    program: Program,
    index: ItemIndex,
    graph: DependencyGraph,
    trend: Trend,
    *,
    as_of: date,
    zone: tzinfo,
    rng: random.Random,
    now: datetime | None = None,
) -> Forecasts:
    """The program's and its outcomes' forecasts exactly as ``rollup.status.evaluate``
    makes them with the same arguments (the same generators, so the same trials), without
    the colours, risks and explanations a roll-up adds."""
    scope = scope_program(program, index, graph, trend, as_of=as_of, zone=zone, now=now)
    seed = rng.getrandbits(64)
    figures = tuple(
        measure(scope, o, random.Random(f"{seed}:{o.key}"))  # noqa: S311 (simulation)
        for o in program.outcomes
    )
    units = list(dict.fromkeys(c.item.ref for f in figures for c in f.progress.contributors))
    target = max((o.target for o in program.outcomes if o.target is not None), default=None)
    forecast, _ = program_forecast(scope, figures, scope.items(units), target)
    return Forecasts(program, as_of, forecast, figures)


def team_pace(
    found: Forecasts, team_of: Callable[[WorkItem], str | None], zone: tzinfo
) -> TeamPace:
    """Each outcome's recent throughput by team, from the program's forecasts."""
    finished: dict[str, dict[str | None, float]] = {}
    left: dict[str, float] = {}
    unit: dict[str, float] = {}
    for part in found.outcomes:
        forecast = part.forecast
        if forecast.basis is not ForecastBasis.MONTE_CARLO or forecast.inputs is None:
            continue
        key = part.outcome.key
        by_estimate = part.outcome.basis is ProgressBasis.ESTIMATE
        history = forecast.inputs.history
        start = day_start(history.starts[0], zone) if history.starts else None
        done: dict[str | None, float] = defaultdict(float)
        sizes = []
        for c in part.progress.contributors:
            size = c.size if by_estimate else 1.0
            sizes.append(size)
            at = c.item.completed_at
            if at is not None and start is not None and at >= start:
                done[team_of(c.item)] += size
        finished[key] = dict(done)
        left[key] = forecast.remaining
        unit[key] = sum(sizes) / len(sizes) if by_estimate and sizes else 1.0
    return TeamPace(finished, left, unit)


def outcome_paces(scenario: Scenario, teams: TeamPace | None) -> dict[str, tuple[float, float]]:
    """Per outcome, what its pace is multiplied by and what is added to it (work a week,
    in its unit) for the scenario's changes of teams."""
    if teams is None or not scenario.by_team:
        return {}
    found: dict[str, tuple[float, float]] = {}
    for key in teams.finished:
        factor = 1.0 + sum(
            teams.share(key, team) * (f - 1.0) for team, f in scenario.team_factors.items()
        )
        factor += sum(teams.share(key, t.like) * t.factor for t in scenario.added_teams if t.like)
        found[key] = (factor, 0.0)
    for team in scenario.added_teams:
        if team.pace is None:
            continue
        chosen = [k for k in (team.outcomes or tuple(teams.finished)) if teams.left.get(k, 0) > 0]
        total = sum(teams.left[k] for k in chosen)
        for key in chosen:
            factor, added = found[key]
            items = team.pace * teams.left[key] / total
            found[key] = (factor, added + items * teams.unit[key])
    return found


def added_per_outcome(program: Program, scenario: Scenario) -> dict[str, int]:
    """How many items the scenario adds to each outcome."""
    keys = [o.key for o in program.outcomes]
    found = dict.fromkeys(keys, 0)
    if keys and scenario.add_items > 0:
        share, rest = divmod(scenario.add_items, len(keys))
        for n, key in enumerate(keys):
            found[key] += share + (1 if n < rest else 0)
    for key, count in scenario.add_per_outcome.items():
        if key in found:
            found[key] += max(0, count)
    return found


def removed(items: Sequence[WorkItem], keys: Sequence[str]) -> set[ItemRef]:
    """The named items and everything under them, less done work and what holds it."""
    children: dict[ItemRef, list[WorkItem]] = defaultdict(list)
    for item in items:
        if item.parent_ref is not None:
            children[item.parent_ref].append(item)
    wanted = set(keys)
    found: set[ItemRef] = set()

    def visit(item: WorkItem) -> bool:
        """Remove ``item``'s open subtree; whether ``item`` itself went."""
        kept_below = False
        for child in children.get(item.ref, ()):
            if not visit(child):
                kept_below = True
        if item.done or kept_below:
            return False
        found.add(item.ref)
        return True

    for item in items:
        if item.key in wanted and item.ref not in found:
            visit(item)
    return found


def added_items(program: Program, counts: Mapping[str, int], now: datetime) -> list[WorkItem]:
    """Unstarted stand-ins for the scope a scenario adds."""
    return [
        WorkItem(
            source=ADDED_SOURCE,
            key=f"{key}+{n}",
            title=f"Added scope {n} of {count} ({key})",
            kind=ItemKind.STORY,
            status="To Do",
            status_category=StatusCategory.TODO,
            updated_at=now,
            created_at=now,
        )
        for key, count in counts.items()
        for n in range(1, count + 1)
    ]


def apply(
    program: Program,
    items: Sequence[WorkItem],
    scenario: Scenario,
    *,
    now: datetime,
    teams: TeamPace | None = None,
) -> tuple[Program, list[WorkItem]]:
    """The program and the items as the scenario leaves them (``teams``: who finished each
    outcome's recent work, for a scenario that changes teams)."""
    gone = removed(items, scenario.remove_keys) if scenario.remove_keys else set()
    kept = [i for i in items if i.ref not in gone]
    counts = added_per_outcome(program, scenario)
    added = added_items(program, counts, now)
    by_outcome: dict[str, tuple[str, ...]] = defaultdict(tuple)
    for item in added:
        named = item.key.rpartition("+")[0]
        by_outcome[named] += (item.key,)
    paces = outcome_paces(scenario, teams)
    outcomes = []
    for outcome in program.outcomes:
        factor, more_pace = paces.get(outcome.key, (1.0, 0.0))
        selectors = outcome.selectors
        if by_outcome.get(outcome.key):
            selectors += (Selector(source=ADDED_SOURCE, keys=by_outcome[outcome.key]),)
        outcomes.append(
            replace(
                outcome,
                selectors=selectors,
                target=scenario.targets.get(outcome.key, outcome.target),
                pace_factor=scenario.pace_factors.get(outcome.key, scenario.pace_factor) * factor,
                pace_added=outcome.pace_added + more_pace,
            )
        )
    return replace(program, outcomes=tuple(outcomes)), kept + added
