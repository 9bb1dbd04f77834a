"""The dependency map: geometry, marks for late, critical and cyclic work, escaping."""

from __future__ import annotations

import itertools
import re
from xml.etree import ElementTree

from app.render.depmap import NODE_W, MapEdge, MapNode, dependency_map_svg

NS = "{http://www.w3.org/2000/svg}"


def _svg(nodes: list[MapNode], edges: list[MapEdge]) -> str:
    return str(dependency_map_svg(nodes, edges, title="Checkout v2 dependencies"))


def test_map_is_well_formed_with_a_text_alternative() -> None:
    nodes = [MapNode("a", "PAY", "3 items"), MapNode("b", "WEB", "2 items", href="/x?a=1&b=2")]
    svg = _svg(nodes, [MapEdge("a", "b", count=3, late=1)])
    root = ElementTree.fromstring(svg)
    assert root.find(f"{NS}title").text == "Checkout v2 dependencies"
    assert root.find(f"{NS}desc").text == (
        "2 boxes in 2 columns, work flowing left to right; 1 arrows, 1 of them late (red)."
    )
    assert 'href="/x?a=1&amp;b=2"' in svg
    assert "3 (1 late)" in svg, "a rolled-up arrow says how many dependencies it carries"
    assert 'marker-end="url(#tl-arrow-late)"' in svg


def test_work_flows_left_to_right() -> None:
    nodes = [MapNode(n, n, "") for n in ("first", "second", "third")]
    svg = _svg(nodes, [MapEdge("first", "second"), MapEdge("second", "third")])
    xs = {
        m.group(2): float(m.group(1))
        for m in re.finditer(
            r'<rect x="([\d.]+)" y="[\d.]+" width="\d+" height="\d+" rx="6"/>'
            r'<text class="tl-node-label" x="[\d.]+" y="[\d.]+">(\w+)<',
            svg,
        )
    }
    assert xs["first"] < xs["second"] < xs["third"]
    assert xs["second"] - xs["first"] > NODE_W


def test_critical_cyclic_and_cross_tracker_marks() -> None:
    nodes = [MapNode("a", "A", "", critical=True, cycle=True), MapNode("b", "B", "", cycle=True)]
    edges = [MapEdge("a", "b", critical=True, cross_tracker=True), MapEdge("b", "a")]
    svg = _svg(nodes, edges)
    assert 'class="tl-node tl-critical tl-cycle"' in svg
    assert "tl-edge tl-edge-critical tl-edge-cross" in svg
    assert "tl-edge-back" in svg, "the edge closing the cycle runs against the flow"
    assert "↻" in svg


def test_fifty_nodes_keep_their_natural_size() -> None:
    nodes = [MapNode(f"n{i:02}", f"Project {i}", "") for i in range(60)]
    edges = [MapEdge(f"n{i:02}", f"n{i + 1:02}") for i in range(0, 58, 2)]
    root = ElementTree.fromstring(_svg(nodes, edges))
    assert float(root.get("width")) >= 2 * NODE_W, "drawn at full size, not squeezed"
    assert len(root.findall(f".//{NS}g")) == 60


def test_labels_are_escaped_and_shortened() -> None:
    hostile = "<img src=x onerror=alert(1)></script><script>alert(1)</script>"
    svg = _svg([MapNode("a", hostile, hostile)], [])
    assert "<img" not in svg
    assert "<script" not in svg
    ElementTree.fromstring(svg)
    assert "…" in svg


def test_no_dependencies_say_so() -> None:
    assert "No dependencies" in str(dependency_map_svg([], [], title="t"))


def test_arrows_never_cross_a_box() -> None:
    # a → b → c → d in a row, a long arrow a → d over b and c, and a cycle closing d → a.
    nodes = [MapNode(n, f"Item {n}", "todo") for n in ("a", "b", "c", "d", "e", "f")]
    edges = [
        MapEdge("a", "b"),
        MapEdge("b", "c"),
        MapEdge("c", "d"),
        MapEdge("a", "d", late=1),
        MapEdge("e", "c"),
        MapEdge("f", "d"),
        MapEdge("d", "a"),
        MapEdge("c", "b"),
    ]
    svg = _svg(nodes, edges)
    boxes = [
        tuple(map(float, m.groups()))
        for m in re.finditer(
            r'<rect x="([\d.]+)" y="([\d.]+)" width="(\d+)" height="(\d+)" rx="6"/>', svg
        )
    ]
    paths = re.findall(r'<path class="tl-edge[^"]*" d="M([^"]+)"', svg)
    assert len(paths) == len(edges)
    for d in paths:
        points = [tuple(map(float, p.split(","))) for p in d.split(" L")]
        for (ax, ay), (bx, by) in itertools.pairwise(points):
            for x, y, w, h in boxes:
                inside_x = min(ax, bx) < x + w - 0.5 and max(ax, bx) > x + 0.5
                inside_y = min(ay, by) < y + h - 0.5 and max(ay, by) > y + 0.5
                assert not (inside_x and inside_y), (d, (x, y))
