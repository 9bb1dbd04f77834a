"""The burnup chart: geometry, the forecast cone, text alternatives and escaping."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

import pytest

from app.render.axis import DateScale, LinearScale, nice_top
from app.render.burnup import BurnupPoint, burnup_svg
from app.render.labels import Label, overlap

START = date(2026, 9, 7)
POINTS = [BurnupPoint(START + timedelta(weeks=w), scope=40 + 2 * w, done=3 * w) for w in range(10)]


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def test_chart_is_well_formed_svg_with_a_text_alternative() -> None:
    svg = burnup_svg(
        POINTS,
        title="Checkout v2",
        target=date(2027, 3, 31),
        p50=date(2027, 1, 15),
        p85=date(2027, 2, 20),
    )
    root = parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "Checkout v2"
    desc = root.find(f"{ns}desc").text
    assert desc == (
        "Done 27 of 58 items on 9 Nov 2026. Forecast P50 15 Jan 2027, P85 20 Feb 2027. "
        "Target 31 Mar 2027."
    )
    assert root.find(f"{ns}polygon[@class='tl-cone']") is not None
    assert "<script" not in svg


def test_cone_runs_from_todays_done_to_scope_between_p50_and_p85() -> None:
    svg = burnup_svg(POINTS, title="t", p50=date(2027, 1, 15), p85=date(2027, 2, 20))
    cone = re.search(r'class="tl-cone" points="([^"]+)"', svg)
    assert cone is not None
    (x0, y0), (x1, y1), (x2, y2) = [tuple(map(float, p.split(","))) for p in cone.group(1).split()]
    assert y1 == y2 < y0, "the cone ends on the scope line, above today's done point"
    assert x0 < x1 < x2, "today, then P50, then P85"


def test_no_forecast_means_no_cone() -> None:
    assert "tl-cone" not in burnup_svg(POINTS, title="t")


def test_text_is_escaped() -> None:
    svg = burnup_svg(POINTS, title="<img src=x onerror=alert(1)>", unit="<b>pts</b>")
    assert "<img" not in svg
    assert "&lt;img src=x onerror=alert(1)&gt;" in svg
    parse(svg)


def test_empty_history_says_so() -> None:
    svg = burnup_svg([], title="New program")
    assert "No history yet" in svg
    parse(svg)


def test_scales_map_ends_to_edges() -> None:
    x = DateScale(date(2026, 1, 1), date(2026, 12, 31), 10, 110)
    assert (x(date(2026, 1, 1)), x(date(2026, 12, 31))) == (10, 110)
    y = LinearScale(50, bottom_px=200, top_px=0)
    assert (y(0), y(50), y(25)) == (200, 0, 100)
    assert nice_top(47) == 50
    assert [nice_top(v) for v in (0, 0.5, 96, 99.9, 100, 951)] == [1, 0.6, 120, 120, 120, 1000]
    assert x.ticks()[0] == date(2026, 1, 1)


def _label_boxes(svg: str) -> list[Label]:
    root = parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    return [
        Label(t.text or "", float(t.get("x", 0)), float(t.get("y", 0)), bold=True)
        for t in root.iter(f"{ns}text")
        if "tl-label" in (t.get("class") or "")
    ]


@pytest.mark.parametrize(
    ("points", "target"),
    [
        pytest.param(POINTS, POINTS[-1].on, id="target-is-today"),
        pytest.param(POINTS, POINTS[-1].on + timedelta(days=3), id="target-days-after-today"),
        pytest.param(
            [BurnupPoint(START + timedelta(weeks=w), 53, 40 + w) for w in range(14)],
            None,
            id="done-nearly-scope",
        ),
        pytest.param(
            [BurnupPoint(START + timedelta(weeks=w), 53, 53 if w > 3 else w) for w in range(6)],
            START,
            id="finished-with-target-at-the-start",
        ),
    ],
)
def test_labels_never_overlap(points: list[BurnupPoint], target: date | None) -> None:
    svg = burnup_svg(points, title="t", target=target, today=points[-1].on)
    labels = _label_boxes(svg)
    assert {label.text for label in labels} >= {"Scope", "Done", "today"}
    for n, first in enumerate(labels):
        left, top, right, bottom = first.box
        assert 0 <= left < right <= 640, first
        assert 0 <= top < bottom <= 260, first
        for second in labels[n + 1 :]:
            assert not overlap(first, second, gap=0), (first, second)
