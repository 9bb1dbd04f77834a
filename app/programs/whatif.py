"""What-if: a program's forecast re-run with changes, and scenarios saved by name.

Nothing here touches a tracker or the stored roll-up. The program is loaded as a
recomputation loads it and evaluated twice by ``recompute.evaluate_program`` — as it
stands, and as ``rollup.whatif.apply`` edits it — with the same seed, so the answer is
what a recomputation of the edited program would say.

Asking again costs one evaluation: a process keeps the last few programs it loaded
(``Prepared``), each with its roll-up as it stands, for as long as the store says their
data is the same (``data_stamp``). A what-if is stated as of the stored roll-up's moment
when that is today's (so its "before" is the roll-up the program page shows, and the same
question asked twice gets the same answer), else as of the moment asked.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import zoneinfo
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlalchemy import Integer, cast, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ProgramConfig
from app.programs import loading, lookup, plans, recompute
from app.store.audit import record_audit
from app.store.tables import MAX_ROW_ID, ItemRow, LinkRow, ProgramRow, ProgramStatusRow, ScenarioRow
from rollup import people, whatif
from rollup.figures import day
from rollup.forecast import Forecast
from rollup.graph import DependencyGraph
from rollup.mapping import ItemIndex
from rollup.model import Program
from rollup.trend import Trend

MAX_ADDED = 100_000
MAX_REMOVED = 10_000
MAX_TEAMS = 20
MAX_TEAM_PACE = 10_000.0
CACHED_PROGRAMS = 4
"""Programs a process keeps loaded for what-ifs (each: its items and its forecasts)..."""
CACHED_ITEMS = 250_000
"""...and the items they may hold between them (the last loaded is kept whatever its size)."""

CHANGES_EXAMPLES: list[JsonValue] = [
    {"remove_keys": ["PAY-12"], "add_items": 20, "pace_factor": 0.9},
    {
        "add_items": {"fast-pay": 10},
        "pace_factor": {"payments": 1.25},
        "add_teams": [
            {"name": "Second payments team", "like": "payments", "factor": 0.5},
            {"name": "Contractors", "pace_items_per_week": 4, "outcomes": ["web"]},
        ],
        "targets": {"fast-pay": "2027-03-31"},
    },
]
"""Request bodies: for the program, and by team with teams added (``payments`` being a
configured team's key)."""

_FIGURES: dict[str, JsonValue] = {
    "p50": "2027-02-19",
    "p85": "2027-03-12",
    "p95": "2027-03-26",
    "probability_on_time": 0.34,
    "basis": "monte_carlo",
    "remaining": 48.0,
}
RESULT_EXAMPLE: dict[str, JsonValue] = {
    "program": "checkout",
    "as_of": "2026-11-20",
    "before": {"program": _FIGURES, "outcomes": {"fast-pay": _FIGURES}},
    "after": {
        "program": _FIGURES | {"p85": "2027-02-26", "probability_on_time": 0.81},
        "outcomes": {"fast-pay": _FIGURES | {"p85": "2027-02-26", "probability_on_time": 0.81}},
    },
    "removed": ["PAY-12", "PAY-13"],
    "added": {"fast-pay": 0},
    "summary": "If we defer PAY-12 (3-D Secure), P(on time) rises from 34 % to 81 %.",
}


class NewTeam(BaseModel):
    """A team to add: like an existing team, or at a stated pace."""

    name: str = Field(min_length=1, max_length=64, description="What to call the team")
    like: str | None = Field(
        None,
        description="A configured team's key: the new team works where that one does, at "
        "`factor` of its pace",
    )
    factor: float = Field(1.0, description="With `like`: its pace as a multiple of that team's")
    pace_items_per_week: float | None = Field(
        None, description="Without `like`: the items it finishes a week"
    )
    outcomes: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="With a pace: the outcomes it works on (all with work left if none), "
        "its pace split by their work left",
    )


class ScenarioChanges(BaseModel):
    """What a scenario changes; every field may be left out."""

    model_config = ConfigDict(json_schema_extra={"examples": CHANGES_EXAMPLES})

    add_items: int | dict[str, int] = Field(
        0,
        description="Items of new scope: a number spread evenly over the outcomes, or "
        "a number per outcome key",
    )
    remove_keys: list[str] = Field(
        default_factory=list,
        max_length=MAX_REMOVED,
        description="Items or epics to defer: they and their open work leave the program",
    )
    pace_factor: float | dict[str, float] = Field(
        1.0,
        description="The pace multiplied by this: for the program, or per team key (that "
        "team's share of each outcome's recent throughput moves; an outcome key there "
        "moves that outcome's whole pace)",
    )
    add_teams: list[NewTeam] = Field(
        default_factory=list,
        max_length=MAX_TEAMS,
        description="Teams to add, each like an existing team or at a pace in items a week",
    )
    targets: dict[str, date] = Field(
        default_factory=dict, description="New target dates by outcome key"
    )

    def problems(self, outcomes: list[str], teams: Collection[str] = ()) -> list[tuple[str, str]]:
        """(field, message) for each value this program cannot take (``teams``: the
        configured teams' keys)."""
        found = []
        known = set(outcomes)
        named: dict[str, Mapping[str, object]] = {
            "add_items": self.add_items if isinstance(self.add_items, dict) else {},
            "targets": self.targets,
        }
        for name, mapping in named.items():
            unknown = sorted(set(mapping) - known)
            if unknown:
                found.append(
                    (name, f"unknown outcome(s) {', '.join(unknown)}; known: {', '.join(outcomes)}")
                )
        paced = self.pace_factor if isinstance(self.pace_factor, dict) else {}
        unknown = sorted(set(paced) - known - set(teams))
        if unknown:
            found.append(
                (
                    "pace_factor",
                    f"unknown team(s) or outcome(s) {', '.join(unknown)}; teams: "
                    f"{', '.join(sorted(teams)) or 'none configured'}; outcomes: "
                    f"{', '.join(outcomes)}",
                )
            )
        both = sorted(set(paced) & known & set(teams))
        if both:
            found.append(("pace_factor", f"{', '.join(both)} names both a team and an outcome"))
        found += self._team_problems(known, set(teams))
        counts = self.add_items.values() if isinstance(self.add_items, dict) else [self.add_items]
        if any(c < 0 for c in counts) or sum(counts) > MAX_ADDED:
            found.append(("add_items", f"between 0 and {MAX_ADDED:,} items"))
        factors = (
            self.pace_factor.values() if isinstance(self.pace_factor, dict) else [self.pace_factor]
        )
        if any(not 0.05 <= f <= 20 for f in factors):
            found.append(("pace_factor", "a factor between 0.05 and 20"))
        if any(len(k) > 64 or not k for k in self.remove_keys):
            found.append(("remove_keys", "keys of 1 to 64 characters"))
        return found

    def _team_problems(self, outcomes: set[str], teams: set[str]) -> list[tuple[str, str]]:
        found = []
        names = [t.name.strip() for t in self.add_teams]
        if len(set(names)) < len(names) or not all(names):
            found.append(("add_teams", "each team a different, non-blank name"))
        for n, team in enumerate(self.add_teams):
            where = f"add_teams.{n}"
            if (team.like is None) == (team.pace_items_per_week is None):
                found.append((where, "either like (a team's key) or pace_items_per_week"))
                continue
            if team.like is not None:
                if team.like not in teams:
                    found.append(
                        (
                            f"{where}.like",
                            f"unknown team {team.like}; teams: "
                            f"{', '.join(sorted(teams)) or 'none configured'}",
                        )
                    )
                if not 0.05 <= team.factor <= 20:
                    found.append((f"{where}.factor", "a factor between 0.05 and 20"))
                if team.outcomes:
                    found.append(
                        (f"{where}.outcomes", f"a team like {team.like} works where it does")
                    )
                continue
            pace = team.pace_items_per_week or 0.0
            if not 0 < pace <= MAX_TEAM_PACE:
                found.append(
                    (f"{where}.pace_items_per_week", f"more than 0, at most {MAX_TEAM_PACE:,.0f}")
                )
            unknown = sorted(set(team.outcomes) - outcomes)
            if unknown:
                found.append((f"{where}.outcomes", f"unknown outcome(s) {', '.join(unknown)}"))
        return found

    def scenario(self, outcomes: Collection[str] = ()) -> whatif.Scenario:
        """The scenario in the roll-up's terms; ``outcomes`` tells a per-outcome pace
        factor from a team's."""
        spread = self.add_items if isinstance(self.add_items, int) else 0
        per = self.add_items if isinstance(self.add_items, dict) else {}
        pace = self.pace_factor if isinstance(self.pace_factor, float | int) else 1.0
        factors = self.pace_factor if isinstance(self.pace_factor, dict) else {}
        return whatif.Scenario(
            add_items=spread,
            add_per_outcome=per,
            remove_keys=tuple(self.remove_keys),
            pace_factor=float(pace),
            pace_factors={k: float(v) for k, v in factors.items() if k in outcomes},
            team_factors={k: float(v) for k, v in factors.items() if k not in outcomes},
            added_teams=tuple(
                whatif.AddedTeam(
                    name=t.name.strip(),
                    like=t.like,
                    factor=float(t.factor),
                    pace=None if t.pace_items_per_week is None else float(t.pace_items_per_week),
                    outcomes=tuple(t.outcomes),
                )
                for t in self.add_teams
            ),
            targets=dict(self.targets),
        )


class Figures(BaseModel):
    p50: date | None
    p85: date | None
    p95: date | None
    probability_on_time: float | None
    basis: str
    remaining: float


class Side(BaseModel):
    program: Figures
    outcomes: dict[str, Figures]


class WhatIfResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [RESULT_EXAMPLE]})

    program: str
    as_of: date
    before: Side
    after: Side
    removed: list[str]
    """Keys of the open work the scenario deferred."""
    added: dict[str, int]
    summary: str


class SavedScenario(BaseModel):
    id: int
    name: str
    changes: ScenarioChanges
    result: WhatIfResult
    saved_at: datetime
    saved_by: str | None


class ScenarioList(BaseModel):
    scenarios: list[SavedScenario]


def figures_of(forecast: Forecast) -> Figures:
    return Figures(
        p50=forecast.p50.on if forecast.p50 else None,
        p85=forecast.p85.on if forecast.p85 else None,
        p95=forecast.p95.on if forecast.p95 else None,
        probability_on_time=forecast.probability_on_time,
        basis=forecast.basis.value,
        remaining=round(forecast.remaining, 2),
    )


def side_of(found: whatif.Forecasts) -> Side:
    return Side(
        program=figures_of(found.forecast),
        outcomes={o.outcome.key: figures_of(o.forecast) for o in found.outcomes},
    )


def forecasts_of(
    config: ProgramConfig,
    program: Program,
    index: ItemIndex,
    graph: DependencyGraph,
    trend: Trend,
    moment: datetime,
) -> whatif.Forecasts:
    """The forecasts ``recompute.evaluate_program`` makes of the program at ``moment``:
    in its time zone, with the generator its key and configured seed make."""
    return whatif.forecasts(program, index, graph, trend, **recompute.frame(config, moment))


def describe(
    changes: ScenarioChanges,
    config: ProgramConfig,
    titles: Mapping[str, str],
    teams: Mapping[str, str] | None = None,
) -> str:
    """The scenario in words: "defer PAY-1 (3-D Secure) and add 20 items" (``teams``: the
    configured teams' names by key)."""
    names = {o.key: o.name for o in config.outcomes}
    team_names = teams or {}
    parts = []
    if changes.remove_keys:
        shown = [f"{k} ({titles[k]})" if k in titles else k for k in changes.remove_keys[:3]]
        more = len(changes.remove_keys) - 3
        parts.append("defer " + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
    if isinstance(changes.add_items, int) and changes.add_items:
        parts.append(f"add {changes.add_items} items")
    elif isinstance(changes.add_items, dict):
        parts += [f"add {n} items to {names[k]}" for k, n in changes.add_items.items() if n]
    if isinstance(changes.pace_factor, dict):
        parts += [
            f"work {f:g}× as fast on {names[k]}"
            if k in names
            else f"have {team_names.get(k, k)} work {f:g}× as fast"
            for k, f in changes.pace_factor.items()
        ]
    elif changes.pace_factor != 1.0:
        parts.append(f"work {changes.pace_factor:g}× as fast")
    for team in changes.add_teams:
        if team.like is not None:
            like = team_names.get(team.like, team.like)
            pace = "" if team.factor == 1.0 else f" at {team.factor:g}× its pace"
            parts.append(f"add a team like {like}{pace} ({team.name})")
        else:
            on = " on " + ", ".join(names[k] for k in team.outcomes) if team.outcomes else ""
            parts.append(
                f"add a team of {team.pace_items_per_week:g} items a week{on} ({team.name})"
            )
    parts += [f"move {names[k]}'s target to {day(d)}" for k, d in changes.targets.items()]
    if not parts:
        return "change nothing"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _pct(p: float | None) -> str:
    return "—" if p is None else f"{round(p * 100)} %"


def _moved(before: Figures, after: Figures) -> str | None:
    """How one forecast moved, in words (None: it did not)."""
    b, a = before.probability_on_time, after.probability_on_time
    moves = before.p85 != after.p85
    if b is not None and a is not None:
        if _pct(a) != _pct(b):
            return f"P(on time) {'rises' if a > b else 'falls'} from {_pct(b)} to {_pct(a)}"
        if moves:
            # The chance as said does not move (to the per cent): the date does.
            return (
                f"P(on time) stays at {_pct(b)} and P85 moves from {day(before.p85)} "
                f"to {day(after.p85)}"
            )
        return f"P(on time) stays at {_pct(b)}"
    if moves:
        return f"P85 moves from {day(before.p85)} to {day(after.p85)}"
    return None


def summary(what: str, before: Side, after: Side, names: Mapping[str, str]) -> str:
    """The answer in one sentence, as the weekly report quotes it: the program's chance,
    or — when the program has no forecast to compare — each outcome's that moved."""
    program = _moved(before.program, after.program)
    if program is not None:
        return f"If we {what}, {program}."
    parts = [
        f"{names.get(key, key)}'s {moved}"
        for key, figures in before.outcomes.items()
        if key in after.outcomes and (moved := _moved(figures, after.outcomes[key])) is not None
    ]
    if parts:
        return f"If we {what}, " + "; ".join(parts) + "."
    return f"If we {what}, the forecast does not change (P85 {day(after.program.p85)})."


@dataclass(slots=True)
class Standing:
    """The program as it stands at one moment: its trend, and its forecasts once
    computed (or, when the stored roll-up is of that moment, its figures as stored)."""

    trend: Trend
    forecasts: whatif.Forecasts | None = None
    stored: Side | None = None


@dataclass(slots=True)
class Prepared:
    """A program loaded for what-ifs, and how it stands at the last moment asked."""

    loaded: recompute.Loaded
    program: Program
    index: ItemIndex
    graph: DependencyGraph
    stands: dict[datetime, Standing] = field(default_factory=dict)
    """By the moment it is of (the last one only)."""

    @classmethod
    def of(cls, config: ProgramConfig, loaded: recompute.Loaded) -> Prepared:
        index = ItemIndex(loaded.items)
        return cls(
            loaded, loading.to_program(config), index, DependencyGraph(loaded.dependencies, index)
        )

    def standing(self, config: ProgramConfig, moment: datetime) -> Standing:
        """How the program stands at ``moment`` (its trend made once)."""
        found = self.stands.get(moment)
        if found is None:
            as_of = moment.astimezone(zoneinfo.ZoneInfo(config.timezone)).date()
            found = Standing(recompute.trend_of(config, self.loaded, as_of))
            self.stands = {moment: found}
        return found

    def forecasts(self, config: ProgramConfig, moment: datetime) -> whatif.Forecasts:
        """The program's forecasts as it stands at ``moment``, computed once."""
        standing = self.standing(config, moment)
        if standing.forecasts is None:
            standing.forecasts = forecasts_of(
                config, self.program, self.index, self.graph, standing.trend, moment
            )
        return standing.forecasts


class PreparedCache:
    """The last ``size`` programs loaded for what-ifs (holding ``items`` at most between
    them), each under what its data was: a program whose data changed is loaded again."""

    def __init__(self, size: int = CACHED_PROGRAMS, items: int = CACHED_ITEMS) -> None:
        self.size, self.items = size, items
        self._found: OrderedDict[tuple[str, str], tuple[Any, Prepared]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], stamp: Any) -> Prepared | None:
        with self._lock:
            found = self._found.get(key)
            if found is None or found[0] != stamp:
                return None
            self._found.move_to_end(key)
            return found[1]

    def put(self, key: tuple[str, str], stamp: Any, prepared: Prepared) -> None:
        with self._lock:
            self._found[key] = (stamp, prepared)
            self._found.move_to_end(key)
            while len(self._found) > 1 and (
                len(self._found) > self.size
                or sum(len(p.loaded.items) for _, p in self._found.values()) > self.items
            ):
                self._found.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._found.clear()


PREPARED = PreparedCache()


def _fingerprint(config: ProgramConfig) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()


async def data_stamp(session: AsyncSession, program_id: int) -> tuple[Any, ...]:
    """What changes whenever what a what-if loads does: the program's last roll-up (when
    it was computed, its revision, when the program was last configured), and the items
    and links stored (how many, how many deleted, the latest write of each)."""
    computed = (
        await session.execute(
            select(ProgramStatusRow.computed_at, ProgramStatusRow.revision, ProgramRow.updated_at)
            .join(ProgramRow, ProgramRow.id == ProgramStatusRow.program_id)
            .where(ProgramStatusRow.program_id == program_id)
        )
    ).one_or_none()
    items = (
        await session.execute(
            select(
                func.count(ItemRow.id),
                func.sum(cast(ItemRow.deleted, Integer)),
                func.max(ItemRow.synced_at),
                func.max(ItemRow.deleted_at),
            )
        )
    ).one()
    links = (
        await session.execute(select(func.count(LinkRow.id), func.max(LinkRow.origin_updated_at)))
    ).one()
    return (None if computed is None else tuple(computed), tuple(items), tuple(links))


def current_at(stamp: tuple[Any, ...]) -> datetime | None:
    """When the stored roll-up was computed, if it is current: computed after the program
    was last configured and after the last write or deletion of an item (None if not)."""
    if stamp[0] is None:
        return None
    computed_at, _, configured_at = stamp[0]
    written = [w for w in (configured_at, *stamp[1][2:]) if w is not None]
    return None if any(w > computed_at for w in written) else computed_at


async def stored_side(session: AsyncSession, program: lookup.ConfiguredProgram) -> Side | None:
    """The stored roll-up's figures (None when they are not of the configured outcomes)."""
    status = await session.scalar(
        select(ProgramStatusRow.status).where(ProgramStatusRow.program_id == program.id)
    )
    if status is None:
        return None
    outcomes = {o.get("key"): o.get("forecast") for o in status.get("outcomes", ())}
    if list(outcomes) != [o.key for o in program.config.outcomes]:
        return None
    try:
        return Side(
            program=_stored_figures(status["forecast"]),
            outcomes={k: _stored_figures(f) for k, f in outcomes.items()},
        )
    except (KeyError, TypeError, ValueError):
        return None  # a document of another shape: the forecast is run instead


def _stored_figures(forecast: Mapping[str, Any]) -> Figures:
    return Figures.model_validate(
        {k: forecast[k] for k in ("p50", "p85", "p95", "probability_on_time", "basis")}
        | {"remaining": round(float(forecast["remaining"]), 2)}
    )


def moment_of(computed_at: datetime | None, now: datetime, timezone: str) -> datetime:
    """The moment a what-if is stated at: the current stored roll-up's (``current_at``),
    when it is of the same day and not later than ``now``; else ``now``."""
    zone = zoneinfo.ZoneInfo(timezone)
    if (
        computed_at is not None
        and computed_at <= now
        and computed_at.astimezone(zone).date() == now.astimezone(zone).date()
    ):
        return computed_at
    return now


def _team_of(forecasts: whatif.Forecasts, staff: plans.Staff) -> dict[tuple[str, str], str | None]:
    """Each contributor's team (None: in no configured team, or nobody's)."""
    units = {c.item.ref: c.item for o in forecasts.outcomes for c in o.progress.contributors}
    directory = people.match(people.identities(units.values()), staff.known, staff.teams)
    found: dict[tuple[str, str], str | None] = {}
    for ref, item in units.items():
        person = directory.person_of(item)
        found[ref] = None if person is None else person.team
    return found


def compare(
    config: ProgramConfig,
    prepared: Prepared,
    changes: ScenarioChanges,
    moment: datetime,
    staff: plans.Staff | None = None,
) -> WhatIfResult:
    """Before and after: pure computation, run off the event loop. The "before" is the
    stored roll-up's when ``prepare`` found it current (the same forecast, not run again),
    unless a team's pace changes: that needs the work behind each outcome's figures."""
    staff = staff or plans.Staff()
    outcome_keys = [o.key for o in config.outcomes]
    loaded = prepared.loaded
    zone = zoneinfo.ZoneInfo(config.timezone)
    with recompute.frozen_heap():
        standing = prepared.standing(config, moment)
        scenario = changes.scenario(outcome_keys)
        before = standing.stored
        teams = None
        if before is None or scenario.by_team:
            found = prepared.forecasts(config, moment)
            before = side_of(found)
            if scenario.by_team:
                team_of = _team_of(found, staff)
                teams = whatif.team_pace(found, lambda item: team_of.get(item.ref), zone)
        edited, items = whatif.apply(
            prepared.program, loaded.items, scenario, now=moment, teams=teams
        )
        same = len(items) == len(loaded.items) and not scenario.remove_keys
        index = prepared.index if same else ItemIndex(items)
        graph = prepared.graph if same else DependencyGraph(loaded.dependencies, index)
        after = forecasts_of(config, edited, index, graph, standing.trend, moment)
    kept = {i.ref for i in items}
    removed = sorted(i.key for i in loaded.items if i.ref not in kept)
    wanted = set(changes.remove_keys)
    titles = {i.key: i.title for i in loaded.items if i.key in wanted}
    sides = before, side_of(after)
    return WhatIfResult(
        program=config.key,
        as_of=after.as_of,
        before=sides[0],
        after=sides[1],
        removed=removed,
        added=whatif.added_per_outcome(prepared.program, scenario),
        summary=summary(
            describe(changes, config, titles, {t.key: t.name for t in staff.teams}),
            sides[0],
            sides[1],
            {o.key: o.name for o in config.outcomes},
        ),
    )


async def prepare(
    session: AsyncSession, program: lookup.ConfiguredProgram, *, now: datetime
) -> tuple[Prepared, datetime]:
    """The program loaded for what-ifs (kept while its data stays the same), and the
    moment a what-if asked at ``now`` is stated at."""
    stamp = await data_stamp(session, program.id)
    computed_at = current_at(stamp)
    moment = moment_of(computed_at, now, program.config.timezone)
    bind = session.get_bind()
    key = (f"{bind.engine.url!r}:{program.id}", _fingerprint(program.config))
    day_ = moment.astimezone(program.zone).date()
    prepared = PREPARED.get(key, (stamp, day_))
    if prepared is None:
        loaded = await recompute.load(session, [program.config], now=moment)
        prepared = await asyncio.to_thread(Prepared.of, program.config, loaded)
        PREPARED.put(key, (stamp, day_), prepared)
    if computed_at is not None and moment == computed_at:
        standing = prepared.standing(program.config, moment)
        if standing.stored is None and standing.forecasts is None:
            standing.stored = await stored_side(session, program)
    return prepared, moment


async def what_if(
    session: AsyncSession,
    program: lookup.ConfiguredProgram,
    changes: ScenarioChanges,
    *,
    now: datetime,
    staff: plans.Staff | None = None,
) -> WhatIfResult:
    """The program's forecast before and after ``changes``, as of ``now`` (or of the
    stored roll-up, when it is today's: ``moment_of``); ``staff`` says who is in which
    team, for changes to a team's pace."""
    prepared, moment = await prepare(session, program, now=now)
    return await asyncio.to_thread(compare, program.config, prepared, changes, moment, staff)


def saved_of(row: ScenarioRow) -> SavedScenario:
    return SavedScenario(
        id=row.id,
        name=row.name,
        changes=ScenarioChanges.model_validate(row.changes),
        result=WhatIfResult.model_validate(row.result),
        saved_at=row.saved_at,
        saved_by=row.saved_by,
    )


async def save(
    session: AsyncSession,
    program_id: int,
    name: str,
    changes: ScenarioChanges,
    result: WhatIfResult,
    *,
    now: datetime,
    by: str | None,
) -> SavedScenario:
    """Keep a scenario under ``name`` (replacing one of the same name); recorded in the
    audit log."""
    replaced = await session.scalar(
        select(ScenarioRow.changes).where(
            ScenarioRow.program_id == program_id, ScenarioRow.name == name
        )
    )
    await session.execute(
        delete(ScenarioRow).where(ScenarioRow.program_id == program_id, ScenarioRow.name == name)
    )
    row = ScenarioRow(
        program_id=program_id,
        name=name,
        changes=changes.model_dump(mode="json"),
        result=result.model_dump(mode="json"),
        saved_at=now,
        saved_by=by,
    )
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        actor=by or "system",
        action="scenario.save",
        program=await _key_of(session, program_id),
        subject=name,
        before={"changes": replaced} if replaced is not None else None,
        after={"changes": row.changes, "summary": result.summary},
        now=now,
    )
    return saved_of(row)


async def _key_of(session: AsyncSession, program_id: int) -> str | None:
    return await session.scalar(select(ProgramRow.key).where(ProgramRow.id == program_id))


async def list_scenarios(session: AsyncSession, program_id: int) -> ScenarioList:
    """Saved scenarios, newest first."""
    rows = await session.scalars(
        select(ScenarioRow)
        .where(ScenarioRow.program_id == program_id)
        .order_by(ScenarioRow.saved_at.desc(), ScenarioRow.id.desc())
    )
    return ScenarioList(scenarios=[saved_of(r) for r in rows])


async def delete_scenario(
    session: AsyncSession, program_id: int, scenario_id: int, *, by: str = "system"
) -> bool:
    """Forget a saved scenario (recorded in the audit log); False when there is none."""
    if not 0 < scenario_id <= MAX_ROW_ID:
        return False  # past any row: none such, without asking a database that cannot say
    row = await session.scalar(
        select(ScenarioRow).where(
            ScenarioRow.program_id == program_id, ScenarioRow.id == scenario_id
        )
    )
    if row is None:
        return False
    name, before = row.name, {"name": row.name, "changes": row.changes}
    await session.delete(row)
    await session.flush()
    await record_audit(
        session,
        actor=by,
        action="scenario.delete",
        program=await _key_of(session, program_id),
        subject=name,
        before=before,
    )
    return True
