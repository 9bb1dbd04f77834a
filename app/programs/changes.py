"""What changed in a program since a date: two stored snapshots compared, with the
items, risks and dependencies behind every change."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig
from app.programs import documents, snapshots
from app.programs.lookup import ConfiguredProgram, NotFound, get_program
from app.store.tables import ItemRow, RiskEventRow, RiskRow, SourceRow
from rollup.change import Changes, State, diff
from rollup.change import RiskEvent as ChangeEvent
from rollup.model import ItemRef

_CHUNK = 500


async def _events(
    session: AsyncSession, program_id: int, *, after: date, zone: zoneinfo.ZoneInfo
) -> list[ChangeEvent]:
    start = datetime.combine(after + timedelta(days=1), time(), tzinfo=zone)
    rows = await session.execute(
        select(RiskEventRow.at, RiskEventRow.kind, RiskRow)
        .join(RiskRow, RiskRow.id == RiskEventRow.risk_id)
        .where(RiskEventRow.program_id == program_id, RiskEventRow.at >= start)
        .order_by(RiskEventRow.at, RiskEventRow.id)
    )
    return [
        ChangeEvent(
            risk_id=risk.id,
            on=at.astimezone(zone).date(),
            kind=kind,
            rule=risk.rule,
            title=risk.title,
            severity=risk.severity,
            items=tuple(risk.items or ()),
        )
        for at, kind, risk in rows
    ]


async def _titles(
    session: AsyncSession, refs: Iterable[ItemRef]
) -> dict[ItemRef, tuple[str, str | None]]:
    """Title and link of every item named (deleted ones too: they were there before)."""
    by_source: dict[str, list[str]] = {}
    for source, key in sorted(set(refs)):
        by_source.setdefault(source, []).append(key)
    found: dict[ItemRef, tuple[str, str | None]] = {}
    for source, keys in by_source.items():
        for start in range(0, len(keys), _CHUNK):
            stmt = (
                select(ItemRow.key, ItemRow.title, ItemRow.url)
                .join(SourceRow, SourceRow.id == ItemRow.source_id)
                .where(SourceRow.name == source, ItemRow.key.in_(keys[start : start + _CHUNK]))
            )
            for key, title, url in await session.execute(stmt):
                found[(source, key)] = (title, url)
    return found


def _out(
    changes: Changes,
    since: date,
    titles: dict[ItemRef, tuple[str, str | None]],
    names: dict[str, str],
) -> documents.Changes:
    def item(ref: ItemRef) -> dict[str, object]:
        title, url = titles.get(ref, (ref[1], None))
        return {
            "source": ref[0],
            "key": ref[1],
            "title": title,
            "url": url,
            "outcomes": list(changes.outcomes.get(ref, ())),
        }

    def risk(e: ChangeEvent) -> documents.RiskChange:
        return documents.RiskChange(
            id=e.risk_id,
            rule=e.rule,
            title=e.title,
            severity=e.severity,
            on=e.on,
            items=list(e.items),
        )

    return documents.Changes(
        since=since,
        base_on=changes.since,
        until=changes.until,
        completed=[documents.ChangedItem(**item(r)) for r in changes.completed],
        added=[documents.ChangedItem(**item(r)) for r in changes.added],
        removed=[documents.ChangedItem(**item(r)) for r in changes.removed],
        due_changes=[
            documents.DateChange(**item(c.ref), from_=c.before, to=c.after, days=c.days)
            for c in changes.due_changes
        ],
        forecast_changes=[
            documents.ForecastChange(
                outcome=c.key or None,
                outcome_name=names.get(c.key),
                p50_from=c.p50_before,
                p50_to=c.p50_after,
                p85_from=c.p85_before,
                p85_to=c.p85_after,
            )
            for c in changes.forecast_changes
        ],
        status_flips=[
            documents.StatusFlip(**item(f.ref), from_=f.before.value, to=f.after.value)
            for f in changes.status_flips
        ],
        rag_changes=[
            documents.RagChange(
                outcome=c.key or None,
                outcome_name=names.get(c.key),
                from_=c.before.value,
                to=c.after.value,
            )
            for c in changes.rag_changes
        ],
        risks_opened=[risk(e) for e in changes.risks_opened],
        risks_closed=[risk(e) for e in changes.risks_closed],
        dependencies_added=[
            documents.DependencyChange(from_=a[1], to=b[1]) for a, b in changes.dependencies_added
        ],
        dependencies_removed=[
            documents.DependencyChange(from_=a[1], to=b[1]) for a, b in changes.dependencies_removed
        ],
        new_late_dependencies=[
            documents.DependencyChange(from_=a[1], to=b[1]) for a, b in changes.newly_late
        ],
    )


async def changes_since(
    session: AsyncSession, config: ThroughlineConfig, key: str, since: date
) -> documents.Changes:
    """What changed between the end of ``since`` and the latest snapshot.

    When there is no snapshot as old as ``since``, the first one stands in and
    ``base_on`` says so.
    """
    program = await get_program(session, config, key)
    latest = await snapshots.load_state(session, program.id, on_or_before=None)
    if latest is None:
        raise NotFound(f"Program {key!r} has no snapshots yet; they start with its first roll-up.")
    base = await snapshots.load_state(session, program.id, on_or_before=since)
    if base is None:
        first = await snapshots.first_day(session, program.id)
        base = await snapshots.load_state(session, program.id, on_or_before=first)
    assert base is not None  # a latest snapshot exists, so a first one does
    return await compare(session, program, base, latest, since=since)


async def compare(
    session: AsyncSession, program: ConfiguredProgram, base: State, latest: State, *, since: date
) -> documents.Changes:
    """What changed from one stored state of a program to another, with the items,
    risks and dependencies behind each change; ``since`` is the day that was asked for."""
    events = await _events(session, program.id, after=base.on, zone=program.zone)
    changes = diff(base, latest, events)
    named = [
        *changes.completed,
        *changes.added,
        *changes.removed,
        *(c.ref for c in changes.due_changes),
        *(f.ref for f in changes.status_flips),
    ]
    names = {o.key: o.name for o in program.config.outcomes}
    return _out(changes, since, await _titles(session, named), names)
