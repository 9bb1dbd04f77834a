"""Keeps the store's source, program and outcome rows in step with the configuration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.config import ThroughlineConfig
from app.store import records
from app.store.locks import advisory_key
from app.store.tables import OutcomeRow, ProgramRow, SourceRow


async def apply_config(
    session: AsyncSession, config: ThroughlineConfig, *, now: datetime
) -> dict[str, SourceRow]:
    """Upsert a row for every configured source, program and outcome.

    Programs and outcomes that left the file are marked inactive, not deleted: their
    snapshots, risks and reports stay in the archive. Replicas starting together apply
    the same file at once: on PostgreSQL they take turns (a transaction-scoped advisory
    lock), so none of them inserts a row another has just inserted; SQLite's writers
    take turns anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key("catalog")}
        )
    sources = {}
    for source in config.sources:
        options = source.model_dump(mode="json", exclude={"name", "kind", "url", "auth", "webhook"})
        sources[source.name] = await records.upsert_source(
            session,
            name=source.name,
            kind=source.kind,
            base_url=source.url,
            options=options,
            now=now,
        )
    existing = {
        p.key: p
        for p in await session.scalars(
            select(ProgramRow).options(selectinload(ProgramRow.outcomes))
        )
    }
    for program_config in config.programs:
        program = existing.pop(program_config.key, None)
        if program is None:
            program = ProgramRow(key=program_config.key, outcomes=[])
            session.add(program)
        program.name = program_config.name
        program.timezone = program_config.timezone
        program.baseline_on = program_config.baseline
        program.config = program_config.model_dump(mode="json", exclude={"outcomes"})
        program.active = True
        program.updated_at = now
        outcomes = {o.key: o for o in program.outcomes}
        for position, outcome_config in enumerate(program_config.outcomes):
            outcome = outcomes.pop(outcome_config.key, None)
            if outcome is None:
                outcome = OutcomeRow(key=outcome_config.key)
                program.outcomes.append(outcome)
            outcome.name = outcome_config.name
            outcome.position = position
            outcome.target_on = outcome_config.target
            outcome.weight = outcome_config.weight
            outcome.selectors = [m.model_dump(mode="json") for m in outcome_config.match]
            outcome.active = True
        for gone in outcomes.values():
            gone.active = False
    if existing:
        await session.execute(
            update(ProgramRow).where(ProgramRow.key.in_(list(existing))).values(active=False)
        )
    await session.flush()
    return sources
