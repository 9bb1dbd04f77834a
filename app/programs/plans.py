"""The roadmap and resources of a program: computed with every recomputation, read as
lookups, the roadmap's baseline read from the day's snapshot asked for.

``compute`` runs inside the recomputation's worker thread (pure: ``rollup.roadmap``,
``rollup.people`` and ``rollup.resources``); the documents it returns are stored beside
the program's status.
"""

from __future__ import annotations

import itertools
import random
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig
from app.programs import documents, lookup, snapshots
from app.store import records
from app.store.tables import ProgramStatusRow, SnapshotRow
from rollup import people, resources, roadmap, teams
from rollup.model import ItemRef
from rollup.status import ProgramRollup

LISTED = 100
"""Item keys listed per figure; the items page lists them all."""


@dataclass(frozen=True, slots=True)
class Staff:
    """What the configuration says about people: who is who, teams, limits."""

    known: tuple[people.KnownPerson, ...] = ()
    teams: tuple[people.Team, ...] = ()
    wip_limit: int = 3
    weeks: int = 6

    @classmethod
    def of(cls, config: ThroughlineConfig) -> Staff:
        return cls(
            known=tuple(people.KnownPerson(p.name, p.emails, p.aliases) for p in config.people),
            teams=tuple(people.Team(t.key, t.name, t.members, t.wip_limit) for t in config.teams),
            wip_limit=config.resources.wip_limit,
            weeks=config.resources.throughput_weeks,
        )


@dataclass(frozen=True, slots=True)
class Plans:
    roadmap: documents.Roadmap
    resources: documents.Resources
    bars: dict[str, list[str | None]]
    """What today's snapshot keeps of the roadmap, to draw later baselines."""


def compute(
    rollup: ProgramRollup, staff: Staff, *, zone: zoneinfo.ZoneInfo, seed: int, now: datetime
) -> Plans:
    """The roadmap and resources documents of one roll-up."""
    units = {c.item.ref: c.item for o in rollup.outcomes for c in o.progress.contributors}
    directory = people.match(people.identities(units.values()), staff.known, staff.teams)
    key = rollup.program.key
    rng = random.Random(f"{key}:{seed}:plans")  # noqa: S311 (simulation, not secrets)
    plan = roadmap.build(rollup, zone=zone, rng=rng)
    forecasts = teams.team_forecasts(
        rollup, directory, {t.key: t.name for t in staff.teams}, zone=zone, rng=rng
    )
    allocation = resources.allocate(
        rollup, directory, staff.teams, zone=zone, weeks=staff.weeks, wip_limit=staff.wip_limit
    )
    computed_at = now.astimezone(zone)
    team_outs = [forecast_out(f) for f in forecasts]
    roadmap_doc = roadmap_out(key, plan, team_outs, computed_at=computed_at)
    resources_doc = documents.Resources(
        key=key,
        as_of=allocation.as_of,
        computed_at=computed_at,
        week_starts=list(allocation.week_starts),
        people=[workload_out(w, directory.by_id.get(w.key)) for w in allocation.people],
        teams=[workload_out(w, None) for w in allocation.teams],
        unassigned=[
            documents.UnassignedOut(
                outcome=u.outcome,
                remaining=len(u.remaining),
                estimate=u.estimate,
                unestimated=u.unestimated,
                items=_keys(u.remaining),
            )
            for u in allocation.unassigned
        ],
        forecasts=team_outs,
    )
    return Plans(
        roadmap=roadmap_doc,
        resources=resources_doc,
        bars=roadmap.baseline_data(plan),
    )


def _keys(refs: Iterable[ItemRef]) -> list[str]:
    return [key for _, key in itertools.islice(refs, LISTED)]


def forecast_out(found: teams.TeamForecast) -> documents.TeamForecast:
    return documents.TeamForecast(
        outcome=found.outcome,
        basis=found.basis,
        p50=found.p50,
        p85=found.p85,
        probability_on_time=found.probability_on_time,
        deciding=found.deciding,
        shares=[
            documents.TeamShare(
                key=s.key,
                name=s.name,
                remaining=s.remaining,
                completed=s.completed,
                basis=s.basis,
                p50=s.p50,
                p85=s.p85,
                decides=s.decides,
            )
            for s in found.shares
        ],
    )


def workload_out(load: resources.Workload, person: people.Person | None) -> documents.Workload:
    return documents.Workload(
        id=load.key,
        name=load.name,
        team=load.team,
        members=list(load.members),
        names=list(person.names) if person else [],
        sources=list(person.sources) if person else [],
        wip=len(load.wip),
        wip_items=_keys(load.wip),
        remaining=len(load.remaining),
        remaining_items=_keys(load.remaining),
        estimate=load.estimate,
        unestimated=load.unestimated,
        by_project=[documents.ShareOut(**_share(s)) for s in load.by_project],
        by_outcome=[documents.ShareOut(**_share(s)) for s in load.by_outcome],
        throughput=list(load.throughput),
        critical=[
            documents.CriticalHold(outcome=o, items=_keys(refs)) for o, refs in load.critical
        ],
        wip_limit=load.wip_limit,
        flags=[
            documents.FlagOut(rule=f.rule, detail=f.detail, items=_keys(f.items))
            for f in load.flags
        ],
    )


def _share(share: resources.Share) -> dict[str, Any]:
    return {
        "name": share.name,
        "wip": share.wip,
        "remaining": share.remaining,
        "estimate": share.estimate,
    }


def roadmap_out(
    key: str,
    plan: roadmap.Roadmap,
    teams: Sequence[documents.TeamForecast],
    *,
    computed_at: datetime,
) -> documents.Roadmap:
    by_outcome = {t.outcome: t for t in teams}
    return documents.Roadmap(
        key=key,
        as_of=plan.as_of,
        computed_at=computed_at,
        outcomes=[
            documents.RoadmapOutcome(
                key=lane.key,
                name=lane.name,
                target=lane.target,
                p50=lane.p50,
                p85=lane.p85,
                forecast_basis=lane.forecast_basis,
                rag=lane.rag,
                teams=by_outcome.get(lane.key),
            )
            for lane in plan.lanes
        ],
        bars=[
            documents.RoadmapBar(
                id=b.id,
                kind=b.kind,
                source=b.source,
                key=b.key,
                title=b.title,
                url=b.url,
                project=b.project,
                outcome=b.outcome,
                outcomes=list(b.outcomes),
                scope=b.scope,
                done=b.done,
                start=b.start,
                start_basis=b.start_basis,
                due=b.due,
                due_basis=b.due_basis,
                finished_on=b.finished_on,
                p50=b.p50,
                p85=b.p85,
                forecast_basis=b.forecast_basis,
                late=b.late,
                critical=b.critical,
            )
            for b in plan.bars
        ],
        milestones=[
            documents.RoadmapMilestone(
                source=m.ref[0],
                key=m.ref[1],
                title=m.title,
                url=m.url,
                due_on=m.due,
                done=m.done,
                outcome=m.outcome,
                bar=m.bar,
            )
            for m in plan.milestones
        ],
        links=[
            documents.RoadmapLink(from_=x.before, to=x.after, count=x.count, late=x.late)
            for x in plan.links
        ],
    )


async def project_names(session: AsyncSession) -> dict[str, str]:
    """``source/project`` → name: Asana projects are gids, named as the tracker names them."""
    return await records.project_names(session)


async def read_resources(
    session: AsyncSession,
    config: ThroughlineConfig,
    key: str,
    reads: lookup.StoredReads | None = None,
) -> documents.Resources:
    """Who carries the program's work, as the last recomputation found."""
    program = await lookup.get_program(session, config, key, reads)
    found = await lookup.stored_document(
        session, program.id, "resources", documents.Resources, reads
    )
    return (found or documents.Resources(key=key)).model_copy(
        update={"project_names": await project_names(session)}
    )


async def read_roadmap(
    session: AsyncSession, config: ThroughlineConfig, key: str, *, baseline_on: date | None
) -> documents.Roadmap:
    """The roadmap as last computed, with the baseline of ``baseline_on`` (else of the
    program's baseline date, else of its first snapshot) beneath it."""
    program = await lookup.get_program(session, config, key)
    document = await session.scalar(
        select(ProgramStatusRow.roadmap).where(ProgramStatusRow.program_id == program.id)
    )
    found = documents.load(documents.Roadmap, document)
    if found is None:
        return documents.Roadmap(
            key=key,
            outcomes=[
                documents.RoadmapOutcome(
                    key=o.key,
                    name=o.name,
                    target=o.target,
                    forecast_basis="not_computed",
                    rag="grey",
                )
                for o in program.config.outcomes
            ],
        )
    names = await project_names(session)
    for bar in found.bars:
        bar.project_name = names.get(f"{bar.source}/{bar.project}")
    asked, origin = (
        (baseline_on, "chosen")
        if baseline_on is not None
        else (program.config.baseline, "program")
        if program.config.baseline is not None
        else (None, "first_snapshot")
    )
    day = (
        await snapshots.first_day(session, program.id)
        if asked is None
        else await snapshots.last_day(session, program.id, on_or_before=asked)
    )
    if day is None:
        found.baseline = documents.Baseline(on=None, asked=asked, origin=origin, bars=0)
        return found
    bars, outcomes = await _baseline_rows(session, program.id, day)
    found.baseline = documents.Baseline(on=day, asked=asked, origin=origin, bars=len(bars))
    return with_baseline(found, bars, outcomes)


async def _baseline_rows(
    session: AsyncSession, program_id: int, day: date
) -> tuple[dict[str, roadmap.BaselineBar], dict[str, documents.BaselineDates]]:
    rows = await session.execute(
        select(
            SnapshotRow.outcome_key,
            SnapshotRow.forecast_p50_on,
            SnapshotRow.forecast_p85_on,
            SnapshotRow.data["bars"],
        ).where(SnapshotRow.program_id == program_id, SnapshotRow.taken_on == day)
    )
    bars: dict[str, roadmap.BaselineBar] = {}
    outcomes: dict[str, documents.BaselineDates] = {}
    for outcome_key, p50, p85, kept in rows:
        if outcome_key == "":
            bars = roadmap.baseline_of(kept) if isinstance(kept, Mapping) else {}
        else:
            outcomes[outcome_key] = documents.BaselineDates(p50=p50, p85=p85)
    return bars, outcomes


def with_baseline(
    found: documents.Roadmap,
    bars: Mapping[str, roadmap.BaselineBar],
    outcomes: Mapping[str, documents.BaselineDates],
) -> documents.Roadmap:
    """Each bar and outcome with its baseline dates, and how far each bar's end slipped."""
    for bar in found.bars:
        kept = bars.get(bar.id)
        if kept is None:
            continue
        start, due, p50, p85 = kept
        bar.baseline = documents.BaselineDates(start=start, due=due, p50=p50, p85=p85)
        # One basis per bar, said beside the number: forecast against forecast, or (when
        # either side has none) due date against due date — never one against the other.
        now_end = bar.finished_on or bar.p85
        if now_end is not None and p85 is not None:
            bar.slip_days, bar.slip_basis = (now_end - p85).days, "p85"
        elif bar.due is not None and due is not None:
            bar.slip_days, bar.slip_basis = (bar.due - due).days, "due"
    for outcome in found.outcomes:
        outcome.baseline = outcomes.get(outcome.key)
    return found
