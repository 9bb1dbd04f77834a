"""No dead ends: an empty form field means "any", a page's error is a page in the site's
layout (the API's stays JSON), and the API's documentation is served from here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from tests.app import rollup_data as data

NAV = '<nav class="tl-nav" aria-label="Main">'


@pytest.mark.parametrize(
    "path",
    [
        "/items?program=checkout&status_category=&q=",
        "/items?program=checkout&outcome=&source=",
        "/programs/checkout/roadmap?zoom=month&baseline=",
        "/programs/checkout/dependencies?level=&sort=&order=",
        "/programs/checkout/risks?state=",
    ],
)
async def test_an_empty_form_field_means_any(site: httpx.AsyncClient, path: str) -> None:
    response = await site.get(path)
    assert response.status_code == 200, response.text[:300]


async def test_the_any_choice_lists_what_no_choice_lists(site: httpx.AsyncClient) -> None:
    chosen = await site.get("/items?program=checkout&status_category=")
    plain = await site.get("/items?program=checkout")
    count = re.compile(r"<tbody>.*?</tbody>", re.S)
    assert count.findall(chosen.text) == count.findall(plain.text)


async def test_a_page_asked_for_a_value_it_cannot_take_is_a_page_naming_it(
    site: httpx.AsyncClient,
) -> None:
    page = await site.get("/items?status_category=someday")
    api = await site.get("/api/items?status_category=someday")

    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert NAV in page.text
    assert "status_category" in page.text
    assert api.status_code == 422
    assert api.json()["detail"][0]["loc"] == ["query", "status_category"]


async def test_an_unknown_address_is_a_page_for_people_and_json_for_the_api(
    site: httpx.AsyncClient,
) -> None:
    page = await site.get("/programs/nowhere/roadmap")
    missing = await site.get("/no/such/page")
    api = await site.get("/api/programs/nowhere")

    for response in (page, missing):
        assert response.status_code == 404
        assert NAV in response.text
        assert re.search(r"<main[^>]*>\s*<h1>", response.text), "the page's h1 comes first"
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/json"


@pytest.fixture
async def failing(app_factory: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = app_factory(data.CONFIG)
    probe = APIRouter()

    @probe.get("/programs/checkout/boom")
    @probe.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.include_router(probe)
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://test", headers={"Accept": "text/html"}
        ) as client,
    ):
        yield client


async def test_a_failure_is_a_page_in_the_layout_and_json_under_the_api(
    failing: httpx.AsyncClient,
) -> None:
    page = await failing.get("/programs/checkout/boom")
    api = await failing.get("/api/boom")

    assert page.status_code == 500
    assert NAV in page.text
    assert "a bug" not in page.text
    assert api.status_code == 500
    assert api.json() == {"detail": "Internal Server Error"}


async def test_the_api_docs_load_nothing_from_elsewhere(site: httpx.AsyncClient) -> None:
    page = await site.get("/docs")

    assert page.status_code == 200
    assert NAV in page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    assert "https:" not in page.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]
    for asset in re.findall(r'(?:src|href)="(/docs/[^"]+)"', page.text):
        served = await site.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["content-type"].split(";")[0] in ("text/css", "text/javascript")
    assert (await site.get("/docs/../../etc/passwd")).status_code == 404
    assert (await site.get("/docs/index.html")).status_code == 404
