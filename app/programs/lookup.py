"""Reading programs' roll-ups: lookups of what the last recomputation stored.

Nothing here recomputes. Risk counts and the freshness of each source change between
recomputations, so they are read alongside the stored document; everything else is the
document as stored.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ProgramConfig, ThroughlineConfig
from app.programs import access, documents, risks
from app.store.tables import OutcomeStatusRow, ProgramRow, ProgramStatusRow, SourceRow, SyncRunRow
from vocabulary import RunStatus

NOT_COMPUTED = documents.Reason(
    rule="not_computed",
    detail="No roll-up has been computed yet; one runs after every sync.",
)


class NotFound(LookupError):
    """What was asked for does not exist; the message says what, in plain words."""


@dataclass(frozen=True, slots=True)
class ConfiguredProgram:
    id: int
    config: ProgramConfig

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.config.timezone)


async def get_program(
    session: AsyncSession, config: ThroughlineConfig, key: str
) -> ConfiguredProgram:
    """A configured program and its row id, or ``NotFound`` (also for a program the
    current reader may not see: to them it does not exist)."""
    program_config = config.program(key)
    if program_config is None or not access.can_see(program_config):
        raise NotFound(f"There is no program {key!r}.")
    program_id = await session.scalar(
        select(ProgramRow.id).where(ProgramRow.key == key, ProgramRow.active.is_(True))
    )
    if program_id is None:
        raise NotFound(f"There is no program {key!r}.")
    return ConfiguredProgram(program_id, program_config)


async def _freshness(
    session: AsyncSession, programs: Sequence[ProgramConfig], *, now: datetime
) -> dict[str, list[documents.SourceFreshness]]:
    """The last good sync of every source each program reads, how old it is, and how the
    latest run (good or not) ended."""
    wanted = sorted({m.source for p in programs for o in p.outcomes for m in o.match})
    last = (
        select(SyncRunRow.source_id, func.max(SyncRunRow.finished_at).label("at"))
        .where(SyncRunRow.status.in_((RunStatus.SUCCEEDED, RunStatus.PARTIAL)))
        .group_by(SyncRunRow.source_id)
        .subquery()
    )
    rows = await session.execute(
        select(SourceRow.name, last.c.at)
        .outerjoin(last, last.c.source_id == SourceRow.id)
        .where(SourceRow.name.in_(wanted))
    )
    synced: dict[str, datetime | None] = dict(rows.all())
    latest_runs = select(func.max(SyncRunRow.id)).group_by(SyncRunRow.source_id)
    statuses = dict(
        (
            await session.execute(
                select(SourceRow.name, SyncRunRow.status)
                .join(SourceRow, SourceRow.id == SyncRunRow.source_id)
                .where(SyncRunRow.id.in_(latest_runs), SourceRow.name.in_(wanted))
            )
        ).all()
    )
    found = {}
    for program in programs:
        zone = zoneinfo.ZoneInfo(program.timezone)
        listed = []
        for name in sorted({m.source for o in program.outcomes for m in o.match}):
            at = synced.get(name)
            listed.append(
                documents.SourceFreshness(name=name, last_status=statuses.get(name))
                if at is None
                else documents.SourceFreshness(
                    name=name,
                    last_sync_at=at.astimezone(zone),
                    last_status=statuses.get(name),
                    age_seconds=round((now - at).total_seconds(), 1),
                )
            )
        found[program.key] = listed
    return found


def _placeholder(config: ProgramConfig) -> documents.ProgramStatus:
    """What a program shows before its first recomputation: grey, and why."""
    grey = documents.Rag(color="grey", reasons=[NOT_COMPUTED])
    nothing = documents.Progress(
        done=0, total=0, percent=0, basis=config.progress_basis, unestimated=0
    )
    targets = [o.target for o in config.outcomes if o.target]
    return documents.ProgramStatus(
        key=config.key,
        name=config.name,
        timezone=config.timezone,
        rag=grey,
        progress=nothing,
        target=max(targets, default=None),
        forecast=documents.Forecast(basis="not_computed"),
        risk_counts=documents.RiskCounts(),
        freshness=documents.Freshness(),
        outcomes=[
            documents.OutcomeStatus(
                key=o.key,
                name=o.name,
                target=o.target,
                weight=o.weight,
                rag=grey,
                progress=nothing.model_copy(
                    update={"basis": o.progress_basis or config.progress_basis}
                ),
                forecast=documents.Forecast(basis="not_computed"),
            )
            for o in config.outcomes
        ],
        data_quality=documents.DataQuality(score=None),
    )


async def _summaries(
    session: AsyncSession, config: ThroughlineConfig, *, now: datetime
) -> list[documents.ProgramSummary]:
    """Every active program's summary, read straight from its stored document (the
    outcomes and lists a summary leaves out are never parsed)."""
    rows = dict(
        (
            await session.execute(
                select(ProgramRow.key, ProgramRow.id).where(ProgramRow.active.is_(True))
            )
        ).all()
    )
    programs = [p for p in access.visible(config.programs) if p.key in rows]
    stored = dict(
        (
            await session.execute(
                select(ProgramStatusRow.program_id, ProgramStatusRow.status).where(
                    ProgramStatusRow.program_id.in_(list(rows.values()))
                )
            )
        ).all()
    )
    counts = await risks.count_open(session, rows.values())
    fresh = await _freshness(session, programs, now=now)
    found = []
    for program in programs:
        program_id = rows[program.key]
        document = stored.get(program_id)
        status = documents.load(documents.ProgramSummary, document) or _placeholder(program)
        zone = zoneinfo.ZoneInfo(program.timezone)
        status.risk_counts = counts[program_id]
        status.freshness.sources = fresh[program.key]
        if status.freshness.computed_at is not None:
            status.freshness.computed_at = status.freshness.computed_at.astimezone(zone)
        found.append(status)
    return found


async def list_programs(
    session: AsyncSession, config: ThroughlineConfig, *, now: datetime
) -> documents.ProgramList:
    """Every active program, summarised."""
    return documents.ProgramList(programs=await _summaries(session, config, now=now))


async def read_status(
    session: AsyncSession, config: ThroughlineConfig, key: str, *, now: datetime
) -> documents.ProgramStatus:
    """One program's status as last computed, with today's risk counts and freshness."""
    program = await get_program(session, config, key)
    document = await session.scalar(
        select(ProgramStatusRow.status).where(ProgramStatusRow.program_id == program.id)
    )
    status = documents.load(documents.ProgramStatus, document) or _placeholder(program.config)
    status.risk_counts = (await risks.count_open(session, [program.id]))[program.id]
    status.freshness.sources = (await _freshness(session, [program.config], now=now))[key]
    if status.freshness.computed_at is not None:
        status.freshness.computed_at = status.freshness.computed_at.astimezone(program.zone)
    return status


async def read_outcome(
    session: AsyncSession, config: ThroughlineConfig, key: str, outcome_key: str
) -> documents.OutcomeStatus:
    """One outcome with every contributor behind its figures."""
    program = await get_program(session, config, key)
    outcome = next((o for o in program.config.outcomes if o.key == outcome_key), None)
    if outcome is None:
        raise NotFound(f"Program {key!r} has no outcome {outcome_key!r}.")
    document = await session.scalar(
        select(OutcomeStatusRow.status).where(
            OutcomeStatusRow.program_id == program.id, OutcomeStatusRow.outcome_key == outcome_key
        )
    )
    found = documents.load(documents.OutcomeStatus, document)
    if found is None:
        placeholder = _placeholder(program.config)
        return next(o for o in placeholder.outcomes if o.key == outcome_key)
    return found


async def read_dependencies(
    session: AsyncSession, config: ThroughlineConfig, key: str
) -> documents.Dependencies:
    program = await get_program(session, config, key)
    document = await session.scalar(
        select(ProgramStatusRow.dependencies).where(ProgramStatusRow.program_id == program.id)
    )
    found = documents.load(documents.Dependencies, document)
    return found or documents.Dependencies(nodes=[], edges=[], cycles=[], critical_path=[])
