"""What a change touches: the programs a batch of changed items can move, and the items a
recomputation of only those programs has to load.

A sync page or a webhook batch names the items it stored. A program is touched when one of
them

- counts in it now (a stored ``program_item`` row: it may have left, or changed),
- would be selected by one of its outcomes as it is stored now (it may have entered),
- sits in a project of the program (its unmapped work, or a project a selector names),
- is the parent of an item counted in it (a story becoming a container, an epic renamed),
- or is linked, directly or through other links, to an item counted in it (a dependency
  from the program onto the changed item: chains, late dependencies, the dependency map).

Only those programs are recomputed, and they load only their own items with what those
items need around them (``load_items``); the portfolio is rebuilt from every program's
stored part as before.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Text, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ProgramConfig, ThroughlineConfig
from app.programs import loading
from app.store.tables import ItemRow, LinkRow, ProgramItemRow, ProgramRow
from rollup.mapping import ItemIndex
from rollup.model import Dependency, ItemRef, WorkItem

_CHUNK = 4_000
"""Keys per IN list: few round trips, well under SQLite's and PostgreSQL's parameter limits."""

SCOPED_UP_TO = 5_000
"""Changes of more items than this recompute every program reading their sources: telling
which programs so many items touch costs more than it saves."""

Changed = Mapping[str, Collection[str]]
"""Source name → keys of the items a sync or a webhook batch stored."""


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _strings(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text and text not in ("[]", "null") else ()


def _by_source(refs: Iterable[ItemRef]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for source, key in refs:
        found.setdefault(source, []).append(key)
    return {source: sorted(keys) for source, keys in found.items()}


async def keys_of(session: AsyncSession, source_id: int, external_ids: Iterable[str]) -> list[str]:
    """The keys of a source's items named by their tracker ids (deleted ones too)."""
    found: list[str] = []
    for chunk in _chunks(sorted(set(external_ids))):
        found += (
            await session.scalars(
                select(ItemRow.key).where(
                    ItemRow.source_id == source_id, ItemRow.external_id.in_(chunk)
                )
            )
        ).all()
    return found


async def keys_synced_since(session: AsyncSession, source_id: int, since: datetime) -> list[str]:
    """Keys of the source's items a sync stored at or after ``since``."""
    return list(
        (
            await session.scalars(
                select(ItemRow.key).where(
                    ItemRow.source_id == source_id, ItemRow.synced_at >= since
                )
            )
        ).all()
    )


async def linked(session: AsyncSession, refs: Iterable[ItemRef]) -> set[ItemRef]:
    """Every item joined to ``refs`` by ``blocks`` links, however far (refs included)."""
    found = set(refs)
    frontier = set(found)
    while frontier:
        reached: set[ItemRef] = set()
        for source, keys in _by_source(frontier).items():
            for chunk in _chunks(keys):
                rows = await session.execute(
                    select(
                        LinkRow.from_source, LinkRow.from_key, LinkRow.to_source, LinkRow.to_key
                    ).where(
                        LinkRow.kind == "blocks",
                        or_(
                            and_(LinkRow.from_source == source, LinkRow.from_key.in_(chunk)),
                            and_(LinkRow.to_source == source, LinkRow.to_key.in_(chunk)),
                        ),
                    )
                )
                for from_source, from_key, to_source, to_key in rows:
                    reached.add((from_source, from_key))
                    reached.add((to_source, to_key))
        frontier = reached - found
        found |= frontier
    return found


async def touched_programs(
    session: AsyncSession, config: ThroughlineConfig, changed: Changed
) -> set[str]:
    """Keys of the programs a change to these items can move (see the module's note)."""
    names = await loading.source_names(session)
    ids = {name: i for i, name in names.items()}
    refs = {(s, k) for s, keys in changed.items() if s in ids for k in keys}
    if not refs:
        return set()
    # The changed items as stored now (deleted ones too), and their ancestors: an epic
    # selector chooses what lies below the epic.
    facts: dict[ItemRef, tuple[str | None, tuple[str, ...], str | None]] = {}
    live: list[WorkItem] = []
    wanted = set(refs)
    asked: set[ItemRef] = set()
    while wanted:
        # A parent the store does not hold (not synced yet, or in a project not read) is
        # asked for once: it never turns up in ``facts``.
        asked |= wanted
        for source, keys in _by_source(wanted).items():
            for chunk in _chunks(keys):
                rows = await session.execute(
                    select(
                        ItemRow.key,
                        ItemRow.project,
                        cast(ItemRow.projects, Text),
                        ItemRow.parent_key,
                    ).where(ItemRow.source_id == ids[source], ItemRow.key.in_(chunk))
                )
                for key, project, homes, parent in rows:
                    facts[(source, key)] = (project, _strings(homes), parent)
                live += await loading.load_items_where(
                    session, names, ids[source], ItemRow.key.in_(chunk)
                )
        wanted = {
            (source, parent)
            for (source, _), (_, _, parent) in facts.items()
            if parent is not None
            and (source, parent) not in facts
            and (source, parent) not in asked
        }
    index = ItemIndex(live)
    projects = {
        (source, p)
        for (source, key), (project, others, _) in facts.items()
        if (source, key) in refs
        for p in (*((project,) if project else ()), *others)
    }
    touched = {p.key for p in config.programs if _selects(p, index, refs, projects)}
    around = await linked(session, refs) | set(facts)
    program_ids: set[int] = set()
    for source, keys in _by_source(around).items():
        for chunk in _chunks(keys):
            program_ids.update(
                (
                    await session.scalars(
                        select(ProgramItemRow.program_id)
                        .where(
                            ProgramItemRow.source_id == ids[source], ProgramItemRow.key.in_(chunk)
                        )
                        .distinct()
                    )
                ).all()
            )
    # Programs counting a child of a changed item, or an item in a changed item's project.
    for source, keys in _by_source(refs).items():
        in_projects = sorted({p for s, p in projects if s == source})
        for chunk in _chunks(keys):
            program_ids.update(
                (
                    await session.scalars(
                        select(ProgramItemRow.program_id)
                        .join(
                            ItemRow,
                            and_(
                                ItemRow.source_id == ProgramItemRow.source_id,
                                ItemRow.key == ProgramItemRow.key,
                            ),
                        )
                        .where(
                            ItemRow.source_id == ids[source],
                            or_(ItemRow.parent_key.in_(chunk), ItemRow.project.in_(in_projects)),
                        )
                        .distinct()
                    )
                ).all()
            )
    if program_ids:
        touched.update(
            (
                await session.scalars(select(ProgramRow.key).where(ProgramRow.id.in_(program_ids)))
            ).all()
        )
    return touched


def _selects(
    program: ProgramConfig,
    index: ItemIndex,
    refs: set[ItemRef],
    projects: set[tuple[str, str]],
) -> bool:
    """Whether the program's outcomes select one of ``refs``, or name one of ``projects``."""
    model = loading.to_program(program)
    for outcome in model.outcomes:
        for selector in outcome.selectors:
            if any((selector.source, p) in projects for p in selector.projects):
                return True
            if index.select(selector) & refs:
                return True
    return False


# --- Loading only what the chosen programs need ------------------------------------------


def _reached(links: Mapping[ItemRef, list[ItemRef]], refs: Iterable[ItemRef]) -> set[ItemRef]:
    """Every item joined to ``refs`` by ``links``, however far (refs included)."""
    found = set(refs)
    stack = list(found)
    while stack:
        for other in links.get(stack.pop(), ()):
            if other not in found:
                found.add(other)
                stack.append(other)
    return found


def _projects_of(
    chosen: Sequence[ProgramConfig], sources: Iterable[str]
) -> dict[str, set[str]] | None:
    """Per source, the projects every selector of ``chosen`` on it is limited to; None when
    a selector is not limited to projects (its items can be anywhere in the source)."""
    found: dict[str, set[str]] = {s: set() for s in sources}
    for program in chosen:
        for outcome in program.outcomes:
            for selector in outcome.match:
                if not selector.projects:
                    return None
                found.setdefault(selector.source, set()).update(selector.projects)
    return found


async def _multi_homed(session: AsyncSession, source_id: int) -> bool:
    """Whether any item of the source sits in several projects (an Asana task can): then
    an item of a project may be listed under another one."""
    return (
        await session.scalar(
            select(ItemRow.id)
            .where(ItemRow.source_id == source_id, cast(ItemRow.projects, Text) != "[]")
            .limit(1)
        )
    ) is not None


async def load_items(
    session: AsyncSession,
    names: Mapping[int, str],
    chosen: Sequence[ProgramConfig],
    sources: Collection[str],
    facets: loading.Facets,
    dependencies: Iterable[Dependency],
) -> list[WorkItem] | None:
    """The items the roll-ups of ``chosen`` read, when they can be told without loading
    their sources whole (None: load the sources).

    The seed is every item of the projects the programs' selectors name; then, until
    nothing new turns up: the children of seed items and of linked items (containers,
    subtasks), every item linked to them however far (dependency chains and the
    dependency map: along ``dependencies``), and the ancestors of all of them (epics, for
    grouping). The roll-up
    of a chosen program over these items is the one it has over the whole store.
    """
    ids = {name: i for i, name in names.items()}
    projects = _projects_of(chosen, sources)
    if projects is None or any(s not in ids for s in projects):
        return None
    for source in projects:
        if await _multi_homed(session, ids[source]):
            return None
    links: dict[ItemRef, list[ItemRef]] = {}
    for dependency in dependencies:
        links.setdefault(dependency.before, []).append(dependency.after)
        links.setdefault(dependency.after, []).append(dependency.before)
    loaded: dict[ItemRef, WorkItem] = {}

    async def fetch(source: str, condition: object) -> list[WorkItem]:
        found = await loading.load_items_where(session, names, ids[source], condition, facets)
        new = [i for i in found if i.ref not in loaded]
        for item in new:
            loaded[item.ref] = item
        return new

    down: list[WorkItem] = []
    for source, in_projects in projects.items():
        down += await fetch(source, ItemRow.project.in_(sorted(in_projects)))
    up: list[WorkItem] = []
    while down or up:
        reached: list[WorkItem] = []
        for source, keys in _by_source(i.ref for i in down).items():
            if source not in ids:
                continue
            # Children in the seed's projects are loaded already.
            elsewhere = or_(
                ItemRow.project.is_(None),
                ItemRow.project.not_in(sorted(projects.get(source, ()))),
            )
            for chunk in _chunks(keys):
                reached += await fetch(source, and_(ItemRow.parent_key.in_(chunk), elsewhere))
        ends = _reached(links, (i.ref for i in down))
        for source, keys in _by_source(r for r in ends if r not in loaded).items():
            if source not in ids:
                continue
            for chunk in _chunks(keys):
                reached += await fetch(source, ItemRow.key.in_(chunk))
        parents = {
            (i.source, i.parent_key)
            for i in (*down, *up, *reached)
            if i.parent_key is not None and (i.source, i.parent_key) not in loaded
        }
        up = []
        for source, keys in _by_source(parents).items():
            if source not in ids:
                continue
            for chunk in _chunks(keys):
                up += await fetch(source, ItemRow.key.in_(chunk))
        down = reached
    return list(loaded.values())
