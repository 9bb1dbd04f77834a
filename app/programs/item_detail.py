"""One item with everything around it: its dependencies both ways, its status history,
the outcomes it feeds and the data-quality checks that flagged it."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import and_, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig
from app.programs import access, documents, items, lookup, membership
from app.store.tables import ItemRow, LinkRow, ProgramItemRow, ProgramRow, SourceRow, TransitionRow


async def _find(session: AsyncSession, config: ThroughlineConfig, source: str, key: str) -> Any:
    """The item's row (a live one before a tombstone), with the list's columns and more;
    ``NotFound`` also for an item only a restricted program the reader may not see holds."""
    seen = await items.visible_clause(session, config)
    row = (
        await session.execute(
            items.with_project_names(
                select(
                    *items.COLUMNS,
                    ItemRow.external_id,
                    ItemRow.source_id,
                    ItemRow.section,
                    ItemRow.issue_type,
                    ItemRow.components,
                ).join(SourceRow, SourceRow.id == ItemRow.source_id)
            )
            .where(SourceRow.name == source, ItemRow.key == key)
            .where(seen if seen is not None else true())
            .order_by(ItemRow.deleted, ItemRow.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        raise lookup.NotFound(f"There is no item {key!r} in source {source!r}.")
    return row


async def _memberships(
    session: AsyncSession, config: ThroughlineConfig, source_id: int, key: str
) -> tuple[list[documents.Feeds], list[documents.Flag]]:
    rows = await session.execute(
        select(ProgramRow.key, ProgramItemRow.facet, ProgramItemRow.name)
        .join(ProgramRow, ProgramRow.id == ProgramItemRow.program_id)
        .where(ProgramItemRow.source_id == source_id, ProgramItemRow.key == key)
        .order_by(ProgramRow.key, ProgramItemRow.facet, ProgramItemRow.name)
    )
    feeds, flags = [], []
    for program_key, facet, name in rows:
        program = config.program(program_key)
        if program is None or not access.can_see(program):
            continue
        if facet == membership.CHECK:
            flags.append(documents.Flag(program=program_key, check=name))
            continue
        outcome = next((o for o in program.outcomes if o.key == name), None)
        if outcome is not None:
            feeds.append(
                documents.Feeds(
                    program=program_key,
                    program_name=program.name,
                    outcome=name,
                    outcome_name=outcome.name,
                )
            )
    return feeds, flags


async def _links(
    session: AsyncSession, config: ThroughlineConfig, source: str, key: str
) -> tuple[list[documents.LinkedItem], int]:
    """Both directions, each pair once (a link both ends report is stored twice), and how
    many links lead to items the reader may not see (counted, never named)."""
    rows = await session.execute(
        select(
            LinkRow.from_source,
            LinkRow.from_key,
            LinkRow.to_source,
            LinkRow.to_key,
            LinkRow.link_type,
        ).where(
            or_(
                and_(LinkRow.from_source == source, LinkRow.from_key == key),
                and_(LinkRow.to_source == source, LinkRow.to_key == key),
            )
        )
    )
    pairs: dict[tuple[str, str, str, str], str | None] = {}
    for from_source, from_key, to_source, to_key, link_type in rows:
        pairs.setdefault((from_source, from_key, to_source, to_key), link_type)
    others = {(ts, tk) if (fs, fk) == (source, key) else (fs, fk) for fs, fk, ts, tk in pairs} - {
        (source, key)
    }
    known: dict[tuple[str, str], tuple[str, str | None, str]] = {}
    restricted: set[tuple[str, str]] = set()
    if others:
        found = await session.execute(
            select(SourceRow.name, ItemRow.key, ItemRow.title, ItemRow.url, ItemRow.status_category)
            .join(SourceRow, SourceRow.id == ItemRow.source_id)
            .where(
                tuple_(SourceRow.name, ItemRow.key).in_(sorted(others)), ItemRow.deleted.is_(False)
            )
        )
        known = {(s, k): (t, u, c) for s, k, t, u, c in found}
        seen = await items.visible_clause(session, config)
        if seen is not None:
            shown = await session.execute(
                select(SourceRow.name, ItemRow.key)
                .join(SourceRow, SourceRow.id == ItemRow.source_id)
                .where(tuple_(SourceRow.name, ItemRow.key).in_(sorted(others)), seen)
            )
            restricted = set(known) - {(s, k) for s, k in shown}
    linked = []
    for (fs, fk, ts, tk), link_type in sorted(pairs.items()):
        outgoing = (fs, fk) == (source, key)
        other = (ts, tk) if outgoing else (fs, fk)
        if other in restricted:
            continue
        title, url, category = known.get(other, (None, None, None))
        linked.append(
            documents.LinkedItem(
                direction="blocks" if outgoing else "blocked_by",
                source=other[0],
                key=other[1],
                title=title,
                url=url,
                status_category=category,
                link_type=link_type,
                cross_tracker=other[0] != source,
            )
        )
    return linked, len(restricted)


async def read_item(
    session: AsyncSession,
    config: ThroughlineConfig,
    source: str,
    key: str,
    *,
    program: str | None = None,
) -> documents.ItemDetail:
    """An item's page. Times are in ``program``'s zone, else in the zone of the only
    program it feeds, else in UTC."""
    item = await _find(session, config, source, key)
    feeds, flags = await _memberships(session, config, item.source_id, item.key)
    zone_name = "UTC"
    chosen = config.program(program) if program else None
    if chosen is not None and not access.can_see(chosen):
        chosen = None
    if chosen is not None:
        zone_name = chosen.timezone
    elif len({f.program for f in feeds}) == 1:
        found = config.program(feeds[0].program)
        zone_name = found.timezone if found else "UTC"
    zone: tzinfo = UTC if zone_name == "UTC" else zoneinfo.ZoneInfo(zone_name)
    linked, restricted = await _links(session, config, source, item.key)
    history = await session.scalars(
        select(TransitionRow)
        .where(
            TransitionRow.source_id == item.source_id,
            TransitionRow.item_external_id == item.external_id,
        )
        .order_by(TransitionRow.at, TransitionRow.id)
    )
    parent_title = (
        await session.scalar(
            select(ItemRow.title)
            .where(ItemRow.source_id == item.source_id, ItemRow.key == item.parent_key)
            .order_by(ItemRow.deleted, ItemRow.id.desc())
            .limit(1)
        )
        if item.parent_key
        else None
    )
    return documents.ItemDetail(
        item=items.to_out(item, zone),
        parent_title=parent_title,
        section=item.section,
        issue_type=item.issue_type,
        components=list(item.components or ()),
        timezone=zone_name,
        links=linked,
        restricted_links=restricted,
        history=[
            documents.StatusChange(
                at=t.at.astimezone(zone),
                from_=t.from_status,
                to=t.to_status,
                from_category=t.from_category,
                to_category=t.to_category,
                author=t.author,
            )
            for t in history
        ],
        feeds=feeds,
        flags=flags,
    )
