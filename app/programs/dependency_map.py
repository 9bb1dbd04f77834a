"""The dependency map at a chosen level: items grouped into projects or epics.

The stored dependency document lists items and the edges between them; a program
manager reads it one level up, so items are grouped (by project, by epic, or not at
all) and the edges between groups are counted. A group is critical when it holds an
item on the critical path, and marked when it holds an item on a dependency cycle.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.programs import documents
from app.programs.lookup import StoredReads
from app.render.depmap import MapEdge, MapNode
from app.store import records
from app.store.tables import ItemRow, SourceRow
from rollup import figures

Level = Literal["project", "epic", "item"]
LEVELS: tuple[Level, ...] = ("project", "epic", "item")
MAX_DRAWN = 400
"""More boxes than this are not drawn (the tables still list everything)."""


@dataclass(slots=True)
class Group:
    id: str
    label: str
    detail: str = ""
    members: list[documents.DependencyNode] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DependencyMap:
    level: Level
    nodes: list[MapNode]
    edges: list[MapEdge]
    too_many: bool


def _group_of(level: Level) -> Callable[[documents.DependencyNode], str]:
    def project(n: documents.DependencyNode) -> str:
        return f"{n.source}/{n.project or '(no project)'}"

    if level == "project":
        return project
    if level == "epic":
        return lambda n: f"{n.source}/{n.epic}" if n.epic else project(n)
    return lambda n: f"{n.source}/{n.key}"


async def _names(session: AsyncSession, level: Level, groups: dict[str, Group]) -> dict[str, str]:
    """Readable names: Asana projects are gids, named as the tracker names them; epics
    are named by their titles."""
    found: dict[str, str] = {}
    if level in ("project", "epic"):
        found = await records.project_names(session)
    if level == "epic":
        epics = sorted({(n.source, n.epic) for g in groups.values() for n in g.members if n.epic})
        if epics:
            rows = await session.execute(
                select(SourceRow.name, ItemRow.key, ItemRow.title)
                .join(SourceRow, SourceRow.id == ItemRow.source_id)
                .where(tuple_(SourceRow.name, ItemRow.key).in_(epics), ItemRow.deleted.is_(False))
            )
            found |= {f"{s}/{k}": f"{k} {title}" for s, k, title in rows}
    return found


async def build(
    session: AsyncSession,
    deps: documents.Dependencies,
    level: Level,
    *,
    href: Callable[[Sequence[documents.DependencyNode]], str],
    kept: Kept | None = None,
) -> DependencyMap:
    """The map's boxes and arrows at ``level``; ``href`` links a box to its items.

    With ``kept`` (the reads' store, the program's row id and the stored map's digest),
    the grouping is made once per stored map and the drawing once per stored map and
    names: ``href`` must then depend on the program alone.
    """
    digest = (kept.program_id, level, kept.digest) if kept is not None else None
    grouped: tuple[dict[str, Group], dict[str, str]] | None = (
        kept.reads.find(kept.program_id, "map.groups", digest) if kept is not None else None
    )
    if grouped is None:
        grouped = _grouped(deps, level)
        if kept is not None:
            kept.reads.keep(kept.program_id, "map.groups", digest, grouped)
    groups, by_key = grouped
    names = await _names(session, level, groups)
    inputs = (digest, tuple(sorted(names.items())))
    found: DependencyMap | None = (
        kept.reads.find(kept.program_id, "map", inputs) if kept is not None else None
    )
    if found is None:
        found = _drawn(deps, level, groups, by_key, names, href)
        if kept is not None:
            kept.reads.keep(kept.program_id, "map", inputs, found)
    return found


@dataclass(frozen=True, slots=True)
class Kept:
    reads: StoredReads
    program_id: int
    digest: str | None


def _grouped(deps: documents.Dependencies, level: Level) -> tuple[dict[str, Group], dict[str, str]]:
    group_of = _group_of(level)
    groups: dict[str, Group] = {}
    by_key: dict[str, str] = {}
    for node in deps.nodes:
        gid = group_of(node)
        groups.setdefault(gid, Group(gid, gid.split("/", 1)[1])).members.append(node)
        by_key[node.key] = gid
    return groups, by_key


def _drawn(
    deps: documents.Dependencies,
    level: Level,
    groups: dict[str, Group],
    by_key: dict[str, str],
    names: dict[str, str],
    href: Callable[[Sequence[documents.DependencyNode]], str],
) -> DependencyMap:
    critical = {by_key[k] for k in deps.critical_path if k in by_key}
    cyclic = {by_key[k] for cycle in deps.cycles for k in cycle if k in by_key}
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    late_groups: set[str] = set()
    for edge in deps.edges:
        a, b = by_key.get(edge.from_), by_key.get(edge.to)
        if a is None or b is None:
            continue
        if edge.late:
            late_groups |= {a, b}
        if a != b:
            tally = counts[(a, b)]
            tally[0] += 1
            tally[1] += edge.late
            tally[2] |= edge.cross_tracker
    path = [by_key[k] for k in deps.critical_path if k in by_key]
    critical_edges = {(a, b) for a, b in itertools.pairwise(path) if a != b}
    nodes = [
        MapNode(
            id=g.id,
            label=_label(level, g, names),
            detail=_detail(level, g),
            href=href(g.members),
            critical=g.id in critical,
            cycle=g.id in cyclic,
            late=g.id in late_groups,
        )
        for g in sorted(groups.values(), key=lambda g: g.id)
    ]
    edges = [
        MapEdge(
            a, b, count=n, late=late, cross_tracker=bool(cross), critical=(a, b) in critical_edges
        )
        for (a, b), (n, late, cross) in sorted(counts.items())
    ]
    return DependencyMap(level, nodes, edges, too_many=len(nodes) > MAX_DRAWN)


SHORT_KEY = 12
"""Keys up to this long (Jira's PAY-123) lead a label; longer ones (Asana's gids) follow."""


def _label(level: Level, group: Group, names: dict[str, str]) -> str:
    if level == "item":
        node = group.members[0]
        return f"{node.key} {node.title}" if len(node.key) <= SHORT_KEY else node.title
    return names.get(group.id, group.label)


def _detail(level: Level, group: Group) -> str:
    first = group.members[0]
    if level == "item":
        due = f" · due {figures.day(first.due_on)}" if first.due_on else ""
        key = f"{first.key} · " if len(first.key) > SHORT_KEY else ""
        return f"{key}{first.status_category.replace('_', ' ')}{due}"
    count = len(group.members)
    where = first.source if level == "project" or not first.epic else f"{first.source} · epic"
    return f"{where} · {count} item{'s' if count != 1 else ''}"
