"""The roadmap chart's geometry: dates to pixels at each zoom, rows in order and never
overlapping, clipping of far dates, and text drawn as text."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import pytest

from app.render.gantt import GanttLink, gantt_svg
from app.render.labels import Label, overlap
from app.render.timeline import (
    LABEL_W,
    MAX_DAYS,
    PX_PER_DAY,
    Diamond,
    GanttBar,
    GanttGroup,
    GanttSection,
    layout,
    time_range,
)

TODAY = date(2026, 11, 20)


def _bar(id_: str, start: date | None, due: date | None, **kw: object) -> GanttBar:
    return GanttBar(id=id_, label=f"Bar {id_}", start=start, due=due, **kw)  # type: ignore[arg-type]


def _groups() -> list[GanttGroup]:
    return [
        GanttGroup(
            "Pay",
            target=date(2027, 3, 31),
            p50=date(2027, 3, 1),
            p85=date(2027, 4, 1),
            sections=(
                GanttSection(
                    "jira · PAY",
                    (
                        _bar(
                            "a",
                            date(2026, 10, 1),
                            date(2026, 12, 15),
                            p50=date(2027, 1, 5),
                            p85=date(2027, 1, 20),
                            late=True,
                        ),
                        _bar("b", date(2026, 10, 10), date(2026, 11, 30)),
                    ),
                ),
                GanttSection("asana · Web", (_bar("c", date(2026, 11, 1), date(2027, 2, 1)),)),
            ),
            milestones=(Diamond("Beta", date(2027, 1, 15)),),
        ),
        GanttGroup(
            "Web",
            sections=(GanttSection("jira · WEB", (_bar("d", None, None, p50=date(2027, 2, 1)),)),),
        ),
    ]


@pytest.mark.parametrize("zoom", ["quarter", "month", "week"])
def test_dates_map_to_pixels_at_the_zooms_rate(zoom: str) -> None:
    plan = layout(_groups(), today=TODAY, zoom=zoom)  # type: ignore[arg-type]
    day = date(2026, 12, 1)
    rate = PX_PER_DAY[zoom]  # type: ignore[index]
    assert plan.scale(day + timedelta(days=10)) - plan.scale(day) == pytest.approx(10 * rate)
    assert plan.scale(plan.scale.start) == LABEL_W
    assert plan.width == pytest.approx(
        LABEL_W + (plan.scale.end - plan.scale.start).days * rate + 10
    )


@pytest.mark.parametrize(
    ("zoom", "start", "end"),
    [
        ("quarter", date(2026, 10, 1), date(2027, 7, 1)),
        ("month", date(2026, 10, 1), date(2027, 5, 1)),
        ("week", date(2026, 10, 5), date(2027, 4, 5)),
    ],
)
def test_the_range_runs_from_the_first_period_to_the_end_of_the_last(
    zoom: str, start: date, end: date
) -> None:
    assert time_range(_groups(), today=TODAY, zoom=zoom) == (start, end)  # type: ignore[arg-type]


def test_ticks_name_each_period() -> None:
    assert [t for _, t in layout(_groups(), today=TODAY, zoom="quarter").ticks] == [
        "Q4 2026",
        "Q1 2027",
        "Q2 2027",
    ]
    weeks = layout(_groups(), today=TODAY, zoom="week").ticks
    assert all(d.weekday() == 0 for d, _ in weeks)


def test_rows_keep_outcome_then_project_then_bar_order_and_never_overlap() -> None:
    plan = layout(_groups(), today=TODAY, zoom="month")
    assert [(r.kind, r.label) for r in plan.rows] == [
        ("group", "Pay"),
        ("section", "jira · PAY"),
        ("bar", "Bar a"),
        ("bar", "Bar b"),
        ("section", "asana · Web"),
        ("bar", "Bar c"),
        ("group", "Web"),
        ("section", "jira · WEB"),
        ("bar", "Bar d"),
    ]
    for above, below in zip(plan.rows, plan.rows[1:], strict=False):
        assert above.y + above.height <= below.y
    assert plan.height >= plan.rows[-1].y + plan.rows[-1].height


def test_bars_overlapping_in_time_get_rows_of_their_own() -> None:
    plan = layout(_groups(), today=TODAY, zoom="month")
    assert plan.centre["a"] != plan.centre["b"]
    a, b = (
        plan.span(date(2026, 10, 1), date(2026, 12, 15)),
        plan.span(date(2026, 10, 10), date(2026, 11, 30)),
    )
    assert a is not None
    assert b is not None
    assert a.x0 < b.x0 < b.x1 < a.x1, "b lies inside a in time"


def test_a_span_covers_its_last_day_and_is_never_inverted() -> None:
    plan = layout(_groups(), today=TODAY, zoom="week")
    one_day = plan.span(TODAY, TODAY)
    assert one_day is not None
    assert one_day.x1 - one_day.x0 == pytest.approx(PX_PER_DAY["week"])
    assert plan.span(TODAY, TODAY - timedelta(days=1)) is None
    assert plan.span(None, TODAY) is None


def test_arrows_leave_a_bar_at_its_last_date_and_enter_at_its_first() -> None:
    plan = layout(_groups(), today=TODAY, zoom="month")
    leave, enter = plan.ends["a"]
    assert leave == pytest.approx(plan.scale(date(2027, 1, 21)))
    assert enter == pytest.approx(plan.scale(date(2026, 10, 1)))


def test_far_dates_are_clipped_to_the_drawing() -> None:
    groups = [
        GanttGroup(
            "Far", sections=(GanttSection("s", (_bar("x", date(1999, 1, 1), date(2090, 1, 1)),)),)
        )
    ]
    start, end = time_range(groups, today=TODAY, zoom="month")
    assert start == date(2026, 5, 1), "half a year back at the month's zoom"
    assert (end - start).days <= MAX_DAYS + 62
    plan = layout(groups, today=TODAY, zoom="month")
    span = plan.span(date(1999, 1, 1), date(2090, 1, 1))
    assert span is not None
    assert (span.x0, span.x1) == (plan.scale.left, plan.scale.right)


@pytest.mark.parametrize(
    ("zoom", "start"), [("quarter", date(2024, 10, 1)), ("week", date(2026, 10, 5))]
)
def test_each_zoom_looks_back_its_own_distance(zoom: str, start: date) -> None:
    groups = [
        GanttGroup("Old", sections=(GanttSection("s", (_bar("x", date(2020, 1, 1), TODAY),)),))
    ]
    assert time_range(groups, today=TODAY, zoom=zoom)[0] == start  # type: ignore[arg-type]


def test_the_chart_draws_every_part() -> None:
    svg = str(
        gantt_svg(_groups(), [GanttLink("b", "c", True, "b waits")], title="Roadmap", today=TODAY)
    )
    assert svg.count('class="tl-g-bar') == 3
    assert 'class="tl-g-bar tl-g-late"' in svg
    assert svg.count('class="tl-g-range') == 3, "two bars and one outcome have a forecast"
    assert svg.count('class="tl-g-ms') == 1
    assert 'class="tl-g-target"' in svg
    assert 'class="tl-today"' in svg
    assert 'class="tl-g-link tl-g-link-late"' in svg
    assert 'marker-end="url(#tl-g-arrow-late)"' in svg


def test_text_is_escaped_in_labels_and_tooltips() -> None:
    evil = "<img src=x onerror=alert(1)>"
    groups = [
        GanttGroup(
            evil,
            detail=evil,
            sections=(
                GanttSection(
                    evil,
                    (_bar("e", TODAY, TODAY, detail=evil, milestones=(Diamond(evil, TODAY),)),),
                ),
            ),
        )
    ]
    svg = str(gantt_svg(groups, [GanttLink("e", "e", False, evil)], title=evil, today=TODAY))
    assert "<img" not in svg
    assert "&lt;img" in svg
    assert not re.search(r"<[^>]*onerror", svg)


def test_an_empty_roadmap_says_so() -> None:
    svg = str(gantt_svg([GanttGroup("Pay")], title="Roadmap", today=TODAY))
    assert "Nothing to draw yet" in svg


def _rects(svg: str, classes: tuple[str, ...]) -> list[tuple[float, float, float, float]]:
    found = []
    for match in re.finditer(
        r'<rect class="([^"]+)" x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"',
        svg,
    ):
        css, x, y, w, h = match.group(1), *map(float, match.groups()[1:])
        if css.split()[0] in classes:
            found.append((x, y, x + w, y + h))
    return found


def _segments(svg: str) -> list[list[tuple[tuple[float, float], tuple[float, float]]]]:
    paths = []
    for d in re.findall(r'<path class="tl-g-link[^"]*" d="([^"]+)"', svg):
        points = [tuple(map(float, p.split(","))) for p in d[1:].split(" L")]
        paths.append(list(itertools.pairwise(points)))
    return paths  # type: ignore[return-value]


def _crosses(
    segment: tuple[tuple[float, float], tuple[float, float]],
    rect: tuple[float, float, float, float],
) -> bool:
    (ax, ay), (bx, by) = segment
    left, top, right, bottom = rect
    lo_x, hi_x, lo_y, hi_y = min(ax, bx), max(ax, bx), min(ay, by), max(ay, by)
    return lo_x < right and hi_x > left and lo_y < bottom and hi_y > top


def test_arrows_run_around_bars_between_their_ends() -> None:
    # b sits between a and c and spans the straight line from a's end to c's start.
    bars = (
        _bar("a", date(2026, 10, 1), date(2026, 11, 10)),
        _bar("b", date(2026, 9, 1), date(2027, 3, 1), p50=date(2027, 3, 10)),
        _bar("c", date(2026, 12, 1), date(2027, 1, 15)),
        _bar("d", date(2026, 8, 1), date(2027, 4, 1)),
        _bar("e", date(2027, 1, 1), date(2027, 2, 1)),
    )
    groups = [GanttGroup("Pay", sections=(GanttSection("jira · PAY", bars),))]
    links = [
        GanttLink("a", "c", True, "c waits for a"),
        GanttLink("e", "a", False, "a waits for e (backwards)"),
        GanttLink("a", "e", False, "e waits for a, two rows down"),
    ]
    for zoom in ("fit", "month", "week"):
        svg = str(gantt_svg(groups, links, title="t", today=TODAY, zoom=zoom))  # type: ignore[arg-type]
        rects = _rects(svg, ("tl-g-bar", "tl-g-range", "tl-g-undated"))
        paths = _segments(svg)
        assert len(paths) == 3
        for segments in paths:
            # The first and last legs leave and enter the arrow's own bars.
            for segment in segments[1:-1]:
                assert not any(_crosses(segment, r) for r in rects), (zoom, segment)


def test_an_epic_without_dates_is_a_marker_that_says_so() -> None:
    groups = [GanttGroup("Pay", sections=(GanttSection("jira · PAY", (_bar("x", None, None),)),))]
    svg = str(gantt_svg(groups, title="t", today=TODAY))
    assert 'class="tl-g-undated"' in svg
    assert ">no dates<" in svg


def test_the_fit_view_centres_today_and_holds_the_whole_forecast() -> None:
    plan = layout(_groups(), today=TODAY, zoom="fit")
    middle = (plan.scale.left + plan.scale.right) / 2
    assert plan.scale(TODAY) == pytest.approx(middle, abs=1)
    assert plan.scale.end > date(2027, 4, 1), "the outcome's P85 is in view"
    assert plan.scale.right - plan.scale.left == pytest.approx(840)
    assert plan.ticks, "months are named"


@pytest.mark.parametrize("zoom", ["fit", "quarter", "month", "week"])
def test_labels_on_the_dates_never_overlap(zoom: str) -> None:
    near = [
        GanttGroup(
            f"Outcome {n}",
            target=TODAY + timedelta(days=n - 1),
            p50=TODAY + timedelta(days=400),
            sections=(GanttSection("s", (_bar(f"b{n}", TODAY, TODAY + timedelta(days=9)),)),),
        )
        for n in range(3)
    ]
    svg = str(gantt_svg(near, title="t", today=TODAY, zoom=zoom))  # type: ignore[arg-type]
    found = [
        Label(
            text,
            float(x),
            float(y),
            size=10 if "target" in css else 11,
            bold="tl-label" in css,
        )
        for css, x, y, text in re.findall(
            r'<text class="(tl-axis|tl-g-target-label|tl-today tl-label)" x="([\d.]+)" '
            r'y="([\d.]+)">([^<]+)<',
            svg,
        )
    ]
    assert sum(1 for label in found if label.text == "target") == 3
    assert any(label.text == "today" for label in found)
    for n, first in enumerate(found):
        for second in found[n + 1 :]:
            assert not overlap(first, second, gap=0), (first, second)
