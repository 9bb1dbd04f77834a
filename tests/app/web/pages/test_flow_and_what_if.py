"""The flow and what-if pages: their charts and tables, the form, saving a scenario."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.app import rollup_data as data
from tests.app.web.pages.conftest import HTML, _serve


async def test_the_flow_page_draws_every_chart_with_its_table(site: httpx.AsyncClient) -> None:
    response = await site.get("/programs/checkout/flow")
    assert response.status_code == 200
    html = response.text
    # The program's items come from one tracker: the cumulative flow by status is drawn too.
    assert html.count('<svg class="tl-chart tl-flow"') == 8
    assert html.count("<details>") == 8
    assert "Cumulative flow by status" in html
    for table in ("cfd", "cfd_status", "cycle_times", "throughput", "aging", "wip", "net_flow"):
        assert f"table={table}" in html
    assert "Cycle time: local days" in html
    assert "finished without ever being in progress" in html


async def test_the_program_page_links_flow_and_offers_the_what_if_form(
    site: httpx.AsyncClient,
) -> None:
    html = (await site.get("/programs/checkout")).text
    assert 'href="/programs/checkout/flow"' in html
    assert 'action="/programs/checkout/what-if"' in html


async def test_the_what_if_page_shows_before_and_after(site: httpx.AsyncClient) -> None:
    response = await site.get(
        "/programs/checkout/what-if",
        params={"remove_keys": "WEB-1", "add_items": "2", "target_fast-pay": "2027-02-01"},
    )
    assert response.status_code == 200
    html = response.text
    assert "If we defer WEB-1" in html
    assert "P85 before" in html


async def test_the_what_if_page_says_what_it_cannot_take(site: httpx.AsyncClient) -> None:
    response = await site.get(
        "/programs/checkout/what-if", params={"pace_factor": "0", "target_web": "soon"}
    )
    assert response.status_code == 422
    assert "a factor between 0.05 and 20" in response.text
    assert "target of web" in response.text


async def test_a_scenario_saved_on_the_page_is_listed(site: httpx.AsyncClient) -> None:
    page = await site.get("/programs/checkout/what-if", params={"remove_keys": "WEB-1"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    saved = await site.post(
        "/programs/checkout/scenarios",
        data={"csrf_token": token.group(1), "remove_keys": "WEB-1", "name": "No web <b>"},
        headers=HTML,
    )
    assert saved.status_code == 303
    listed = (await site.get("/programs/checkout/what-if")).text
    assert "No web &lt;b&gt;" in listed
    assert "If we defer WEB-1" in listed


HOSTILE_TEAMS = """
teams:
  - {key: payments, name: "<script>alert(1)</script>Payments", members: [ana]}
"""


@pytest.fixture
async def team_site(
    app_factory: Callable[..., FastAPI], committed_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """The pages of a program whose work a team (with a hostile name) carries."""
    async for client in _serve(app_factory(data.CONFIG + HOSTILE_TEAMS), committed_engine):
        yield client


async def test_the_forms_change_a_team_s_pace_and_add_a_team(team_site: httpx.AsyncClient) -> None:
    program = (await team_site.get("/programs/checkout")).text
    assert '<option value="payments">&lt;script&gt;alert(1)&lt;/script&gt;Payments' in program
    assert 'name="add_team_pace"' in program
    assert "<script>alert(1)" not in program
    response = await team_site.get(
        "/programs/checkout/what-if",
        params={
            "pace_factor": "1.5",
            "pace_team": "payments",
            "add_team_name": "<b>Twin</b>",
            "add_team_like": "payments",
        },
    )
    assert response.status_code == 200, response.text
    html = response.text
    assert "<script>alert(1)" not in html
    assert "<b>Twin" not in html
    assert (
        "If we have &lt;script&gt;alert(1)&lt;/script&gt;Payments work 1.5× as fast and add a team "
        "like &lt;script&gt;alert(1)&lt;/script&gt;Payments (&lt;b&gt;Twin&lt;/b&gt;)"
    ) in html
    unknown = await team_site.get(
        "/programs/checkout/what-if", params={"pace_factor": "2", "pace_team": "nobody"}
    )
    assert unknown.status_code == 422
    assert "unknown team(s) or outcome(s) nobody" in unknown.text
