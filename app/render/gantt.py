"""The roadmap as a Gantt chart: one row per bar, grouped by outcome and project.

Each bar runs from its start to its due date; its P50–P85 forecast range is drawn as a
lighter band (beyond the due date when it is late), its baseline as a thin grey line
beneath, its milestones as diamonds; a bar with no dates at all is a hollow marker saying
so. Outcome rows carry the outcome's target (a red mark down its rows) and forecast range;
a dashed line marks today; arrows join bars that depend on each other, late ones red,
routed along the gaps between rows and down lanes that no bar crosses. The chart is drawn
at natural size (the page scrolls it sideways) and its ``<desc>`` and the page's table say
the same in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup

from app.render.labels import Label, place
from app.render.timeline import (
    AXIS_H,
    BAND_H,
    BAR_H,
    LABEL_CHARS,
    LABEL_W,
    PAD,
    ROW_H,
    Diamond,
    GanttGroup,
    GanttLayout,
    Row,
    Span,
    Zoom,
    layout,
)
from rollup import figures

STUB = 8.0
"""How far an arrow runs straight out of a bar (and into one) before it turns."""
NO_DATES_X = 8.0


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _f(value: float) -> str:
    return f"{value:.1f}"


_HEAD = Markup(
    '<svg class="tl-chart tl-gantt" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
    'role="img" aria-labelledby="gantt-title gantt-desc" xmlns="http://www.w3.org/2000/svg">'
    '<title id="gantt-title">{title}</title><desc id="gantt-desc">{desc}</desc><defs>'
    '<marker id="tl-g-arrow" class="tl-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
    'markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/>'
    "</marker>"
    '<marker id="tl-g-arrow-late" class="tl-arrow-late" viewBox="0 0 10 10" refX="9" refY="5" '
    'markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/>'
    "</marker></defs>"
)
_EMPTY = Markup(
    '<svg class="tl-chart tl-gantt-empty" viewBox="0 0 480 48" role="img" '
    'xmlns="http://www.w3.org/2000/svg"><title>{title}</title><desc>{text}</desc>'
    '<text x="12" y="28" class="tl-axis">{text}</text></svg>'
)
_TEXT = Markup('<text class="{css}" x="{x}" y="{y}">{text}<title>{tip}</title></text>')
_LINK = Markup('<a href="{href}">{inner}</a>')
_RECT = Markup(
    '<rect class="{css}" x="{x}" y="{y}" width="{w}" height="{h}"><title>{tip}</title></rect>'
)
_DIAMOND = Markup('<polygon class="{css}" points="{points}"><title>{tip}</title></polygon>')
_PATH = Markup(
    '<path class="{css}" d="{d}" marker-end="url(#{marker})"><title>{tip}</title></path>'
)
_LINE = Markup('<line class="{css}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>')


@dataclass(frozen=True, slots=True)
class GanttLink:
    before: str
    after: str
    late: bool
    tip: str


def _day(value: date | None) -> str:
    return figures.day(value) if value else "—"


def _linked(href: str | None, inner: Markup) -> Markup:
    return _LINK.format(href=href, inner=inner) if href else inner


def _label(row: Row, css: str, x: float, dy: float = 0.0) -> Markup:
    text = _TEXT.format(
        css=css,
        x=_f(x),
        y=_f(row.y + row.height / 2 + 4 + dy),
        text=_short(row.label),
        tip=f"{row.label} — {row.detail}" if row.detail else row.label,
    )
    return _linked(row.href, text)


def _diamond(plan: GanttLayout, d: Diamond, cy: float, today: date) -> Markup:
    if d.on is None:
        return Markup("")
    x, r = plan.x(d.on), 6.0
    overdue = not d.done and d.on < today
    css = "tl-g-ms" + (" tl-g-ms-done" if d.done else "") + (" tl-g-ms-late" if overdue else "")
    points = f"{_f(x)},{_f(cy - r)} {_f(x + r)},{_f(cy)} {_f(x)},{_f(cy + r)} {_f(x - r)},{_f(cy)}"
    state = "done" if d.done else "overdue" if overdue else "due"
    tip = f"Milestone {d.label}: {state} {_day(d.on)}"
    return _linked(d.href, _DIAMOND.format(css=css, points=points, tip=tip))


def _rect(css: str, span: Span, y: float, h: float, tip: str) -> Markup:
    return _RECT.format(css=css, x=_f(span.x0), y=_f(y), w=_f(span.x1 - span.x0), h=_f(h), tip=tip)


def _bar(plan: GanttLayout, row: Row, today: date) -> Markup:
    bar = row.bar
    assert bar is not None
    top = row.y + (ROW_H - BAR_H) / 2
    parts = [_label(row, "tl-g-label", PAD + 8)]
    if bar.baseline:
        kept = plan.span(*bar.baseline)
        if kept:
            tip = f"Baseline: {_day(bar.baseline[0])} to {_day(bar.baseline[1])}"
            parts.append(_rect("tl-g-baseline", kept, top + BAR_H + 1, 3, tip))
    end = bar.finished_on or bar.due
    planned = plan.span(bar.start, end) or plan.span(bar.start, max(today, bar.start or today))
    css = (
        "tl-g-bar"
        + (" tl-g-done" if bar.finished_on else "")
        + (" tl-g-late" if bar.late else "")
        + (" tl-g-critical" if bar.critical else "")
    )
    if planned:
        tip = (
            f"{bar.label}: {_day(bar.start)} to "
            + (f"finished {_day(bar.finished_on)}" if bar.finished_on else f"due {_day(bar.due)}")
            + (" (no due date)" if end is None else "")
            + (", late" if bar.late else "")
            + (", on a critical path" if bar.critical else "")
        )
        parts.append(_rect(css, planned, top, BAR_H, tip))
    elif bar.due is not None:
        parts.append(
            _rect(
                css, Span(plan.x(bar.due), plan.x(bar.due) + 3), top, BAR_H, f"due {_day(bar.due)}"
            )
        )
    forecast = plan.span(bar.p50, bar.p85 or bar.p50)
    if not planned and bar.due is None and not (forecast and not bar.finished_on):
        parts.append(_undated(plan, row))
    if forecast and not bar.finished_on:
        tip = f"Forecast P50 {_day(bar.p50)}, P85 {_day(bar.p85)}"
        parts.append(
            _rect(
                "tl-g-range" + (" tl-g-late" if bar.late else ""),
                forecast,
                top + (BAR_H - BAND_H) / 2,
                BAND_H,
                tip,
            )
        )
    parts += [_diamond(plan, m, row.y + ROW_H / 2, today) for m in bar.milestones]
    return Markup("").join(parts)


def _undated(plan: GanttLayout, row: Row) -> Markup:
    """A bar without a start, a due date or a forecast: a hollow marker that says so."""
    x, mid = plan.scale.left + NO_DATES_X, row.y + ROW_H / 2
    tip = f"{row.label}: no start, due or forecast date yet"
    return _RECT.format(
        css="tl-g-undated", x=_f(x - 5), y=_f(mid - 5), w="10", h="10", tip=tip
    ) + _TEXT.format(css="tl-g-undated-label", x=_f(x + 9), y=_f(mid + 4), text="no dates", tip=tip)


def _group(plan: GanttLayout, row: Row, bottom: float, today: date, words: list[_Words]) -> Markup:
    group = row.group
    assert group is not None
    parts = [
        _RECT.format(
            css="tl-g-group", x="0", y=_f(row.y), w=_f(plan.width), h=_f(row.height), tip=row.label
        ),
        _label(row, "tl-g-group-label", PAD, dy=-6),
    ]
    if row.detail:
        # The outcome's target, forecast and deciding team, readable without hovering.
        parts.append(
            _TEXT.format(
                css="tl-g-group-detail",
                x=_f(PAD),
                y=_f(row.y + row.height - 5),
                text=_short(row.detail, LABEL_CHARS + 8),
                tip=row.detail,
            )
        )
    mid = row.y + row.height / 2
    forecast = plan.span(group.p50, group.p85 or group.p50)
    if forecast:
        tip = f"{group.label}: forecast P50 {_day(group.p50)}, P85 {_day(group.p85)}"
        parts.append(
            _rect("tl-g-range tl-g-outcome-range", forecast, mid - BAND_H / 2, BAND_H, tip)
        )
    parts += [_diamond(plan, m, mid, today) for m in group.milestones]
    if group.target is not None:
        x = plan.x(group.target + timedelta(days=1))
        parts.append(
            _LINE.format(css="tl-g-target", x1=_f(x), y1=_f(row.y + 2), x2=_f(x), y2=_f(bottom))
        )
        words.append(
            _Words(
                Label("target", x + 3, row.y + 11, size=10),
                "tl-g-target-label",
                f"{group.label}: target {_day(group.target)}",
            )
        )
    return Markup("").join(parts)


@dataclass(frozen=True, slots=True)
class _Words:
    """A label on the dates' area, placed with the others so none covers another."""

    label: Label
    css: str
    tip: str

    def markup(self, placed: Label) -> Markup:
        return _TEXT.format(
            css=self.css, x=_f(placed.x), y=_f(placed.y), text=placed.text, tip=self.tip
        )


def _links(plan: GanttLayout, links: Sequence[GanttLink]) -> Markup:
    drawn = []
    lanes = _Lanes(plan)
    for link in sorted(links, key=lambda k: (k.late, k.before, k.after)):
        if link.before not in plan.centre or link.after not in plan.centre:
            continue
        if link.before == link.after:
            continue
        points = lanes.route(link.before, link.after)
        d = "M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in points)
        css = "tl-g-link" + (" tl-g-link-late" if link.late else "")
        marker = "tl-g-arrow-late" if link.late else "tl-g-arrow"
        drawn.append(_PATH.format(css=css, d=d, marker=marker, tip=link.tip))
    return Markup("").join(drawn)


class _Lanes:
    """Where an arrow may run: along the gap between two rows (no bar reaches it), and
    down a vertical lane where no row it passes holds anything drawn."""

    def __init__(self, plan: GanttLayout) -> None:
        self.plan = plan
        self.rows = plan.rows
        self.busy = [_occupied(plan, row) for row in plan.rows]
        self.index = {r.bar.id: n for n, r in enumerate(plan.rows) if r.bar is not None}

    def route(self, before: str, after: str) -> list[tuple[float, float]]:
        """The corners of an arrow from ``before``'s end to ``after``'s start."""
        plan = self.plan
        source, target = self.index[before], self.index[after]
        x1, y1 = plan.ends[before][0], plan.centre[before]
        x2, y2 = plan.ends[after][1], plan.centre[after]
        down = target > source
        gap_out = self._edge(source, below=down)
        gap_in = self._edge(target, below=not down)
        out_x, in_x = x1 + STUB, max(x2 - STUB, plan.scale.left - STUB)
        lane = self._lane(source, target, (out_x, in_x))
        return [
            (x1, y1),
            (out_x, y1),
            (out_x, gap_out),
            (lane, gap_out),
            (lane, gap_in),
            (in_x, gap_in),
            (in_x, y2),
            (x2, y2),
        ]

    def _edge(self, n: int, *, below: bool) -> float:
        row = self.rows[n]
        return row.y + row.height if below else row.y

    def _lane(self, source: int, target: int, wanted: tuple[float, float]) -> float:
        """The first x, of the wanted ones then further right, that crosses no drawn part
        of the rows between; else the gutter left of the dates, which nothing crosses."""
        low, high = sorted((source, target))
        between = [self.busy[n] for n in range(low + 1, high)]
        candidates = [*wanted, *(wanted[0] + STUB * k for k in range(1, 200))]
        for x in candidates:
            if x <= self.plan.scale.left or x >= self.plan.scale.right:
                continue
            if not any(a - STUB / 2 <= x <= b + STUB / 2 for part in between for a, b in part):
                return x
        return LABEL_W - STUB


def _occupied(plan: GanttLayout, row: Row) -> list[tuple[float, float]]:
    """The horizontal extents of what a row draws in the dates' area."""
    spans: list[tuple[float, float]] = []
    if row.bar is not None:
        bar = row.bar
        known = [d for d in (bar.start, bar.due, bar.finished_on, bar.p50, bar.p85) if d]
        known += [d for d in bar.baseline or () if d]
        if known:
            spans.append((plan.x(min(known)), plan.x(max(known) + timedelta(days=1))))
        else:
            spans.append((plan.scale.left, plan.scale.left + NO_DATES_X + 70))
        spans += [(plan.x(m.on) - 7, plan.x(m.on) + 7) for m in bar.milestones if m.on]
    elif row.group is not None:
        group = row.group
        forecast = plan.span(group.p50, group.p85 or group.p50)
        if forecast:
            spans.append((forecast.x0, forecast.x1))
        spans += [(plan.x(m.on) - 7, plan.x(m.on) + 7) for m in group.milestones if m.on]
    return spans


def gantt_svg(
    groups: Sequence[GanttGroup],
    links: Sequence[GanttLink] = (),
    *,
    title: str,
    today: date,
    zoom: Zoom = "month",
) -> Markup:
    """An accessible inline SVG of the roadmap; every label is escaped."""
    if not any(s.bars for g in groups for s in g.sections) and not any(
        g.milestones for g in groups
    ):
        return _EMPTY.format(title=title, text="Nothing to draw yet: no work has been rolled up.")
    plan = layout(groups, today=today, zoom=zoom)
    bars = [r for r in plan.rows if r.kind == "bar"]
    late = sum(1 for r in bars if r.bar and r.bar.late)
    desc = (
        f"{len(bars)} bars in {len(groups)} outcomes from {_day(plan.scale.start)} to "
        f"{_day(plan.scale.end)}, "
        + ("centred on today" if zoom == "fit" else f"by {zoom}")
        + f"; {late} late; "
        f"{len(links)} dependencies between bars, {sum(1 for k in links if k.late)} late (red)."
    )
    parts = [_HEAD.format(w=_f(plan.width), h=_f(plan.height), title=title, desc=desc)]
    words = []
    for day, text in plan.ticks:
        x = plan.x(day)
        parts.append(
            _LINE.format(css="tl-grid", x1=_f(x), y1=_f(AXIS_H - 6), x2=_f(x), y2=_f(plan.height))
        )
        words.append(_Words(Label(text, x + 3, AXIS_H - 12), "tl-axis", _day(day)))
    bottoms = _group_bottoms(plan)
    for row in plan.rows:
        if row.kind == "group":
            parts.append(_group(plan, row, bottoms[id(row)], today, words))
        elif row.kind == "section":
            parts.append(_label(row, "tl-g-section", PAD + 4))
        else:
            parts.append(_bar(plan, row, today))
    parts.append(_links(plan, links))
    x = plan.x(today)
    parts.append(
        _LINE.format(css="tl-today", x1=_f(x), y1=_f(AXIS_H - 6), x2=_f(x), y2=_f(plan.height))
    )
    words.append(
        _Words(Label("today", x + 3, AXIS_H + 10, bold=True), "tl-today tl-label", _day(today))
    )
    placed = place(
        [w.label for w in words], top=0, bottom=plan.height, left=LABEL_W, right=plan.width
    )
    parts += [w.markup(p) for w, p in zip(words, placed, strict=True)]
    return Markup("").join(parts) + Markup("</svg>")


def _group_bottoms(plan: GanttLayout) -> dict[int, float]:
    """Each outcome row → the bottom of its last row (where its target mark ends)."""
    found: dict[int, float] = {}
    current: Row | None = None
    for row in plan.rows:
        if row.kind == "group":
            current = row
        if current is not None:
            found[id(current)] = row.y + row.height
    return found
