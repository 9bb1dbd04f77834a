"""The risk heat map: cells where their scores say, counts linked, text escaped."""

from __future__ import annotations

from xml.etree import ElementTree

from app.render.heatmap import CELL, LEFT, TOP, cell_origin, heatmap_svg


def test_cells_run_impact_right_and_probability_up() -> None:
    assert cell_origin(1, 1) == (LEFT, TOP + 4 * CELL)
    assert cell_origin(5, 5) == (LEFT + 4 * CELL, TOP)


def test_counts_link_to_their_risks_and_cells_carry_severity() -> None:
    svg = str(
        heatmap_svg(
            {(4, 5): 2, (1, 1): 1},
            title="Risks",
            href=lambda p, i: f"?probability={p}&impact={i}",
            selected=(4, 5),
        )
    )
    root = ElementTree.fromstring(svg)
    assert root.find("{http://www.w3.org/2000/svg}desc").text == (
        "3 open risk(s) with a probability and an impact. Highest: 2 at probability 4, "
        "impact 5; 1 at probability 1, impact 1."
    )
    assert 'href="?probability=4&amp;impact=5"' in svg
    assert svg.count('class="tl-heat tl-heat-critical') == 3, "scores 20, 20 and 25"
    assert "tl-heat-selected" in svg


def test_title_is_escaped() -> None:
    svg = str(heatmap_svg({}, title="<script>x</script>", href=lambda p, i: ""))
    assert "<script>" not in svg
    ElementTree.fromstring(svg)
