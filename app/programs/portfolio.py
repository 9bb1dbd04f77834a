"""The portfolio: goals above programs, dependencies between programs, people across them.

Every program's recomputation keeps its part of the portfolio beside its status
(``part_of``: its figures, its outcomes' forecast inputs, the dependencies that leave it,
who works on it). After every recomputation the portfolio is rebuilt from the parts of
*every* program as stored — a recomputation may cover only some programs, and a goal, a
dependency or a person spans several — and its three documents are stored, with each
goal's day and the derived risks of programs waiting on late work of another.

Reading is a lookup. When the configuration changed since the last rebuild (a goal
added, a limit moved), a read builds the documents from the stored parts instead, until
the next recomputation stores them.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import GoalConfig, ProgramConfig, ThroughlineConfig
from app.programs import access, lookup, portfolio_access, risks
from app.programs.documents import portfolio as out
from app.programs.documents.build import load
from app.programs.documents.program import ProgramStatus
from app.programs.lookup import StoredReads
from app.store.engine import session_scope
from app.store.locks import advisory_key
from app.store.tables import (
    GoalSnapshotRow,
    PortfolioDocumentRow,
    ProgramRow,
    ProgramStatusRow,
)
from rollup import crossprogram, goals, people, workloads
from rollup.graph import LateReason
from rollup.hysteresis import Verdict
from rollup.inputs import from_data, to_data
from rollup.model import Color, ForecastOptions, ItemRef, ProgressBasis, RagPolicy, SnapshotPoint
from rollup.risk import DerivedRisk
from rollup.status import ProgramRollup
from vocabulary import StatusCategory

log = logging.getLogger(__name__)

PORTFOLIO, DEPENDENCIES, PEOPLE = "portfolio", "dependencies", "people"
RULES = risks.PORTFOLIO_RULES
"""Derived risks the portfolio opens and closes (a program's own recomputation leaves
them alone)."""
HISTORY_DAYS = 35
"""How far back a goal's days are read: the day before (its held colour) and a week ago."""
LISTED = 100
"""Item keys listed per figure."""


# --- Each program's part, computed with its roll-up -------------------------------------


def part_of(
    config: ProgramConfig,
    rollup: ProgramRollup,
    status: ProgramStatus,
    week_ago: SnapshotPoint | None,
    staff: tuple[tuple[people.KnownPerson, ...], tuple[people.Team, ...]],
    *,
    now: datetime,
) -> out.PortfolioPart:
    """What one program's roll-up gives the portfolio (pure; runs with the roll-up)."""
    by_key = {o.outcome.key: o for o in rollup.outcomes}
    outcomes = []
    for o in status.outcomes:
        kept = by_key[o.key].forecast.inputs
        outcomes.append(
            out.PartOutcome(
                key=o.key,
                name=o.name,
                target=o.target,
                rag=o.rag.color,
                percent=o.progress.percent,
                done_count=o.progress.done_count,
                scope_count=o.progress.scope_count,
                forecast_basis=o.forecast.basis,
                p50=o.forecast.p50,
                p85=o.forecast.p85,
                probability_on_time=o.forecast.probability_on_time,
                finished_on=o.finished_on,
                inputs=None if kept is None else to_data(kept),
            )
        )
    options = rollup.program.policy.forecast
    return out.PortfolioPart(
        key=config.key,
        name=config.name,
        owner=config.owner,
        timezone=config.timezone,
        as_of=rollup.as_of,
        computed_at=now,
        rag=status.rag.color,
        reason=status.rag.reasons[0].detail if status.rag.reasons else "",
        percent=status.progress.percent,
        progress_text=status.progress.text,
        done_count=status.progress.done_count,
        scope_count=status.progress.scope_count,
        target=status.target,
        forecast_basis=status.forecast.basis,
        p50=status.forecast.p50,
        p85=status.forecast.p85,
        probability_on_time=status.forecast.probability_on_time,
        movement=status.forecast.movement.text if status.forecast.movement else None,
        week_ago=_standing_of(week_ago, rollup.program.basis),
        scope_growth=options.scope_growth,
        horizon_weeks=options.horizon_weeks,
        outcomes=outcomes,
        boundaries=_boundaries(rollup),
        people=_people(rollup, *staff),
    )


def _standing_of(point: SnapshotPoint | None, basis: ProgressBasis) -> out.PartStanding | None:
    if point is None:
        return None
    done, scope = (
        (point.done_count, point.scope_count)
        if basis is ProgressBasis.COUNT
        else (point.done_estimate, point.scope_estimate)
    )
    return out.PartStanding(
        on=point.on,
        rag=point.rag.value,
        percent=round(100 * done / scope, 1) if scope else None,
        p85=point.p85_on,
        probability_on_time=point.probability_on_time,
    )


def _boundaries(rollup: ProgramRollup) -> list[out.PartBoundary]:
    """The dependencies with exactly one end among the program's items."""
    selected = rollup.assignment.all_selected
    outcomes_of = rollup.assignment.outcomes_of()
    late = {(d.edge.before, d.edge.after): d for d in rollup.late}
    items = rollup.index.items

    def end(ref: ItemRef) -> out.PartEnd:
        item = items[ref]
        return out.PartEnd(
            source=item.source,
            key=item.key,
            title=item.title,
            url=item.url,
            project=item.project,
            status_category=item.status_category,
            due_on=item.due_on,
            expected_on=rollup.expected.get(ref),
        )

    found = []
    for edge in rollup.edges:
        inside_before = edge.before in selected
        if inside_before == (edge.after in selected):
            continue
        mine = edge.before if inside_before else edge.after
        verdict = late.get((edge.before, edge.after))
        found.append(
            out.PartBoundary(
                from_=end(edge.before),
                to=end(edge.after),
                inside="from" if inside_before else "to",
                late=verdict is not None,
                reason=verdict.reason.value if verdict else None,
                detail=verdict.detail if verdict else None,
                needed_on=verdict.needed_on if verdict else None,
                expected_on=verdict.expected_on if verdict else None,
                critical=mine in rollup.critical,
                outcomes=list(outcomes_of.get(mine, ())),
            )
        )
    return found


def _people(
    rollup: ProgramRollup,
    known: Sequence[people.KnownPerson],
    teams: Sequence[people.Team],
) -> list[out.PartPerson]:
    """Who holds the program's open work, matched as its resources page matches them."""
    units = {c.item.ref: c.item for o in rollup.outcomes for c in o.progress.contributors}
    directory = people.match(people.identities(units.values()), known, teams)
    found: dict[str, out.PartPerson] = {}
    seen: dict[str, set[people.Identity]] = {}
    for ref in sorted(units):
        item = units[ref]
        if item.done:
            continue
        person = directory.person_of(item)
        if person is None:
            continue
        entry = found.setdefault(
            person.id, out.PartPerson(id=person.id, name=person.name, identities=[])
        )
        entry.remaining.append(ref)
        entry.estimates.append(item.estimate)
        if item.status_category is StatusCategory.IN_PROGRESS:
            entry.wip.append(ref)
        seen.setdefault(person.id, set()).add(
            people.Identity(item.source, item.assignee, item.assignee_email)
        )
    for person_id, entry in found.items():
        entry.identities = [
            out.PartIdentity(source=i.source, name=i.name, email=i.email)
            for i in sorted(seen[person_id], key=lambda i: (i.source, i.name or "", i.email or ""))
        ]
    return list(found.values())


# --- The portfolio, built from every program's part ----------------------------------------


def digest(config: ThroughlineConfig) -> str:
    """What of the configuration the portfolio documents depend on, as a short hash."""
    relevant = {
        "goals": [g.model_dump(mode="json") for g in config.goals],
        "portfolio": config.portfolio.model_dump(mode="json"),
        "programs": [
            {
                "key": p.key,
                "name": p.name,
                "owner": p.owner,
                "depends_on": [
                    [o.key, [d.model_dump(mode="json") for d in o.depends_on]] for o in p.outcomes
                ],
            }
            for p in config.programs
        ],
        "people": [p.model_dump(mode="json") for p in config.people],
        "teams": [t.model_dump(mode="json") for t in config.teams],
        "wip_limit": config.resources.wip_limit,
    }
    encoded = json.dumps(relevant, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Built:
    portfolio: out.Portfolio
    dependencies: out.PortfolioDependencies
    people: out.PortfolioPeople
    risks: dict[str, list[DerivedRisk]]
    """Per program with a part: its cross-program risks (empty: close any open)."""
    standings: dict[str, goals.Standing] = field(default_factory=dict)
    """Per goal: how it stands today."""


def _outcome_state(program: out.PortfolioPart, o: out.PartOutcome) -> goals.OutcomeState:
    inputs = None
    if o.inputs is not None:
        try:
            inputs = from_data(o.inputs)
        except (KeyError, TypeError, ValueError):
            log.warning("program %s outcome %s: unreadable forecast inputs", program.key, o.key)
    return goals.OutcomeState(
        program=program.key,
        key=o.key,
        name=o.name,
        target=o.target,
        color=Color(o.rag),
        percent=o.percent,
        done_count=o.done_count,
        scope_count=o.scope_count,
        forecast=o.forecast_basis,
        p50=o.p50,
        p85=o.p85,
        probability=o.probability_on_time,
        finished_on=o.finished_on,
        inputs=inputs,
        options=ForecastOptions(
            scope_growth=program.scope_growth, horizon_weeks=program.horizon_weeks
        ),
    )


def _program_state(config: ProgramConfig, part: out.PortfolioPart) -> goals.ProgramState:
    return goals.ProgramState(
        key=part.key,
        name=config.name,
        owner=config.owner,
        color=Color(part.rag),
        percent=part.percent,
        done_count=part.done_count,
        scope_count=part.scope_count,
        target=part.target,
        forecast=part.forecast_basis,
        p50=part.p50,
        p85=part.p85,
        probability=part.probability_on_time,
        outcomes=tuple(_outcome_state(part, o) for o in part.outcomes),
        as_of=part.as_of,
    )


def _goal(config: GoalConfig) -> goals.Goal:
    rag = config.rag
    return goals.Goal(
        key=config.key,
        name=config.name,
        owner=config.owner,
        start=config.period.start,
        end=config.period.end,
        label=config.period.label,
        contributions=tuple(
            goals.Contribution(c.program, c.outcome, c.weight) for c in config.contributors
        ),
        key_results=tuple(
            goals.KeyResult(r.key, r.name, goals.Metric(r.metric), r.target, r.contributors)
            for r in config.key_results
        ),
        policy=RagPolicy(
            green_at=rag.green_at,
            amber_at=rag.amber_at,
            hysteresis=rag.hysteresis,
            hysteresis_margin=rag.hysteresis_margin,
        ),
    )


@dataclass(frozen=True, slots=True)
class GoalHistory:
    """A goal's last day before today (its held colour) and its day a week ago."""

    previous: goals.Standing | None = None
    week_ago: goals.Standing | None = None


def build(
    config: ThroughlineConfig,
    parts: Mapping[str, out.PortfolioPart],
    history: Mapping[str, GoalHistory],
    *,
    now: datetime,
    trials: int = goals.TRIALS,
) -> Built:
    """Every portfolio document from the programs' parts (pure: runs off the event loop)."""
    # The parts are alive until the end: full collections would rescan them for nothing
    # (as in a recomputation, ``app.programs.recompute.frozen_heap``).
    gc.freeze()
    try:
        return _build(config, parts, history, now=now, trials=trials)
    finally:
        gc.unfreeze()


def _build(
    config: ThroughlineConfig,
    parts: Mapping[str, out.PortfolioPart],
    history: Mapping[str, GoalHistory],
    *,
    now: datetime,
    trials: int,
) -> Built:
    zone = zoneinfo.ZoneInfo(config.portfolio.timezone)
    today = now.astimezone(zone).date()
    configured = {p.key: p for p in config.programs}
    present = {k: p for k, p in parts.items() if k in configured}
    states = {k: _program_state(configured[k], p) for k, p in present.items()}
    goal_docs, standings = [], {}
    for goal_config in config.goals:
        kept = history.get(goal_config.key, GoalHistory())
        previous = kept.previous
        verdict = (
            Verdict(previous.verdict, previous.verdict_raw or previous.verdict)
            if previous is not None and previous.verdict is not None
            else None
        )
        rolled = goals.roll_up(
            _goal(goal_config), states, as_of=today, previous=verdict, trials=trials
        )
        standing = goals.standing(rolled)
        standings[goal_config.key] = standing
        goal_docs.append(_goal_out(goal_config, rolled, goals.movement(standing, kept.week_ago)))
    dependencies, links, outcome_deps = _dependencies(config, present, states)
    infos = {p.key: crossprogram.ProgramInfo(p.key, p.name, p.owner) for p in config.programs}
    derived = {
        key: crossprogram.risks_for(key, dependencies, outcome_deps, infos) for key in present
    }
    people_doc = _people_out(config, present, now=now)
    contributes: dict[str, list[str]] = {}
    for g in config.goals:
        for c in g.contributors:
            listed = contributes.setdefault(c.program, [])
            if g.key not in listed:
                listed.append(g.key)
    tiles = [_tile(p, present.get(p.key), contributes.get(p.key, [])) for p in config.programs]
    portfolio = out.Portfolio(
        computed_at=now.astimezone(zone),
        as_of=today,
        timezone=config.portfolio.timezone,
        goals=goal_docs,
        programs=tiles,
        dependencies=out.Tally(
            count=len(links.dependencies), late=sum(1 for d in links.dependencies if d.late)
        ),
        outcome_links=out.Tally(
            count=len(links.outcome_links), late=sum(1 for d in links.outcome_links if d.late)
        ),
        people=out.PeopleTally(
            shared=sum(1 for p in people_doc.people if p.programs > 1),
            over_allocated=sum(1 for p in people_doc.people if p.over_allocated),
        ),
    )
    links.computed_at = now.astimezone(zone)
    return Built(portfolio, links, people_doc, derived, standings)


def _tile(
    config: ProgramConfig, part: out.PortfolioPart | None, goal_keys: list[str]
) -> out.ProgramTile:
    if part is None:
        targets = [o.target for o in config.outcomes if o.target]
        return out.ProgramTile(
            key=config.key,
            name=config.name,
            owner=config.owner,
            rag="grey",
            reason="No roll-up has been computed yet; one runs after every sync.",
            percent=0.0,
            target=max(targets, default=None),
            goals=goal_keys,
            computed=False,
        )
    return out.ProgramTile(
        key=config.key,
        name=config.name,
        owner=config.owner,
        rag=part.rag,
        reason=part.reason,
        percent=part.percent,
        progress_text=part.progress_text,
        done_count=part.done_count,
        scope_count=part.scope_count,
        target=part.target,
        p50=part.p50,
        p85=part.p85,
        probability_on_time=part.probability_on_time,
        movement=part.movement,
        week_ago=part.week_ago,
        goals=goal_keys,
    )


def _goal_out(
    config: GoalConfig, rolled: goals.GoalRollup, moved: goals.Movement | None
) -> out.GoalStatus:
    found = rolled.forecast
    verdict = rolled.rag.verdict
    decides = dict(found.deciding)

    def ref(pair: ItemRef) -> str:
        program, outcome = pair
        return f"{program}/{outcome}" if outcome else program

    return out.GoalStatus(
        key=config.key,
        name=config.name,
        owner=config.owner,
        description=config.description,
        period=out.Period(
            label=config.period.label, start=config.period.start, end=config.period.end
        ),
        as_of=rolled.as_of,
        rag=out.GoalRag(
            color=rolled.rag.color.value,
            reasons=[
                out.GoalReason(rule=r.rule, detail=r.detail, contributors=[ref(i) for i in r.items])
                for r in rolled.rag.reasons
            ],
            policy_version=rolled.rag.policy_version,
            forecast_verdict=verdict.shown.value if verdict else None,
            held=verdict.held if verdict else False,
        ),
        progress=out.GoalProgress(percent=rolled.percent, text=rolled.progress_text),
        forecast=out.GoalForecast(
            basis=found.basis,
            p50=found.p50.on if found.p50 else None,
            p85=found.p85.on if found.p85 else None,
            p95=found.p95.on if found.p95 else None,
            sampling_error_days=out.SamplingError(
                p50=found.p50.sampling_error_days if found.p50 else None,
                p85=found.p85.sampling_error_days if found.p85 else None,
                p95=found.p95.sampling_error_days if found.p95 else None,
            ),
            trials=found.trials,
        ),
        confidence=out.Confidence(
            probability=found.probability,
            error=found.error,
            against=config.period.end,
            covers=list(found.covers),
            left_out=[out.LeftOut(contributor=r, reason=why) for r, why in found.left_out],
            deciding=[out.Deciding(contributor=r, share=s) for r, s in decides.items()],
            text=found.text,
        ),
        movement=None
        if moved is None
        else out.GoalMovement(
            since=moved.since,
            rag_from=moved.color_from.value,
            percent_from=moved.percent_from,
            p85_from=moved.p85_from,
            probability_from=moved.probability_from,
            text=moved.text,
        ),
        contributors=[
            out.GoalContributor(
                ref=c.ref,
                kind="outcome" if c.outcome else "program",
                program=c.program,
                outcome=c.outcome,
                name=c.name,
                weight=c.weight,
                share=c.share,
                rag=c.color.value,
                percent=c.percent,
                done_count=c.done_count,
                scope_count=c.scope_count,
                target=c.target,
                forecast_basis=c.forecast,
                p50=c.p50,
                p85=c.p85,
                probability_on_time=c.probability,
                computed=c.computed,
            )
            for c in rolled.contributors
        ],
        key_results=[
            out.KeyResult(
                key=k.result.key,
                name=k.result.name,
                metric=k.result.metric.value,
                target=k.result.target,
                value=k.value,
                met=k.met,
                text=k.text,
                contributors=list(k.contributors),
            )
            for k in rolled.key_results
        ],
    )


def _boundary(program: str, b: out.PartBoundary) -> crossprogram.Boundary:
    def end(e: out.PartEnd) -> crossprogram.End:
        return crossprogram.End(
            (e.source, e.key), e.title, e.url, e.project, e.status_category, e.due_on, e.expected_on
        )

    late = (
        crossprogram.Lateness(LateReason(b.reason), b.detail or "", b.needed_on, b.expected_on)
        if b.late and b.reason
        else None
    )
    return crossprogram.Boundary(
        program=program,
        before=end(b.from_),
        after=end(b.to),
        inside="before" if b.inside == "from" else "after",
        late=late,
        critical=b.critical,
        outcomes=tuple(b.outcomes),
    )


def _dependencies(
    config: ThroughlineConfig,
    parts: Mapping[str, out.PortfolioPart],
    states: Mapping[str, goals.ProgramState],
) -> tuple[
    tuple[crossprogram.CrossDependency, ...],
    out.PortfolioDependencies,
    tuple[crossprogram.OutcomeDependency, ...],
]:
    boundaries = [_boundary(key, b) for key, part in parts.items() for b in part.boundaries]
    found = crossprogram.cross_dependencies(boundaries)
    links = tuple(
        crossprogram.OutcomeLink(p.key, o.key, d.program, d.outcome, d.needed_by)
        for p in config.programs
        for o in p.outcomes
        for d in o.depends_on
    )
    outcome_states = {(s.key, o.key): o for s in states.values() for o in s.outcomes}
    judged = crossprogram.outcome_dependencies(links, outcome_states)
    names = {p.key: p.name for p in config.programs}

    def end(e: crossprogram.End, programs: Sequence[str]) -> out.CrossEnd:
        return out.CrossEnd.model_construct(
            source=e.ref[0],
            key=e.ref[1],
            title=e.title,
            url=e.url,
            project=e.project,
            status_category=e.status_category,
            due_on=e.due_on,
            expected_on=e.expected_on,
            programs=list(programs),
        )

    def outcome_end(program: str, key: str, state: goals.OutcomeState | None) -> out.OutcomeEnd:
        if state is None:
            return out.OutcomeEnd(program=program, outcome=key, name=key)
        return out.OutcomeEnd(
            program=program,
            outcome=key,
            name=state.name,
            target=state.target,
            p85=state.p85,
            done=state.done,
        )

    document = out.PortfolioDependencies(
        programs=[
            out.ProgramNode(
                key=p.key,
                name=p.name,
                owner=p.owner,
                rag=parts[p.key].rag if p.key in parts else "grey",
            )
            for p in config.programs
        ],
        edges=[
            out.ProgramEdge(from_=e.before, to=e.after, count=e.count, late=e.late)
            for e in crossprogram.program_edges(found, judged)
            if e.before in names and e.after in names
        ],
        dependencies=[
            out.CrossDependency.model_construct(
                from_=end(d.before, d.owners),
                to=end(d.after, d.waiting),
                late=d.late is not None,
                reason=d.late.reason.value if d.late else None,
                detail=d.late.detail if d.late else None,
                needed_on=d.late.needed_on if d.late else None,
                expected_on=d.late.expected_on if d.late else d.before.expected_on,
                critical=bool(d.critical_for),
                cross_tracker=d.cross_tracker,
                outcomes=[f"{p}/{o}" for p, o in d.outcomes],
            )
            for d in sorted(found, key=lambda d: (d.late is None, d.before.ref, d.after.ref))
        ],
        outcome_links=[
            out.OutcomeLink(
                from_=outcome_end(j.link.on_program, j.link.on_outcome, j.on),
                to=outcome_end(j.link.program, j.link.outcome, j.waiting),
                needed_on=j.needed_on,
                expected_on=j.expected_on,
                late=j.late is not None,
                reason=j.late.reason.value if j.late else None,
                detail=j.late.detail if j.late else None,
            )
            for j in judged
        ],
    )
    return found, document, judged


def _people_out(
    config: ThroughlineConfig, parts: Mapping[str, out.PortfolioPart], *, now: datetime
) -> out.PortfolioPeople:
    loads = [
        workloads.Load(
            program=key,
            person=person.id,
            identities=tuple(people.Identity(i.source, i.name, i.email) for i in person.identities),
            wip=tuple(person.wip),
            remaining=tuple(person.remaining),
            estimates=tuple(person.estimates),
        )
        for key, part in parts.items()
        for person in part.people
    ]
    names = {p.key: p.name for p in config.programs}
    found = workloads.spread(
        loads,
        [people.KnownPerson(p.name, p.emails, p.aliases) for p in config.people],
        [people.Team(t.key, t.name, t.members, t.wip_limit) for t in config.teams],
        wip_limit=config.portfolio.wip_limit,
        default_limit=config.resources.wip_limit,
        max_programs=config.portfolio.max_programs,
        names=names,
    )

    def keys(refs: Sequence[ItemRef]) -> list[str]:
        return [k for _, k in refs[:LISTED]]

    zone = zoneinfo.ZoneInfo(config.portfolio.timezone)
    return out.PortfolioPeople(
        computed_at=now.astimezone(zone),
        max_programs=config.portfolio.max_programs,
        people=[
            out.PersonAcross.model_construct(
                id=p.id,
                name=p.name,
                team=p.team,
                names=list(p.names),
                sources=list(p.sources),
                programs=p.programs,
                wip=len(p.wip),
                remaining=len(p.remaining),
                estimate=p.estimate,
                wip_limit=p.wip_limit,
                over_allocated=bool(p.flags),
                flags=[
                    out.PersonFlag.model_construct(
                        rule=f.rule, detail=f.detail, items=keys(f.items)
                    )
                    for f in p.flags
                ],
                shares=[
                    out.ProgramShare.model_construct(
                        program=s.program,
                        name=names.get(s.program, s.program),
                        person=s.person,
                        wip=len(s.wip),
                        remaining=len(s.remaining),
                        estimate=s.estimate,
                        share=s.share,
                        wip_items=keys(s.wip),
                        remaining_items=keys(s.remaining),
                    )
                    for s in p.shares
                ],
                wip_items=keys(p.wip),
                remaining_items=keys(p.remaining),
            )
            for p in found
        ],
    )


# --- Loading, storing and reading -------------------------------------------------------


async def load_parts(
    session: AsyncSession, config: ThroughlineConfig
) -> dict[str, out.PortfolioPart]:
    """Every configured, active program's stored part (programs without one are left out)."""
    rows = await session.execute(
        select(ProgramRow.key, ProgramStatusRow.portfolio)
        .join(ProgramStatusRow, ProgramStatusRow.program_id == ProgramRow.id)
        .where(ProgramRow.active.is_(True), ProgramRow.key.in_([p.key for p in config.programs]))
    )
    found = {}
    for key, stored in rows.all():
        part = load(out.PortfolioPart, stored)
        if part is not None:
            found[key] = part
    return found


def _row_standing(row: GoalSnapshotRow) -> goals.Standing:
    return goals.Standing(
        on=row.taken_on,
        color=Color(row.rag),
        percent=row.percent,
        p85=row.p85_on,
        probability=row.probability_on_time,
        verdict=Color(row.verdict) if row.verdict else None,
        verdict_raw=Color(row.verdict_raw) if row.verdict_raw else None,
    )


async def load_history(
    session: AsyncSession, config: ThroughlineConfig, today: date
) -> dict[str, GoalHistory]:
    """Each goal's last day before ``today`` and its last day a week or more before."""
    keys = [g.key for g in config.goals]
    if not keys:
        return {}
    rows = await session.scalars(
        select(GoalSnapshotRow)
        .where(
            GoalSnapshotRow.goal_key.in_(keys),
            GoalSnapshotRow.taken_on < today,
            GoalSnapshotRow.taken_on >= today - timedelta(days=HISTORY_DAYS),
        )
        .order_by(GoalSnapshotRow.taken_on)
    )
    week = today - timedelta(days=7)
    found: dict[str, GoalHistory] = {}
    for row in rows:
        kept = found.get(row.goal_key, GoalHistory())
        standing = _row_standing(row)
        found[row.goal_key] = GoalHistory(
            previous=standing,
            week_ago=standing if row.taken_on <= week else kept.week_ago,
        )
    return found


def _today(config: ThroughlineConfig, now: datetime) -> date:
    return now.astimezone(zoneinfo.ZoneInfo(config.portfolio.timezone)).date()


@dataclass(slots=True)
class RebuildResult:
    stored: bool = False
    risks_opened: int = 0
    risks_closed: int = 0


async def rebuild(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    *,
    now: datetime,
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> RebuildResult:
    """Build the portfolio from every program's stored part and store it, with today's
    day of each goal and the cross-program risks of every program.

    A rebuild that finds a newer one stored already stores nothing.
    """
    result = RebuildResult()
    async with session_scope(read_sessionmaker or sessionmaker) as session:
        parts = await load_parts(session, config)
        history = await load_history(session, config, _today(config, now))
    built = await asyncio.to_thread(build, config, parts, history, now=now)
    async with session_scope(sessionmaker) as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key("portfolio")}
            )
        stored = dict(
            (
                await session.execute(
                    select(PortfolioDocumentRow.kind, PortfolioDocumentRow.computed_at)
                )
            ).all()
        )
        if any(at > now for at in stored.values()):
            return result
        fingerprint = digest(config)
        for kind, document in (
            (PORTFOLIO, built.portfolio),
            (DEPENDENCIES, built.dependencies),
            (PEOPLE, built.people),
        ):
            values = {
                "computed_at": now,
                "digest": fingerprint,
                "document": document.model_dump(mode="json", by_alias=True),
            }
            if kind in stored:
                await session.execute(
                    update(PortfolioDocumentRow)
                    .where(PortfolioDocumentRow.kind == kind)
                    .values(**values)
                )
            else:
                await session.execute(insert(PortfolioDocumentRow).values(kind=kind, **values))
        await _save_standings(session, built.standings, now=now)
        ids = dict(
            (
                await session.execute(
                    select(ProgramRow.key, ProgramRow.id).where(
                        ProgramRow.key.in_(list(built.risks))
                    )
                )
            ).all()
        )
        for key, derived in built.risks.items():
            tally = await risks.reconcile(session, ids[key], derived, now=now, rules=RULES)
            result.risks_opened += tally.opened
            result.risks_closed += tally.closed
    result.stored = True
    return result


async def _save_standings(
    session: AsyncSession, standings: Mapping[str, goals.Standing], *, now: datetime
) -> None:
    for key, s in standings.items():
        values: dict[str, Any] = {
            "taken_at": now,
            "rag": s.color.value,
            "percent": s.percent,
            "p85_on": s.p85,
            "probability_on_time": s.probability,
            "verdict": s.verdict.value if s.verdict else None,
            "verdict_raw": s.verdict_raw.value if s.verdict_raw else None,
        }
        existing = await session.scalar(
            select(GoalSnapshotRow.id).where(
                GoalSnapshotRow.goal_key == key, GoalSnapshotRow.taken_on == s.on
            )
        )
        if existing is None:
            await session.execute(
                insert(GoalSnapshotRow).values(goal_key=key, taken_on=s.on, **values)
            )
        else:
            await session.execute(
                update(GoalSnapshotRow).where(GoalSnapshotRow.id == existing).values(**values)
            )


D = TypeVar("D", out.Portfolio, out.PortfolioDependencies, out.PortfolioPeople)
_KINDS: dict[type[Any], str] = {
    out.Portfolio: PORTFOLIO,
    out.PortfolioDependencies: DEPENDENCIES,
    out.PortfolioPeople: PEOPLE,
}


_STORED = select(PortfolioDocumentRow.computed_at, PortfolioDocumentRow.digest).where(
    PortfolioDocumentRow.kind == bindparam("kind")
)


async def _document(
    session: AsyncSession,
    config: ThroughlineConfig,
    model: type[D],
    *,
    now: datetime,
    reads: StoredReads | None = None,
) -> D:
    """One stored document, or (stored under another configuration, or none stored yet)
    the documents built from the stored parts now. With ``reads``, a stored document is
    parsed once per rebuild (each rebuild stores it with its own ``computed_at``)."""
    kind = _KINDS[model]
    connection = await session.connection()
    row = (await connection.execute(_STORED, {"kind": kind})).one_or_none()
    if row is not None and row.digest == digest(config):
        version = f"{row.computed_at.isoformat()} {row.digest}"
        kept: D | None = reads.find(0, kind, version) if reads is not None else None
        if kept is not None:
            return kept
        found = load(
            model,
            await session.scalar(
                select(PortfolioDocumentRow.document).where(PortfolioDocumentRow.kind == kind)
            ),
        )
        if found is not None:
            if reads is not None:
                reads.keep(0, kind, version, found)
            return found
    parts = await load_parts(session, config)
    history = await load_history(session, config, _today(config, now))
    built = await asyncio.to_thread(build, config, parts, history, now=now)
    for document in (built.portfolio, built.dependencies, built.people):
        if isinstance(document, model):
            return document
    raise TypeError(f"no portfolio document is a {model.__name__}")


def _restricted(config: ThroughlineConfig) -> portfolio_access.Restricted:
    return portfolio_access.restricted(config, access.hidden_keys(config))


async def read_portfolio(
    session: AsyncSession, config: ThroughlineConfig, *, now: datetime
) -> out.Portfolio:
    """The portfolio as the current reader may see it."""
    found = await _document(session, config, out.Portfolio, now=now)
    return portfolio_access.portfolio(found, _restricted(config))


def goal_of(found: out.Portfolio, key: str) -> out.GoalStatus:
    """One goal of the portfolio, or ``NotFound``."""
    goal = next((g for g in found.goals if g.key == key), None)
    if goal is None:
        raise lookup.NotFound(f"There is no goal {key!r}.")
    return goal


async def read_goal(
    session: AsyncSession, config: ThroughlineConfig, key: str, *, now: datetime
) -> out.GoalStatus:
    return goal_of(await read_portfolio(session, config, now=now), key)


async def read_dependencies(
    session: AsyncSession,
    config: ThroughlineConfig,
    *,
    now: datetime,
    program: str | None = None,
    reads: StoredReads | None = None,
) -> out.PortfolioDependencies:
    """Dependencies between programs; with ``program``, those it waits on or holds up."""
    found = portfolio_access.dependencies(
        await _document(session, config, out.PortfolioDependencies, now=now, reads=reads),
        _restricted(config),
    )
    if program is None:
        return found
    return found.model_copy(
        update={
            "edges": [e for e in found.edges if program in (e.from_, e.to)],
            "dependencies": [
                d for d in found.dependencies if program in (*d.from_.programs, *d.to.programs)
            ],
            "outcome_links": [
                o for o in found.outcome_links if program in (o.from_.program, o.to.program)
            ],
            "restricted": [r for r in found.restricted if r.program == program],
        }
    )


async def read_people(
    session: AsyncSession,
    config: ThroughlineConfig,
    *,
    now: datetime,
    program: str | None = None,
    reads: StoredReads | None = None,
) -> out.PortfolioPeople:
    """People across programs; with ``program``, those with open work in it."""
    stored = await _document(session, config, out.PortfolioPeople, now=now, reads=reads)
    hidden = access.hidden_keys(config)
    held = portfolio_access.hidden_items(stored, portfolio_access.restricted(config, hidden))
    found = portfolio_access.people(stored, portfolio_access.restricted(config, hidden, held))
    if program is None:
        return found
    return found.model_copy(
        update={"people": [p for p in found.people if any(s.program == program for s in p.shares)]}
    )
