"""The dependency map: projects, epics or items as boxes, dependencies as arrows.

Work flows left to right in layers (``app.render.layered``). Late dependencies are red,
the critical path is drawn heavy, cross-tracker arrows are dashed, and boxes on a cycle
are marked. The map is drawn at its natural size so it stays readable with many nodes
(the page scrolls it); the ``<desc>`` and the page's tables say the same in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from app.render.layered import Layout, layout

NODE_W, NODE_H = 236, 44
GAP_X, GAP_Y = 72, 18
PAD = 16
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


def _geometry(plan: Layout) -> tuple[dict[str, tuple[float, float]], float, float]:
    tallest = max((len(layer) for layer in plan.layers), default=0)
    height = 2.0 * PAD + tallest * NODE_H + max(tallest - 1, 0) * GAP_Y
    width = 2.0 * PAD + len(plan.layers) * NODE_W + max(len(plan.layers) - 1, 0) * GAP_X
    at: dict[str, tuple[float, float]] = {}
    for column, layer in enumerate(plan.layers):
        # Short layers are centred against the tallest one.
        top = PAD + (tallest - len(layer)) * (NODE_H + GAP_Y) / 2
        for row, node in enumerate(layer):
            at[node] = (PAD + column * (NODE_W + GAP_X), top + row * (NODE_H + GAP_Y))
    return at, width, height


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


def _edge(edge: MapEdge, at: dict[str, tuple[float, float]], names: dict[str, str]) -> Markup:
    (ax, ay), (bx, by) = at[edge.source], at[edge.target]
    backward = bx < ax
    if backward:
        # Against the flow (it closes a cycle): leave from the left, enter from the right,
        # a little below the middle so it does not hide the arrow coming the other way.
        x1, y1, x2, y2 = ax, ay + NODE_H * 0.75, bx + NODE_W, by + NODE_H * 0.75
        bend = -max(40.0, abs(x2 - x1) / 2)
    else:
        x1, y1, x2, y2 = ax + NODE_W, ay + NODE_H / 2, bx, by + NODE_H / 2
        bend = max(40.0, abs(x2 - x1) / 2)
    d = f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
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
    at, width, height = _geometry(plan)
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
    parts = [_HEAD.format(w=f"{width:.0f}", h=f"{height:.0f}", title=title, desc=desc)]
    ordered = sorted(
        (e for e in edges if e.source in at and e.target in at),
        key=lambda e: (e.critical, e.late > 0, e.source, e.target),
    )
    parts += [_edge(e, at, names) for e in ordered]
    parts += [_node(n, *at[n.id]) for n in sorted(nodes, key=lambda n: n.id)]
    return Markup("").join(parts) + Markup("</svg>")
