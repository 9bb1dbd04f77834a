"""The roadmap and resources pages: what they show, zoom and baseline from the address,
and links that lead somewhere."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest


async def test_the_program_page_links_to_its_roadmap_and_resources(site: httpx.AsyncClient) -> None:
    html = (await site.get("/programs/checkout")).text
    assert 'href="/programs/checkout/roadmap"' in html
    assert 'href="/programs/checkout/resources"' in html


async def test_roadmap_page_draws_the_gantt_chart(site: httpx.AsyncClient) -> None:
    response = await site.get("/programs/checkout/roadmap")
    assert response.status_code == 200
    html = response.text
    for text in (
        'class="tl-chart tl-gantt"',
        "Pay in one click",
        "PAY-1 Title of PAY-1",
        'class="tl-g-ms',
        'class="tl-today"',
        'class="tl-g-target"',
        "tl-g-range",
        "Milestone PAY-7",
        "by month",
        "Outcomes and the teams that decide their dates",
    ):
        assert text in html, text
    assert "dependency" in html


@pytest.mark.parametrize(
    ("zoom", "tick"), [("quarter", "Q4 2026"), ("month", "Nov 2026"), ("week", "16 Nov")]
)
async def test_zoom_changes_the_time_scale(site: httpx.AsyncClient, zoom: str, tick: str) -> None:
    html = (await site.get(f"/programs/checkout/roadmap?zoom={zoom}")).text
    assert f"roadmap by {zoom}" in html
    assert f">{tick}<" in html
    widths = re.search(r'class="tl-chart tl-gantt" viewBox="0 0 ([\d.]+)', html)
    assert widths is not None


async def test_a_finer_zoom_draws_a_wider_chart(site: httpx.AsyncClient) -> None:
    def width(html: str) -> float:
        found = re.search(r'class="tl-chart tl-gantt" viewBox="0 0 ([\d.]+)', html)
        assert found is not None
        return float(found.group(1))

    sizes = [
        width((await site.get(f"/programs/checkout/roadmap?zoom={z}")).text)
        for z in ("quarter", "month", "week")
    ]
    assert sizes == sorted(sizes)
    assert sizes[0] < sizes[2]


async def test_an_unknown_zoom_or_baseline_is_refused(site: httpx.AsyncClient) -> None:
    assert (await site.get("/programs/checkout/roadmap?zoom=decade")).status_code == 422
    assert (await site.get("/programs/checkout/roadmap?baseline=soon")).status_code == 422


async def test_the_roadmap_says_which_baseline_it_draws(site: httpx.AsyncClient) -> None:
    html = (await site.get("/programs/checkout/roadmap?baseline=2026-11-20")).text
    assert "the snapshot of" in html
    html = (await site.get("/programs/checkout/roadmap?baseline=2001-01-01")).text
    assert "no baseline to draw" in html


async def test_resources_page_shows_people_and_unassigned_work(site: httpx.AsyncClient) -> None:
    response = await site.get("/programs/checkout/resources")
    assert response.status_code == 200
    html = response.text
    for text in (
        "People",
        "Teams",
        "<strong>ana</strong>",
        "Unassigned remaining work",
        "What it does to the dates",
    ):
        assert text in html, text
    links = [unescape(h) for h in re.findall(r'href="(/items\?[^"]*)"', html)]
    assert links
    for href in links:
        assert (await site.get(href)).status_code == 200
