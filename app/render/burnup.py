"""The burnup chart: work done against total scope over time, with the forecast cone.

Done and scope are drawn from weekly snapshots; the cone runs from today's done figure to
the scope line between the P50 and P85 forecast dates, so a reader sees at once how far
the likely finish sits from the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup

from app.render.axis import DateScale, LinearScale, nice_top, number
from app.render.labels import Label, place
from rollup.figures import day

WIDTH, HEIGHT = 640, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 16, 16, 40

# Markup.format escapes every argument, so titles from configuration or trackers are safe.
_HEAD = Markup(
    '<svg class="tl-chart tl-burnup" viewBox="0 0 {width} {height}" role="img" '
    'aria-labelledby="burnup-title burnup-desc" xmlns="http://www.w3.org/2000/svg">'
    '<title id="burnup-title">{title}</title><desc id="burnup-desc">{summary}</desc>'
)
_EMPTY = Markup(
    '<svg class="tl-chart tl-burnup" viewBox="0 0 {width} 60" role="img" '
    'xmlns="http://www.w3.org/2000/svg"><title>{title}</title><desc>No history yet.</desc>'
    '<text x="12" y="34" class="tl-axis">No history yet: the chart fills in as days pass.'
    "</text></svg>"
)


@dataclass(frozen=True, slots=True)
class BurnupPoint:
    on: date
    scope: float
    done: float


def burnup_svg(
    points: Sequence[BurnupPoint],
    *,
    title: str,
    unit: str = "items",
    target: date | None = None,
    p50: date | None = None,
    p85: date | None = None,
    today: date | None = None,
) -> Markup:
    """An accessible inline SVG burnup; an empty chart says so in words."""
    if not points:
        return _empty(title)
    points = sorted(points, key=lambda p: p.on)
    today = today or points[-1].on
    end = max(d for d in (points[-1].on, target, p85, p50, today) if d is not None)
    start = points[0].on
    end = max(end + timedelta(days=max(7, (end - start).days // 20)), start + timedelta(days=14))
    x = DateScale(start, end, PAD_LEFT, WIDTH - PAD_RIGHT)
    y = LinearScale(nice_top(max(p.scope for p in points)), HEIGHT - PAD_BOTTOM, PAD_TOP)
    last = points[-1]
    parts = [
        _grid(x, y),
        _cone(x, y, last, p50, p85),
        _line(x, y, [(p.on, p.scope) for p in points], "tl-scope"),
        _line(x, y, [(p.on, p.done) for p in points], "tl-done"),
        _marker(x, today, "tl-today"),
    ]
    labels = [(_marker_label(x, today, "today"), "tl-today")]
    if target is not None:
        parts.append(_marker(x, target, "tl-target"))
        labels.append((_marker_label(x, target, "target"), "tl-target"))
    labels += [
        (_end_label(x, y, last.on, last.done, "Done", below=True), "tl-done"),
        (_end_label(x, y, last.on, last.scope, "Scope", below=False), "tl-scope"),
    ]
    placed = place(
        [label for label, _ in labels],
        top=PAD_TOP - 6,
        bottom=HEIGHT - PAD_BOTTOM,
        left=PAD_LEFT,
        right=WIDTH - 2,
    )
    parts += [_text(label, css) for label, (_, css) in zip(placed, labels, strict=True)]
    summary = (
        f"Done {number(last.done)} of {number(last.scope)} {unit} on {day(last.on)}."
        + (f" Forecast P50 {day(p50)}" if p50 else " No forecast date")
        + (f", P85 {day(p85)}." if p85 else ".")
        + (f" Target {day(target)}." if target else " No target.")
    )
    head = _HEAD.format(width=WIDTH, height=HEIGHT, title=title, summary=summary)
    # The drawing itself holds only numbers we formatted and fixed labels: no outside text.
    return head + Markup("".join(parts)) + Markup("</svg>")  # noqa: S704


def _empty(title: str) -> Markup:
    return _EMPTY.format(width=WIDTH, title=title)


def _grid(x: DateScale, y: LinearScale) -> str:
    lines = []
    for value in y.ticks():
        py = y(value)
        lines.append(
            f'<line class="tl-grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
            f'y1="{py:.1f}" y2="{py:.1f}"/>'
            f'<text class="tl-axis" x="{PAD_LEFT - 6}" y="{py + 4:.1f}" '
            f'text-anchor="end">{number(value)}</text>'
        )
    for tick in x.ticks():
        px = x(tick)
        lines.append(
            f'<text class="tl-axis" x="{px:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" '
            f'text-anchor="middle">{tick.strftime("%d %b" if _weekly(x) else "%b %Y")}'
            "</text>"
        )
    return "".join(lines)


def _weekly(x: DateScale) -> bool:
    return (x.end - x.start).days <= 70


def _line(x: DateScale, y: LinearScale, values: list[tuple[date, float]], css: str) -> str:
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(v):.1f}" for i, (d, v) in enumerate(values)
    )
    end_x, end_y = x(values[-1][0]), y(values[-1][1])
    return (
        f'<path class="{css}" d="{path}" fill="none"/>'
        f'<circle class="{css}" cx="{end_x:.1f}" cy="{end_y:.1f}" r="3"/>'
    )


def _end_label(
    x: DateScale, y: LinearScale, day: date, value: float, text: str, *, below: bool
) -> Label:
    """A line's name beside its last point: Done under its point, Scope above."""
    return Label(text, x(day) + 6, y(value) + (14 if below else -6), bold=True)


def _marker_label(x: DateScale, day: date, text: str) -> Label:
    return Label(text, x(day) + 3, PAD_TOP + 10, bold=True)


def _text(label: Label, css: str) -> str:
    return f'<text class="tl-label {css}" x="{label.x:.1f}" y="{label.y:.1f}">{label.text}</text>'


def _cone(
    x: DateScale, y: LinearScale, last: BurnupPoint, p50: date | None, p85: date | None
) -> str:
    if p50 is None:
        return ""
    far = p85 or p50
    origin = f"{x(last.on):.1f},{y(last.done):.1f}"
    top = y(last.scope)
    return (
        f'<polygon class="tl-cone" points="{origin} {x(p50):.1f},{top:.1f} '
        f'{x(far):.1f},{top:.1f}"/>'
        f'<line class="tl-cone-p50" x1="{x(last.on):.1f}" y1="{y(last.done):.1f}" '
        f'x2="{x(p50):.1f}" y2="{top:.1f}"/>'
    )


def _marker(x: DateScale, day: date, css: str) -> str:
    px = x(day)
    return (
        f'<line class="{css}" x1="{px:.1f}" x2="{px:.1f}" y1="{PAD_TOP}" '
        f'y2="{HEIGHT - PAD_BOTTOM}"/>'
    )
