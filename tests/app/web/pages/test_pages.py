"""The pages over HTTP: what each shows, that every link leads somewhere, the register forms."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import httpx
import pytest

from tests.app.web.pages.test_access import _csrf


def _links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(/[^"#]*)', html)]


async def test_every_link_on_every_page_leads_somewhere(site: httpx.AsyncClient) -> None:
    seen: set[str] = set()
    queue = ["/"]
    while queue and len(seen) < 400:
        path = queue.pop()
        if path in seen or path.startswith(("/sign-out", "/docs")):
            continue
        seen.add(path)
        response = await site.get(path)
        assert response.status_code == 200, path
        if response.headers["content-type"].startswith("text/html"):
            queue += _links(response.text)
    kinds = {urlsplit(p).path.split("/")[1] for p in seen}
    assert {"programs", "items", "api", "static"} <= kinds


async def test_portfolio_counts_lead_to_exactly_their_items(site: httpx.AsyncClient) -> None:
    html = (await site.get("/")).text
    match = re.search(
        r'<a href="(/items\?program=checkout&amp;status_category=done)">(\d+)</a> of '
        r'<a href="(/items\?program=checkout)">(\d+) items</a>',
        html,
    )
    assert match is not None
    for href, count in ((match.group(1), match.group(2)), (match.group(3), match.group(4))):
        listed = (await site.get(unescape(href))).text
        assert listed.count('<tr>\n    <td class="tl-title">') == int(count)


async def test_program_page_shows_what_a_manager_needs(site: httpx.AsyncClient) -> None:
    html = (await site.get("/programs/checkout")).text
    for text in (
        "Checkout v2",
        "1 milestone(s) are past due",
        "Burnup",
        'class="tl-chart tl-burnup"',
        "Pay in one click",
        "Upcoming milestones",
        "PAY-7",
        "Top risks",
        "Late dependencies",
        "Unmapped work",
        "Data quality",
        "What the teams say",
        "Computed Fri 20 Nov 2026, 10:00 CET",
    ):
        assert text in html, text


async def test_outcome_page_lists_contributors_sortable(site: httpx.AsyncClient) -> None:
    by_key = (await site.get("/programs/checkout/outcomes/fast-pay?sort=key")).text
    keys = re.findall(r'<a href="/items/jira/(PAY-\d+)\?program=checkout">', by_key)
    assert keys[:3] == ["PAY-100", "PAY-101", "PAY-102"]
    assert "The 41 units of work behind the figures" in by_key
    assert (await site.get("/programs/checkout/outcomes/nope")).status_code == 404


async def test_dependencies_page_draws_every_level_and_sorts_late_ones(
    site: httpx.AsyncClient,
) -> None:
    for level in ("project", "epic", "item"):
        html = (await site.get(f"/programs/checkout/dependencies?level={level}")).text
        assert 'class="tl-chart tl-depmap"' in html
        assert "The map as text" in html
    assert (await site.get("/programs/checkout/dependencies?sort=nope")).status_code == 422


async def test_items_page_pages_with_a_cursor(site: httpx.AsyncClient) -> None:
    first = (await site.get("/items?program=checkout")).text
    assert "Items of Checkout v2" in first
    assert "Download as CSV" in first
    bad = await site.get("/items?program=checkout&outcome=nope")
    assert bad.status_code == 422
    assert "program &#39;checkout&#39; has no outcome &#39;nope&#39;" in bad.text


async def test_item_page_shows_links_history_and_outcomes(site: httpx.AsyncClient) -> None:
    html = (await site.get("/items/jira/PAY-4?program=checkout")).text
    assert "is blocked by" in html
    assert "WEB-1" in html
    assert "Pay in one click" in html
    assert 'href="https://jira.test/browse/PAY-4" rel="noreferrer noopener"' in html


class TestRegisterForms:
    async def _add(self, site: httpx.AsyncClient, **fields: str) -> httpx.Response:
        page = await site.get("/programs/checkout/risks")
        return await site.post(
            "/programs/checkout/risks", data={"csrf_token": _csrf(page), **fields}
        )

    async def test_adding_a_risk_puts_it_in_the_register(self, site: httpx.AsyncClient) -> None:
        added = await self._add(
            site, title="Vendor SDK late", probability="4", impact="5", items="PAY-4, PAY-5"
        )
        assert added.status_code == 303
        html = (await site.get("/programs/checkout/risks")).text
        assert "Vendor SDK late" in html
        assert "2 items" in html
        api = (await site.get("/api/programs/checkout/risks")).json()["risks"]
        assert any(r["title"] == "Vendor SDK late" and r["score"] == 20 for r in api)

    async def test_a_bad_form_names_the_field(self, site: httpx.AsyncClient) -> None:
        response = await self._add(site, title="", probability="9", impact="1", outcome="nope")
        assert response.status_code == 422
        assert "String should have at least 1 character" in response.text
        assert "Input should be less than or equal to 5" in response.text

    async def test_deciding_on_a_derived_risk_keeps_the_data_s_fields(
        self, site: httpx.AsyncClient
    ) -> None:
        (risk,) = (await site.get("/api/programs/checkout/risks")).json()["risks"]
        edit = await site.get(f"/programs/checkout/risks/{risk['id']}/edit")
        assert 'name="title"' not in edit.text, "a derived risk's title follows the data"
        saved = await site.post(
            f"/programs/checkout/risks/{risk['id']}",
            data={"csrf_token": _csrf(edit), "roam": "owned", "owner": "ana", "title": "mine"},
        )
        assert saved.status_code == 303
        (after,) = (await site.get("/api/programs/checkout/risks")).json()["risks"]
        assert (after["roam"], after["owner"], after["title"]) == ("owned", "ana", risk["title"])

    async def test_a_register_risk_can_be_removed(self, site: httpx.AsyncClient) -> None:
        await self._add(site, title="Temporary", probability="1", impact="1")
        risks = (await site.get("/api/programs/checkout/risks")).json()["risks"]
        temporary = next(r for r in risks if r["title"] == "Temporary")
        edit = await site.get(f"/programs/checkout/risks/{temporary['id']}/edit")
        gone = await site.post(
            f"/programs/checkout/risks/{temporary['id']}/delete",
            data={"csrf_token": _csrf(edit)},
        )
        assert gone.status_code == 303
        assert "Temporary" not in (await site.get("/programs/checkout/risks")).text

    @pytest.mark.parametrize(("query", "shown"), [("severity=critical", 1), ("severity=low", 0)])
    async def test_the_list_filters_by_severity(
        self, site: httpx.AsyncClient, query: str, shown: int
    ) -> None:
        html = (await site.get(f"/programs/checkout/risks?{query}")).text
        assert html.count('<tr id="risk-') == shown


async def test_sources_page_shows_freshness_and_counts(site: httpx.AsyncClient) -> None:
    page = await site.get("/sources")
    assert 'href="/items?source=jira"' in page.text, "the item count lists the items"
    assert "never" in page.text, "no sync has run in this test"
    assert "Sync now" in page.text, "open access: everyone is an admin"
    unknown = await site.post("/sources/nope/sync", data={"csrf_token": _csrf(page)})
    assert unknown.status_code == 404
    assert "There is no source &#39;nope&#39;." in unknown.text
