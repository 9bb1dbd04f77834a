"""The flow charts: cumulative flow, cycle-time scatter and histogram, weekly throughput,
ageing work, WIP over time and net flow.

Four drawings serve all seven: stacked bands over days, dots over days or over items with
horizontal reference lines, and bars per label (side by side, with an optional trend).
Each chart escapes every text it draws; item keys and titles are tracker text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from app.render.axis import DateScale, LinearScale, nice_top, number

WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 64, 14, 34


_HEAD = Markup(
    '<svg class="tl-chart tl-flow" viewBox="0 0 {w} {h}" role="img" '
    'xmlns="http://www.w3.org/2000/svg"><title>{title}</title><desc>{desc}</desc>'
)
_EMPTY = Markup(
    '<svg class="tl-chart tl-flow" viewBox="0 0 {w} 60" role="img" '
    'xmlns="http://www.w3.org/2000/svg"><title>{title}</title><desc>{desc}</desc>'
    '<text x="12" y="34" class="tl-axis">{desc}</text></svg>'
)


@dataclass(frozen=True, slots=True)
class Band:
    css: str
    label: str
    values: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Dot:
    x: date | int
    y: float
    label: str
    """Tracker text (an item's key and title): escaped where drawn."""
    late: bool = False


@dataclass(frozen=True, slots=True)
class Ref:
    """A horizontal reference line, such as a percentile."""

    value: float
    label: str


def _wrap(title: str, desc: str, parts: Sequence[str]) -> Markup:
    head = _HEAD.format(w=WIDTH, h=HEIGHT, title=title, desc=desc)
    # Every part is built from numbers we format and texts passed through escape().
    return head + Markup("".join(parts)) + Markup("</svg>")  # noqa: S704


def _empty(title: str, desc: str) -> Markup:
    return _EMPTY.format(w=WIDTH, title=title, desc=desc)


def _y_grid(y: LinearScale) -> str:
    return "".join(
        f'<line class="tl-grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(v):.1f}" '
        f'y2="{y(v):.1f}"/><text class="tl-axis" x="{PAD_LEFT - 5}" y="{y(v) + 4:.1f}" '
        f'text-anchor="end">{number(v)}</text>'
        for v in y.ticks()
    )


def _x_dates(x: DateScale) -> str:
    return "".join(
        f'<text class="tl-axis" x="{x(t):.1f}" y="{HEIGHT - PAD_BOTTOM + 15}" '
        f'text-anchor="middle">{t.strftime("%d %b")}</text>'
        for t in x.ticks()
    )


def _refs(y: LinearScale, refs: Sequence[Ref]) -> str:
    return "".join(
        f'<line class="tl-ref" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(r.value):.1f}" '
        f'y2="{y(r.value):.1f}"/><text class="tl-axis" x="{WIDTH - PAD_RIGHT + 4}" '
        f'y="{y(r.value) + 4:.1f}">{escape(r.label)}</text>'
        for r in refs
    )


def bands_svg(title: str, desc: str, days: Sequence[date], bands: Sequence[Band]) -> Markup:
    """Bands stacked bottom-up in the given order (cumulative flow)."""
    if len(days) < 2:
        return _empty(title, "Not enough days yet to draw.")
    totals = [sum(b.values[i] for b in bands) for i in range(len(days))]
    x = DateScale(days[0], days[-1], PAD_LEFT, WIDTH - PAD_RIGHT)
    y = LinearScale(nice_top(max(totals)), HEIGHT - PAD_BOTTOM, PAD_TOP)
    parts = [_y_grid(y)]
    floor = [0] * len(days)
    for band in bands:
        ceiling = [f + v for f, v in zip(floor, band.values, strict=True)]
        top = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in zip(days, ceiling, strict=True))
        bottom = " ".join(
            f"{x(d):.1f},{y(v):.1f}" for d, v in reversed(list(zip(days, floor, strict=True)))
        )
        parts.append(f'<polygon class="{band.css}" points="{top} {bottom}"/>')
        mid = (ceiling[-1] + floor[-1]) / 2
        parts.append(
            f'<text class="tl-axis" x="{WIDTH - PAD_RIGHT + 4}" y="{y(mid) + 4:.1f}">'
            f"{escape(band.label)} {ceiling[-1] - floor[-1]}</text>"
        )
        floor = ceiling
    parts.append(_x_dates(x))
    return _wrap(title, desc, parts)


def status_bands(
    statuses: Sequence[tuple[str, str]], per_day: Sequence[Sequence[int]]
) -> list[Band]:
    """The bands of the cumulative flow by status, stacked done first: ``statuses`` are
    (name, category) in workflow order, ``per_day`` each day's count per status. A
    category's statuses share its colour in alternating shades; names are tracker text
    (escaped where drawn)."""
    shade: dict[str, int] = {}
    bands = []
    for n, (name, category) in enumerate(statuses):
        step = shade[category] = shade.get(category, -1) + 1
        css = f"tl-status tl-band-{category}" + (f" tl-shade-{step % 4}" if step % 4 else "")
        bands.append(Band(css, name, tuple(day[n] for day in per_day)))
    return bands[::-1]


def line_svg(title: str, desc: str, points: Sequence[tuple[date, float]], css: str) -> Markup:
    """One quantity over days (work in progress)."""
    if len(points) < 2:
        return _empty(title, "Not enough days yet to draw.")
    x = DateScale(points[0][0], points[-1][0], PAD_LEFT, WIDTH - PAD_RIGHT)
    y = LinearScale(nice_top(max(v for _, v in points)), HEIGHT - PAD_BOTTOM, PAD_TOP)
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(v):.1f}" for i, (d, v) in enumerate(points)
    )
    return _wrap(title, desc, [_y_grid(y), f'<path class="{css}" d="{path}"/>', _x_dates(x)])


def dots_svg(
    title: str,
    desc: str,
    dots: Sequence[Dot],
    refs: Sequence[Ref] = (),
    *,
    days: tuple[date, date] | None = None,
) -> Markup:
    """Dots over days (``days`` given) or over their order, with reference lines."""
    if not dots:
        return _empty(title, desc)
    top = nice_top(max([d.y for d in dots] + [r.value for r in refs]))
    y = LinearScale(top, HEIGHT - PAD_BOTTOM, PAD_TOP)
    parts = [_y_grid(y), _refs(y, refs)]
    if days is not None:
        scale = DateScale(days[0], days[1], PAD_LEFT + 6, WIDTH - PAD_RIGHT - 6)

        def place(dot: Dot) -> float:
            return scale(dot.x) if isinstance(dot.x, date) else PAD_LEFT

        parts.append(_x_dates(scale))
    else:
        step = (WIDTH - PAD_LEFT - PAD_RIGHT - 12) / max(1, len(dots) - 1)

        def place(dot: Dot) -> float:
            return PAD_LEFT + 6 + (float(dot.x) if isinstance(dot.x, int) else 0.0) * step

    parts += [
        f'<circle class="tl-dot{" tl-dot-late" if d.late else ""}" cx="{place(d):.1f}" '
        f'cy="{y(d.y):.1f}" r="3.5"><title>{escape(d.label)}</title></circle>'
        for d in dots
    ]
    return _wrap(title, desc, parts)


def bars_svg(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    trend: tuple[float, float] | None = None,
) -> Markup:
    """Bars per label, one per series side by side (negative values below zero); ``trend``
    is a line (value at the first label, slope per label) drawn over them."""
    if not labels:
        return _empty(title, desc)
    values = [v for _, vs in series for v in vs]
    high, low = max([*values, 0.0]), min([*values, 0.0])
    top = nice_top(high - low if low < 0 else high)
    y = LinearScale(top, HEIGHT - PAD_BOTTOM, PAD_TOP)

    def at(v: float) -> float:
        return y(v - low)

    slot = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(labels)
    width = slot * 0.8 / len(series)
    parts = [_y_grid(y) if low == 0 else ""]
    for n, label in enumerate(labels):
        left = PAD_LEFT + n * slot + slot * 0.1
        for s, (css, vs) in enumerate(series):
            v = vs[n]
            top_px, bottom_px = sorted((at(v), at(0)))
            kind = "tl-bar-neg" if v < 0 else css
            parts.append(
                f'<rect class="{kind}" x="{left + s * width:.1f}" y="{top_px:.1f}" '
                f'width="{width:.1f}" height="{max(0.5, bottom_px - top_px):.1f}">'
                f"<title>{escape(label)}: {number(v)}</title></rect>"
            )
        if len(labels) <= 16 or n % max(1, len(labels) // 8) == 0:
            parts.append(
                f'<text class="tl-axis" x="{left + slot * 0.4:.1f}" '
                f'y="{HEIGHT - PAD_BOTTOM + 15}" text-anchor="middle">{escape(label)}</text>'
            )
    if low < 0:
        parts.append(
            f'<line class="tl-ref" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
            f'y1="{at(0):.1f}" y2="{at(0):.1f}"/>'
        )
    if trend is not None:
        start, slope = trend
        ends = [(0, start), (len(labels) - 1, start + slope * (len(labels) - 1))]
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{PAD_LEFT + (n + 0.5) * slot:.1f},{at(max(low, v)):.1f}"
            for i, (n, v) in enumerate(ends)
        )
        parts.append(f'<path class="tl-trend" d="{path}"/>')
    return _wrap(title, desc, parts)
