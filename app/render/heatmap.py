"""The risk heat map: open risks counted on a 5×5 grid of probability against impact.

Impact runs left to right, probability bottom to top, and each cell is shaded by the
severity its score (probability × impact) carries, so the top right is where to look.
A cell with risks links to the list of those risks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from markupsafe import Markup

from rollup.risk import severity_of

CELL = 56
LEFT, TOP, RIGHT, BOTTOM = 64, 12, 12, 52
SIDE = 5 * CELL
WIDTH, HEIGHT = LEFT + SIDE + RIGHT, TOP + SIDE + BOTTOM

_HEAD = Markup(
    '<svg class="tl-chart tl-heatmap" viewBox="0 0 {w} {h}" role="img" '
    'aria-labelledby="heatmap-title heatmap-desc" xmlns="http://www.w3.org/2000/svg">'
    '<title id="heatmap-title">{title}</title><desc id="heatmap-desc">{desc}</desc>'
)
_CELL = Markup(
    '<rect class="tl-heat tl-heat-{severity}{selected}" x="{x}" y="{y}" width="{s}" height="{s}"/>'
)
_COUNT = Markup(
    '<a href="{href}"><rect class="tl-heat-hit" x="{x}" y="{y}" width="{s}" height="{s}"/>'
    '<text class="tl-heat-count" x="{cx}" y="{cy}" text-anchor="middle">{count}</text>'
    "<title>{tip}</title></a>"
)
_AXES = Markup(
    '<text class="tl-axis" x="{mid_x}" y="{h}" text-anchor="middle">Impact →</text>'
    '<text class="tl-axis" x="14" y="{mid_y}" text-anchor="middle" '
    'transform="rotate(-90 14 {mid_y})">Probability →</text>'
)


def cell_origin(probability: int, impact: int) -> tuple[int, int]:
    """Top-left pixel of a cell: impact 1–5 left to right, probability 1–5 bottom to top."""
    return LEFT + (impact - 1) * CELL, TOP + (5 - probability) * CELL


def heatmap_svg(
    counts: Mapping[tuple[int, int], int],
    *,
    title: str,
    href: Callable[[int, int], str],
    selected: tuple[int, int] | None = None,
) -> Markup:
    """``counts`` maps (probability, impact) to a number of risks; empty cells stay blank."""
    total = sum(counts.values())
    worst = sorted(((p * i, p, i, n) for (p, i), n in counts.items() if n), reverse=True)[:3]
    desc = f"{total} open risk(s) with a probability and an impact." + (
        " Highest: "
        + "; ".join(f"{n} at probability {p}, impact {i}" for _, p, i, n in worst)
        + "."
        if worst
        else ""
    )
    parts = [_HEAD.format(w=WIDTH, h=HEIGHT, title=title, desc=desc)]
    for probability in range(1, 6):
        for impact in range(1, 6):
            x, y = cell_origin(probability, impact)
            parts.append(
                _CELL.format(
                    severity=severity_of(probability, impact).value,
                    selected=" tl-heat-selected" if selected == (probability, impact) else "",
                    x=x,
                    y=y,
                    s=CELL,
                )
            )
            count = counts.get((probability, impact), 0)
            if count:
                parts.append(
                    _COUNT.format(
                        href=href(probability, impact),
                        x=x,
                        y=y,
                        s=CELL,
                        cx=x + CELL // 2,
                        cy=y + CELL // 2 + 6,
                        count=count,
                        tip=f"{count} risk(s): probability {probability}, impact {impact}",
                    )
                )
    for n in range(1, 6):
        x, _ = cell_origin(1, n)
        _, y = cell_origin(n, 1)
        parts.append(
            Markup('<text class="tl-axis" x="{x}" y="{y}" text-anchor="middle">{n}</text>').format(
                x=x + CELL // 2, y=TOP + SIDE + 16, n=n
            )
        )
        parts.append(
            Markup('<text class="tl-axis" x="{x}" y="{y}" text-anchor="end">{n}</text>').format(
                x=LEFT - 8, y=y + CELL // 2 + 4, n=n
            )
        )
    parts.append(_AXES.format(mid_x=LEFT + SIDE // 2, h=HEIGHT - 10, mid_y=TOP + SIDE // 2))
    return Markup("").join(parts) + Markup("</svg>")
