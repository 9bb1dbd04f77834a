"""The dependency map: projects, epics or items as boxes, dependencies as arrows.

Work flows left to right in layers (``app.render.layered``). Late dependencies are red,
the critical path is drawn heavy, cross-tracker arrows are dashed, and boxes on a cycle
are marked. Arrows run only in the gaps between columns and in lanes above and below the
boxes, so none crosses a box. The map is drawn at its natural size so it stays readable
with many nodes (the page scrolls it); the ``<desc>`` and the page's tables say the same
in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from app.render.layered import Layout, layout

NODE_W, NODE_H = 236, 44
GAP_X, GAP_Y = 72, 18
PAD = 16
LANE = 8.0
"""The spacing of the lanes above and below the boxes that long arrows run along."""
LABEL_CHARS = 30


@dataclass(frozen=True, slots=True)
class MapNode:
    id: str
    label: str
    detail: str
    """A second line: the project, a count of items, a status."""
    href: str | None = None
    critical: bool = False
    cycle: bool = False
    late: bool = False
    """Some dependency into or out of it is late."""


@dataclass(frozen=True, slots=True)
class MapEdge:
    source: str
    target: str
    count: int = 1
    late: int = 0
    cross_tracker: bool = False
    critical: bool = False


_HEAD = Markup(
    '<svg class="tl-chart tl-depmap" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
    'role="img" aria-labelledby="depmap-title depmap-desc" xmlns="http://www.w3.org/2000/svg">'
    '<title id="depmap-title">{title}</title><desc id="depmap-desc">{desc}</desc>'
    "<defs>"
    '<marker id="tl-arrow" class="tl-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
    'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/>'
    "</marker>"
    '<marker id="tl-arrow-late" class="tl-arrow-late" viewBox="0 0 10 10" refX="9" refY="5" '
    'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/>'
    "</marker>"
    "</defs>"
)
_EMPTY = Markup(
    '<svg class="tl-chart tl-depmap-empty" viewBox="0 0 480 48" role="img" '
    'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
    "<desc>No dependencies touch this program.</desc>"
    '<text x="12" y="28" class="tl-axis">No dependencies touch this program.</text></svg>'
)
_NODE = Markup(
    '<g class="{css}">{open}<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6"/>'
    '<text class="tl-node-label" x="{tx}" y="{ty1}">{label}</text>'
    '<text class="tl-node-detail" x="{tx}" y="{ty2}">{detail}</text>{mark}{close}'
    "<title>{tooltip}</title></g>"
)
_EDGE = Markup(
    '<path class="{css}" d="{d}" marker-end="url(#{marker})"><title>{tooltip}</title></path>'
)
_COUNT = Markup('<text class="tl-edge-count" x="{x}" y="{y}" text-anchor="middle">{text}</text>')


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class _Geometry:
    at: dict[str, tuple[float, float]]
    """Each box's top-left corner."""
    column: dict[str, int]
    width: float
    height: float
    top_lanes: float
    """Where the lanes above the boxes start (arrows that skip columns run there)."""
    bottom_lanes: float
    """Where the lanes below the boxes start (arrows against the flow run there)."""


def _geometry(plan: Layout, *, above: int, below: int) -> _Geometry:
    """Boxes in columns, with ``above`` lanes over them and ``below`` under them."""
    tallest = max((len(layer) for layer in plan.layers), default=0)
    boxes = tallest * NODE_H + max(tallest - 1, 0) * GAP_Y
    offset = PAD + above * LANE
    height = offset + boxes + PAD + below * LANE
    width = 2.0 * PAD + len(plan.layers) * NODE_W + max(len(plan.layers) - 1, 0) * GAP_X
    at: dict[str, tuple[float, float]] = {}
    column: dict[str, int] = {}
    for index, layer in enumerate(plan.layers):
        # Short layers are centred against the tallest one.
        top = offset + (tallest - len(layer)) * (NODE_H + GAP_Y) / 2
        for row, node in enumerate(layer):
            at[node] = (PAD + index * (NODE_W + GAP_X), top + row * (NODE_H + GAP_Y))
            column[node] = index
    return _Geometry(at, column, width, height, PAD / 2 + LANE / 2, offset + boxes + PAD / 2)


def _node(node: MapNode, x: float, y: float) -> Markup:
    css = " ".join(
        c
        for c, on in (
            ("tl-node", True),
            ("tl-critical", node.critical),
            ("tl-cycle", node.cycle),
            ("tl-late", node.late),
        )
        if on
    )
    flags = [w for w, on in (("critical path", node.critical), ("on a cycle", node.cycle)) if on]
    tooltip = f"{node.label} — {node.detail}" + (f" ({', '.join(flags)})" if flags else "")
    mark = (
        Markup('<text class="tl-cycle-mark" x="{x}" y="{y}" text-anchor="end">↻</text>').format(
            x=f"{x + NODE_W - 8:.1f}", y=f"{y + 17:.1f}"
        )
        if node.cycle
        else Markup("")
    )
    return _NODE.format(
        css=css,
        open=Markup('<a href="{href}">').format(href=node.href) if node.href else Markup(""),
        close=Markup("</a>") if node.href else Markup(""),
        x=f"{x:.1f}",
        y=f"{y:.1f}",
        w=NODE_W,
        h=NODE_H,
        tx=f"{x + 10:.1f}",
        ty1=f"{y + 18:.1f}",
        ty2=f"{y + 34:.1f}",
        label=_short(node.label),
        detail=_short(node.detail, LABEL_CHARS + 4),
        mark=mark,
        tooltip=tooltip,
    )


def _route(edge: MapEdge, geo: _Geometry, lane: int) -> tuple[list[tuple[float, float]], bool]:
    """An arrow's corners, and whether it runs against the flow.

    Arrows run only through the gaps between columns and the lanes above and below the
    boxes, so none crosses a box: to the next column straight across its gap; further on
    along its own lane above the boxes; back against the flow (closing a cycle) along its
    own lane below them, out of the left side and into the right.
    """
    (ax, ay), (bx, by) = geo.at[edge.source], geo.at[edge.target]
    source, target = geo.column[edge.source], geo.column[edge.target]
    y1, y2 = ay + NODE_H / 2, by + NODE_H / 2
    if target == source + 1:
        gap = ax + NODE_W + GAP_X / 2
        return [(ax + NODE_W, y1), (gap, y1), (gap, y2), (bx, y2)], False
    if target > source:
        out, into = ax + NODE_W + GAP_X / 2, bx - GAP_X / 2
        y = geo.top_lanes + lane * LANE
        return [(ax + NODE_W, y1), (out, y1), (out, y), (into, y), (into, y2), (bx, y2)], False
    out = ax - GAP_X / 2 if target < source else ax + NODE_W + GAP_X / 2
    start = ax if target < source else ax + NODE_W
    into = bx + NODE_W + GAP_X / 2
    y = geo.bottom_lanes + lane * LANE
    points = [(start, y1), (out, y1), (out, y), (into, y), (into, y2), (bx + NODE_W, y2)]
    return points, True


def _edge(edge: MapEdge, geo: _Geometry, names: dict[str, str], lane: int) -> Markup:
    points, backward = _route(edge, geo, lane)
    d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
    middle = len(points) // 2
    (x1, y1), (x2, y2) = points[middle - 1], points[middle]
    css = " ".join(
        c
        for c, on in (
            ("tl-edge", True),
            ("tl-edge-late", edge.late > 0),
            ("tl-edge-critical", edge.critical),
            ("tl-edge-cross", edge.cross_tracker),
            ("tl-edge-back", backward),
        )
        if on
    )
    many = f"{edge.count} dependencies" if edge.count != 1 else "1 dependency"
    tooltip = f"{names[edge.source]} → {names[edge.target]}: {many}" + (
        f", {edge.late} late" if edge.late else ""
    )
    drawn = _EDGE.format(
        css=css, d=d, marker="tl-arrow-late" if edge.late else "tl-arrow", tooltip=tooltip
    )
    if edge.count > 1:
        text = f"{edge.count}" + (f" ({edge.late} late)" if edge.late else "")
        drawn += _COUNT.format(x=f"{(x1 + x2) / 2:.1f}", y=f"{(y1 + y2) / 2 - 4:.1f}", text=text)
    return drawn


def dependency_map_svg(nodes: Sequence[MapNode], edges: Sequence[MapEdge], *, title: str) -> Markup:
    """An accessible inline SVG of the map; every label is escaped."""
    if not nodes:
        return _EMPTY.format(title=title)
    plan = layout([n.id for n in nodes], [(e.source, e.target) for e in edges])
    column = {node: i for i, layer in enumerate(plan.layers) for node in layer}
    drawn = [e for e in edges if e.source in column and e.target in column]
    ahead = [e for e in drawn if column[e.target] > column[e.source] + 1]
    back = [e for e in drawn if column[e.target] <= column[e.source]]
    geo = _geometry(plan, above=len(ahead), below=len(back))
    names = {n.id: n.label for n in nodes}
    late = sum(1 for e in edges if e.late)
    desc = (
        f"{len(nodes)} boxes in {len(plan.layers)} columns, work flowing left to right; "
        f"{len(edges)} arrows, {late} of them late (red)"
        + (
            f"; {sum(1 for n in nodes if n.cycle)} on a cycle"
            if any(n.cycle for n in nodes)
            else ""
        )
        + "."
    )
    parts = [_HEAD.format(w=f"{geo.width:.0f}", h=f"{geo.height:.0f}", title=title, desc=desc)]
    lanes = {id(e): n for group in (ahead, back) for n, e in enumerate(group)}
    ordered = sorted(drawn, key=lambda e: (e.critical, e.late > 0, e.source, e.target))
    parts += [_edge(e, geo, names, lanes.get(id(e), 0)) for e in ordered]
    parts += [_node(n, *geo.at[n.id]) for n in sorted(nodes, key=lambda n: n.id)]
    return Markup("").join(parts) + Markup("</svg>")
