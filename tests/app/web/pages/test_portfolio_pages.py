"""The portfolio's pages: goals with their programs, one goal, dependencies and people
across programs; the program pages naming the other programs; every figure leading to
its contributors or items; hostile text shown as text."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.recompute import recompute
from app.store import catalog, records
from app.store.engine import make_sessionmaker, session_scope
from connectors.base import Page
from tests.app import portfolio_data as data
from tests.app.web.pages.conftest import HTML

IMG = data.HOSTILE
SCRIPT = "</script><script>alert(1)</script>"
HOSTILE_CONFIG = (
    data.CONFIG.replace("name: Grow online revenue", f"name: '{SCRIPT} revenue'")
    .replace("owner: Fay Green", f"owner: '{IMG}'")
    .replace("owner: Bo Chen", f"owner: '{SCRIPT}'")
    .replace("name: Both shipped", f"name: '{IMG}'")
    .replace("name: Checkout v2", f"name: 'Checkout v2 {IMG}'")
)


async def _serve(
    app: FastAPI, engine: AsyncEngine, *, evil: bool = False
) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://test", headers=HTML
        ) as client,
    ):
        sessionmaker = make_sessionmaker(engine)
        config = app.state.throughline.config
        async with session_scope(sessionmaker) as session:
            await catalog.apply_config(session, config, now=data.NOW)
            await data.seed(session)
            if evil:
                jira = await records.get_source(session, "jira")
                asana = await records.get_source(session, "asana")
                assert jira is not None
                assert asana is not None
                await records.save_page(
                    session,
                    jira.id,
                    Page("PLAT", [data.work("PLAT-9", started_days_ago=1, assignee=SCRIPT)]),
                    now=data.NOW,
                )
                await records.save_page(
                    session,
                    asana.id,
                    Page(
                        "900", [data.work("9009", source="asana", project="900", assignee=SCRIPT)]
                    ),
                    now=data.NOW,
                )
        await recompute(sessionmaker, config, now=data.NOW)
        yield client


@pytest.fixture
async def site(
    app_factory: Callable[..., FastAPI], committed_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _serve(app_factory(data.CONFIG), committed_engine):
        yield client


@pytest.fixture
async def hostile(
    app_factory: Callable[..., FastAPI], committed_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _serve(app_factory(HOSTILE_CONFIG), committed_engine, evil=True):
        yield client


async def test_the_goals_page_shows_each_goal_with_its_contributors(
    site: httpx.AsyncClient,
) -> None:
    response = await site.get("/portfolio")
    assert response.status_code == 200
    html = response.text
    assert '<a href="/portfolio/goals/revenue">Grow online revenue</a>' in html
    assert "Fay Green · 2027-Q1 (ends 31 Mar 2027)" in html
    assert '<a href="/programs/checkout">Checkout v2</a>' in html
    assert '<a href="/programs/platform/outcomes/vault">Platform › Card vault</a>' in html
    assert '<li><a href="/programs/checkout">Checkout v2</a> is red</li>' in html
    assert "weighted across 2 contributors" in html
    assert '<a href="/portfolio/dependencies">1 dependency between programs</a>' in html
    assert "1 over-allocated" in html
    assert 'href="/api/portfolio.csv"' in html
    # Every program, with the goals it serves.
    assert '<a href="/portfolio/goals/mobile-first">Mobile first</a>' in html
    assert 'href="/items?program=platform&amp;status_category=done">10</a>' in html


async def test_a_goals_page_leads_every_figure_to_its_contributors(
    site: httpx.AsyncClient,
) -> None:
    html = (await site.get("/portfolio/goals/revenue")).text
    assert '<li><a href="/programs/checkout">Checkout v2</a> is red</li>' in html
    assert (
        'href="/items?program=platform&amp;outcome=vault&amp;status_category=done">10</a>' in html
    )
    assert "Deciding the date:" in html
    assert "Most of the work done" in html
    assert 'href="/api/goals/revenue.csv"' in html
    assert (await site.get("/portfolio/goals/nope")).status_code == 404


async def test_the_dependencies_page_draws_programs_and_lists_late_work(
    site: httpx.AsyncClient,
) -> None:
    html = (await site.get("/portfolio/dependencies")).text
    assert "<svg" in html
    assert "Dependencies between programs</title>" in html
    assert '<a href="/items/jira/PLAT-2">PLAT-2</a>' in html
    assert "PLAT-2 is due 4 Jan 2027, after PAY-3 needs it (10 Dec 2026)" in html
    assert "Pay in one click targets 19 Jan 2027, after App 5.0 needs it by 20 Dec 2026" in html


async def test_the_people_page_puts_the_over_allocated_first(site: httpx.AsyncClient) -> None:
    html = (await site.get("/portfolio/people")).text
    first = html.index("Dee Evans")
    assert first < html.index("Pat Payne")
    assert "4 items in progress across 2 programs, above the limit of 3" in html
    assert "open work in 3 programs (limit 2): Checkout v2, Platform, Mobile relaunch" in html
    assert 'href="/items?program=checkout&amp;key=PAY-2&amp;key=PAY-3">2 in progress</a>' in html


async def test_both_programs_dependency_pages_name_the_other_program(
    site: httpx.AsyncClient,
) -> None:
    checkout = (await site.get("/programs/checkout/dependencies")).text
    platform = (await site.get("/programs/platform/dependencies")).text
    mobile = (await site.get("/programs/mobile/dependencies")).text
    for html in (checkout, platform):
        assert '<h2 id="across">Across programs</h2>' in html
        assert '<a href="/programs/platform/dependencies">Platform</a>' in html
        assert "(owner Bo Chen)" in html
    assert 'Outcome <a href="/programs/checkout/outcomes/fast-pay">Pay in one click</a>' in mobile


async def test_a_resources_page_says_how_much_of_a_shared_persons_work_is_elsewhere(
    site: httpx.AsyncClient,
) -> None:
    html = (await site.get("/programs/checkout/resources")).text
    assert "60 % of their open work is in other programs:" in html
    assert 'href="/items?program=platform&amp;key=PLAT-1&amp;key=PLAT-3">2 in Platform</a>' in html
    assert '<a href="/portfolio/people">over-allocated across programs</a>' in html


async def test_the_first_page_links_to_the_portfolio_views(site: httpx.AsyncClient) -> None:
    html = (await site.get("/")).text
    for path in ("/portfolio", "/portfolio/dependencies", "/portfolio/people"):
        assert f'href="{path}"' in html


PAGES = [
    "/",
    "/portfolio",
    "/portfolio/goals/revenue",
    "/portfolio/goals/mobile-first",
    "/portfolio/dependencies",
    "/portfolio/people",
    "/programs/checkout/dependencies",
    "/programs/platform/dependencies",
    "/programs/platform/resources",
    "/programs/mobile/resources",
]


@pytest.mark.parametrize("path", PAGES)
async def test_hostile_text_shows_as_text(hostile: httpx.AsyncClient, path: str) -> None:
    response = await hostile.get(path)
    assert response.status_code == 200
    html = response.text
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "onerror=alert(1)" not in re.sub(r"&lt;img src=x onerror=alert\(1\)&gt;", "", html)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/portfolio", [SCRIPT + " revenue", IMG]),
        ("/portfolio/goals/revenue", [SCRIPT + " revenue", IMG]),
        ("/portfolio/goals/mobile-first", [IMG]),
        ("/portfolio/dependencies", ["Vault API " + IMG, SCRIPT]),
        ("/portfolio/people", [SCRIPT]),
        ("/programs/checkout/dependencies", ["Vault API " + IMG, SCRIPT]),
    ],
)
async def test_hostile_text_is_readable(
    hostile: httpx.AsyncClient, path: str, shown: list[str]
) -> None:
    html = (await hostile.get(path)).text
    for text in shown:
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert escaped in html, text


async def test_a_hostile_name_in_a_linked_reason_stays_text(hostile: httpx.AsyncClient) -> None:
    html = (await hostile.get("/portfolio/goals/revenue")).text
    assert (
        '<a href="/programs/checkout">Checkout v2 &lt;img src=x onerror=alert(1)&gt;</a> is red'
        in html
    )
