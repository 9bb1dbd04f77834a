"""A program's dependencies: the map at a chosen level, and the late ones as a sortable
table (sorted on the server through query parameters, so the page needs no script)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from markupsafe import Markup
from starlette.responses import Response

from app.programs import dependency_map, documents, lookup, portfolio
from app.programs.lookup import StoredReads
from app.render.depmap import dependency_map_svg
from app.store import records
from app.web.deps import ConfigDep, ReadsDep, SessionDep
from app.web.pages.context import PageDep
from app.web.pages.links import item_url, items_url

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class LateRow:
    edge: documents.DependencyEdge
    before: documents.DependencyNode | None
    after: documents.DependencyNode | None


def late_rows(deps: documents.Dependencies) -> list[LateRow]:
    nodes = {n.key: n for n in deps.nodes}
    return [
        LateRow(edge=e, before=nodes.get(e.from_), after=nodes.get(e.to))
        for e in deps.edges
        if e.late
    ]


LateOrder = Literal["blocker", "blocked", "reason", "due", "expected", "project"]
COLUMNS: tuple[tuple[LateOrder, str], ...] = (
    ("blocker", "Waits on"),
    ("blocked", "Blocked"),
    ("project", "Projects"),
    ("due", "Blocker due"),
    ("expected", "Blocker expected"),
    ("reason", "Why late"),
)
_FAR = date.max


def sort_late(rows: Sequence[LateRow], by: LateOrder, descending: bool) -> list[LateRow]:
    """Late dependencies ordered by a column; rows without a value go last either way."""
    keys: dict[LateOrder, Callable[[LateRow], Any]] = {
        "blocker": lambda r: r.edge.from_,
        "blocked": lambda r: r.edge.to,
        "reason": lambda r: r.edge.reason or "",
        "due": lambda r: r.before.due_on if r.before else None,
        "expected": lambda r: r.before.expected_on if r.before else None,
        "project": lambda r: r.before.project or "" if r.before else "",
    }
    key = keys[by]
    present = [r for r in rows if key(r) is not None]
    absent = [r for r in rows if key(r) is None]
    present.sort(key=lambda r: (key(r), r.edge.from_, r.edge.to), reverse=descending)
    return present + absent


def _drawn(
    reads: StoredReads, program_id: int, drawn: dependency_map.DependencyMap, name: str
) -> Markup:
    """The map's drawing, drawn once for the same boxes and arrows."""
    title = f"{name}: dependencies by {drawn.level}"
    inputs = (tuple(drawn.nodes), tuple(drawn.edges), title)
    svg: Markup | None = reads.find(program_id, "dependencies.svg", inputs)
    if svg is None:
        svg = dependency_map_svg(drawn.nodes, drawn.edges, title=title)
        reads.keep(program_id, "dependencies.svg", inputs, svg)
    return svg


@router.get("/programs/{key}/dependencies", name="dependencies_page")
async def dependencies_page(
    key: str,
    page: PageDep,
    session: SessionDep,
    config: ConfigDep,
    reads: ReadsDep,
    level: Annotated[dependency_map.Level, Query()] = "epic",
    sort: Annotated[LateOrder, Query()] = "due",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> Response:
    async def build() -> Response:
        program = await lookup.get_program(session, config, key, reads)
        deps = await lookup.read_dependencies(session, config, key, reads)
        across = await portfolio.read_dependencies(
            session, config, now=datetime.now(UTC), program=key, reads=reads
        )
        # What this program waits on first, then what waits on it.
        across.dependencies.sort(key=lambda d: key not in d.to.programs)

        def members(nodes: Sequence[documents.DependencyNode]) -> str:
            if len(nodes) == 1:
                return item_url(nodes[0].source, nodes[0].key, key)
            return items_url(program=key, keys=[n.key for n in nodes][:200])

        stored = await lookup.stored_digest(session, program.id, "dependencies")
        drawn = await dependency_map.build(
            session, deps, level, href=members, kept=dependency_map.Kept(reads, program.id, stored)
        )
        projects = await records.project_names(session)
        return page.render_kept(
            "dependencies.html",
            lambda: {
                "program": program.config,
                "deps": deps,
                "map": drawn,
                "svg": None
                if drawn.too_many
                else _drawn(reads, program.id, drawn, program.config.name),
                "levels": dependency_map.LEVELS,
                "late": sort_late(late_rows(deps), sort, order == "desc"),
                "columns": COLUMNS,
                "sort": sort,
                "order": order,
                "names": {n.id: n.label for n in drawn.nodes},
                "nodes": {n.key: n for n in deps.nodes},
                "project_name": lambda n: (
                    "—" if n is None else projects.get(f"{n.source}/{n.project}", n.project or "—")
                ),
                "item_url": item_url,
                "items_url": items_url,
                "across": across,
                "owners": {p.key: (p.name, p.owner) for p in config.programs},
            },
            reads=reads,
            program_id=program.id,
            # The stored map, the portfolio's part of it, and what the page adds: names.
            inputs=(
                stored,
                across.model_dump_json(),
                level,
                sort,
                order,
                tuple(drawn.nodes),
                tuple(drawn.edges),
                tuple(sorted(projects.items())),
            ),
        )

    return await page.cached(build)
