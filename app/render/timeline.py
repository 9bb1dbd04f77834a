"""The roadmap's geometry: dates to pixels at a zoom, and rows top to bottom.

An outcome's row, then per project a heading and one row per bar: bars never share a
row, so they cannot overlap. ``app.render.gantt`` draws what ``layout`` places.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from app.render.axis import DateScale

Zoom = Literal["fit", "quarter", "month", "week"]
ZOOMS: tuple[Zoom, ...] = ("fit", "quarter", "month", "week")
PX_PER_DAY: dict[Zoom, float] = {"quarter": 1.5, "month": 5.0, "week": 16.0}
FIT_WIDTH = 840.0
"""The drawing's width at the ``fit`` zoom: with the labels, it fits a laptop's page."""
TICK_ROOM = 64.0
"""Pixels a tick's name ("Sep 2026") needs before the next."""
FIT_MARGIN, FIT_LEAST = 14, 56
"""``fit`` reaches this many days past the last date ahead, and at least this far."""
LABEL_W, AXIS_H, PAD = 260.0, 30.0, 10.0
ROW_H, GROUP_H, SECTION_H = 24.0, 36.0, 20.0
BAR_H, BAND_H = 12.0, 6.0
MAX_DAYS = 5 * 366
"""The widest span drawn: a stray date decades away would make the chart unreadable
(what lies beyond is clipped to the edge and said so in the bar's tooltip)."""
LABEL_CHARS = 36
LOOKBACK: dict[Zoom, int] = {"fit": MAX_DAYS, "quarter": 2 * 365, "month": 183, "week": 42}
"""Days of the past each zoom shows before today."""


@dataclass(frozen=True, slots=True)
class Diamond:
    label: str
    on: date | None
    done: bool = False
    href: str | None = None


@dataclass(frozen=True, slots=True)
class GanttBar:
    id: str
    label: str
    detail: str = ""
    href: str | None = None
    start: date | None = None
    due: date | None = None
    finished_on: date | None = None
    p50: date | None = None
    p85: date | None = None
    late: bool = False
    critical: bool = False
    baseline: tuple[date | None, date | None] | None = None
    """(start, end) as the baseline snapshot kept them."""
    milestones: tuple[Diamond, ...] = ()


@dataclass(frozen=True, slots=True)
class GanttSection:
    label: str
    bars: tuple[GanttBar, ...]


@dataclass(frozen=True, slots=True)
class GanttGroup:
    """An outcome: its target and forecast on its own row, then its projects' bars."""

    label: str
    detail: str = ""
    href: str | None = None
    target: date | None = None
    p50: date | None = None
    p85: date | None = None
    sections: tuple[GanttSection, ...] = ()
    milestones: tuple[Diamond, ...] = ()
    """Milestones under no bar: drawn on the outcome's row."""


@dataclass(frozen=True, slots=True)
class Row:
    kind: Literal["group", "section", "bar"]
    y: float
    height: float
    label: str
    detail: str = ""
    href: str | None = None
    bar: GanttBar | None = None
    group: GanttGroup | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """A horizontal extent in pixels (already clipped to the drawing)."""

    x0: float
    x1: float


@dataclass(slots=True)
class GanttLayout:
    zoom: Zoom
    scale: DateScale
    width: float
    height: float
    rows: list[Row] = field(default_factory=list)
    ticks: list[tuple[date, str]] = field(default_factory=list)
    centre: dict[str, float] = field(default_factory=dict)
    """Bar id → y of the middle of its row."""
    ends: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Bar id → x where arrows leave it (its end) and enter it (its start)."""

    def x(self, day: date) -> float:
        """A date's x, clipped to the drawing."""
        return min(max(self.scale(day), self.scale.left), self.scale.right)

    def span(self, start: date | None, end: date | None) -> Span | None:
        if start is None or end is None or end < start:
            return None
        return Span(self.x(start), max(self.x(end + timedelta(days=1)), self.x(start) + 2.0))


def _dates(groups: Sequence[GanttGroup]) -> Iterable[date | None]:
    for g in groups:
        yield from (g.target, g.p50, g.p85)
        yield from (m.on for m in g.milestones)
        for s in g.sections:
            for b in s.bars:
                yield from (b.start, b.due, b.finished_on, b.p50, b.p85)
                yield from b.baseline or ()
                yield from (m.on for m in b.milestones)


def _floor(day: date, zoom: Zoom) -> date:
    if zoom == "fit":
        return day
    if zoom == "week":
        return day - timedelta(days=day.weekday())
    month = day.month if zoom == "month" else 3 * ((day.month - 1) // 3) + 1
    return date(day.year, month, 1)


def _next(day: date, zoom: Zoom) -> date:
    if zoom == "week":
        return day + timedelta(days=7)
    months = 1 if zoom == "month" else 3
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


def _tick_label(day: date, zoom: Zoom) -> str:
    if zoom == "fit":
        return day.strftime("%b %Y")
    if zoom == "quarter":
        return f"Q{(day.month - 1) // 3 + 1} {day.year}"
    return day.strftime("%b %Y") if zoom == "month" else day.strftime("%d %b")


def time_range(groups: Sequence[GanttGroup], *, today: date, zoom: Zoom) -> tuple[date, date]:
    """From the first period holding any date to the end of the last, today included.

    The past reaches back at most ``LOOKBACK[zoom]`` (a week's zoom is for the weeks
    around today, a quarter's for the long view), the whole at most ``MAX_DAYS``; what
    lies beyond is clipped to the edge, and the page's table still lists every date.
    ``fit`` centres today: as much past as future, the future reaching past the last date
    ahead (a forecast, a target, a due date), so the whole forecast is in view.
    """
    known = [d for d in _dates(groups) if d is not None] + [today]
    if zoom == "fit":
        ahead = max((d - today).days for d in known)
        half = min(max(ahead + FIT_MARGIN, FIT_LEAST), MAX_DAYS // 2)
        return today - timedelta(days=half), today + timedelta(days=half)
    first = max(min(known), today - timedelta(days=LOOKBACK[zoom]))
    last = min(max(known), first + timedelta(days=MAX_DAYS))
    return _floor(first, zoom), _next(_floor(last, zoom), zoom)


def layout(groups: Sequence[GanttGroup], *, today: date, zoom: Zoom) -> GanttLayout:
    """Rows top to bottom (an outcome, then per project its bars) and the time scale."""
    start, end = time_range(groups, today=today, zoom=zoom)
    per_day = FIT_WIDTH / (end - start).days if zoom == "fit" else PX_PER_DAY[zoom]
    right = LABEL_W + (end - start).days * per_day
    scale = DateScale(start, end, LABEL_W, right)
    plan = GanttLayout(zoom, scale, width=right + PAD, height=0.0)
    plan.ticks = _ticks(start, end, zoom)
    y = AXIS_H
    for g in groups:
        plan.rows.append(Row("group", y, GROUP_H, g.label, g.detail, g.href, group=g))
        y += GROUP_H
        for s in g.sections:
            plan.rows.append(Row("section", y, SECTION_H, s.label))
            y += SECTION_H
            for b in s.bars:
                plan.rows.append(Row("bar", y, ROW_H, b.label, b.detail, b.href, bar=b))
                plan.centre[b.id] = y + ROW_H / 2
                plan.ends[b.id] = _arrow_ends(plan, b)
                y += ROW_H
    plan.height = y + PAD
    return plan


def _ticks(start: date, end: date, zoom: Zoom) -> list[tuple[date, str]]:
    """A tick per period; at ``fit`` the first of every month, or of every second, third
    or sixth when months are too narrow for their names."""
    if zoom != "fit":
        ticks, tick = [], start
        while tick < end:
            ticks.append((tick, _tick_label(tick, zoom)))
            tick = _next(tick, zoom)
        return ticks
    per_month = FIT_WIDTH / (end - start).days * 30.4
    step = next((s for s in (1, 2, 3, 6) if s * per_month >= TICK_ROOM), 12)
    ticks, tick = [], date(start.year, start.month, 1)
    while tick < end:
        if tick >= start and (tick.month - 1) % step == 0:
            ticks.append((tick, _tick_label(tick, zoom)))
        tick = _next(tick, "month")
    return ticks


def _arrow_ends(plan: GanttLayout, bar: GanttBar) -> tuple[float, float]:
    """Arrows leave a bar at its last date (due, finish or P85) and enter at its first."""
    known = [d for d in (bar.start, bar.due, bar.finished_on, bar.p50, bar.p85) if d]
    if not known:
        return plan.scale.left, plan.scale.left
    return plan.x(max(known) + timedelta(days=1)), plan.x(min(known))
