"""Every page in a real browser: Debian's chromium, headless, driven by Playwright.

A fake Asana is synced over real HTTP for six weeks of history and Throughline is served
on a loopback port. The browser signs in, walks every page it can reach from the
portfolio, adds a risk through the form, and must see no console error, no refused
resource (a Content-Security-Policy violation is a console error), no failed request and
no script dialog. Screenshots go to tests/artifacts/ for people to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    Request,
    Response,
    async_playwright,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store.engine import make_sessionmaker
from app.web.factory import create_app
from connectors.fake.server import serve_in_thread
from tests.app.conftest import make_settings
from tests.app.web.pages.site import TOKEN_ENV, build_history, config_for, hostile_world, jira_site

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
MAX_PAGES = 120
PER_KIND = 3
SKIPPED = ("/sign-out", "/docs", "/redoc", "/api/", "/static/")


@pytest.fixture
async def site(
    database_url: str, committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (make browser installs it)")
        pytest.skip("chromium is not installed (make browser installs it)")
    for name, value in TOKEN_ENV.items():
        monkeypatch.setenv(name, value)
    fake = hostile_world()
    jira = jira_site(fake)
    with serve_in_thread(fake) as fake_base, serve_in_thread(jira) as jira_base:
        config = config_for(fake, fake_base, jira_base)
        await build_history(fake, jira, config, make_sessionmaker(committed_engine))
        app = create_app(make_settings(database_url), config=config)
        with serve_in_thread(app) as base:
            yield base


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()


class Watch:
    """Everything a page did wrong, as sentences."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _failed(self, request: Request) -> None:
        self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")

    async def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"a script opened a dialog: {dialog.message}")
        await dialog.dismiss()


async def _links(page: Page, base: str) -> list[str]:
    # SVG links too: their href is read as an attribute and resolved against the page.
    hrefs = await page.eval_on_selector_all(
        "a[href]", "els => els.map(e => new URL(e.getAttribute('href'), document.baseURI).href)"
    )
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if href.startswith(base) and not parts.path.startswith(SKIPPED):
            found.append(base + parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _shape(url: str) -> str:
    """Pages of one kind (an item's page, a filtered list) look alike: a few of each do."""
    parts = urlsplit(url)
    path = "/items/*" if parts.path.startswith("/items/") else parts.path
    names = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return f"{path}?{','.join(names)}"


async def _shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_every_page_renders_cleanly_in_chromium(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    watch = Watch(page)

    await page.goto(f"{site}/programs/checkout")
    assert urlsplit(page.url).path == "/sign-in", "pages need a session"
    await page.fill("input[name=token]", "admin-secret")
    async with page.expect_navigation(url=f"{site}/programs/checkout"):
        # Waits for the page signed in to finish loading: a later goto would abort it.
        await page.click("button[type=submit]")
    assert page.url == f"{site}/programs/checkout", "signing in returns to the page asked for"
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["throughline_session"]["httpOnly"]
    assert cookies["throughline_session"]["sameSite"] == "Strict"
    assert "admin-secret" not in cookies["throughline_session"]["value"]

    seen: set[str] = set()
    kinds: dict[str, int] = {}
    queue = [f"{site}/"]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen or kinds.get(_shape(url), 0) >= PER_KIND:
            continue
        seen.add(url)
        kinds[_shape(url)] = kinds.get(_shape(url), 0) + 1
        response = await page.goto(url)
        assert response is not None
        assert response.status == 200, url
        queue += [u for u in await _links(page, site) if u not in seen]
    visited = {urlsplit(u).path for u in seen}
    for wanted in (
        "/",
        "/programs/checkout",
        "/programs/checkout/outcomes/fast-pay",
        "/programs/checkout/dependencies",
        "/programs/checkout/risks",
        "/programs/checkout/roadmap",
        "/programs/checkout/resources",
        "/items",
    ):
        assert wanted in visited
    assert any(p.startswith("/items/acme-asana/") for p in visited), "an item's own page"

    for path, name in (
        ("/", "portfolio"),
        ("/programs/checkout", "program"),
        ("/programs/checkout/dependencies?level=epic", "dependency-map"),
        ("/programs/checkout/dependencies?level=item", "dependency-map-items"),
        ("/programs/checkout/risks", "risks"),
        ("/programs/checkout/roadmap", "roadmap"),
        ("/programs/checkout/roadmap?zoom=quarter", "roadmap-quarter"),
        ("/programs/checkout/roadmap?zoom=week", "roadmap-week"),
        ("/programs/checkout/resources", "resources"),
    ):
        await page.goto(site + path)
        await _shoot(page, name)

    await page.goto(f"{site}/programs/checkout/risks")
    await page.fill("input[name=title]", "Card vendor SDK slips")
    await page.select_option("select[name=probability]", "4")
    await page.select_option("select[name=impact]", "5")
    async with page.expect_navigation():
        await page.click("form.tl-form button[type=submit]")
    assert "/programs/checkout/risks" in page.url
    # once in the register (its history below also names it)
    assert await page.locator("td.tl-title strong", has_text="Card vendor SDK slips").count() == 1

    phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    await phone.add_cookies([cookies["throughline_session"]])
    small = await phone.new_page()
    phone_watch = Watch(small)
    await small.goto(f"{site}/programs/checkout")
    await _shoot(small, "program-phone")
    width = await small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing but wide tables and the map scroll sideways on a phone"
    for path, name in (("roadmap", "roadmap-phone"), ("resources", "resources-phone")):
        await small.goto(f"{site}/programs/checkout/{path}")
        await _shoot(small, name)
        width = await small.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the {path} page scrolls only its chart and tables sideways"
    await small.goto(f"{site}/programs/checkout")
    await small.emulate_media(media="print")
    await _shoot(small, "program-print")
    await small.goto(f"{site}/programs/checkout/roadmap?zoom=quarter")
    await _shoot(small, "roadmap-print")

    assert watch.problems == []
    assert phone_watch.problems == []
    await context.close()
    await phone.close()
