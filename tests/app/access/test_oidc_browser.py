"""Single sign-on in a real browser (Debian's chromium through Playwright): the provider
on another site (localhost) than Throughline (127.0.0.1), so the way back is a cross-site
navigation as it is in production; the browser ends on the page it asked for, signed in.
(This chromium sends the SameSite=Strict session cookie after a plain redirect from the
callback too; the callback's last step is a page of ours anyway, for browsers that leave
it off a redirect chain that began on another site.)"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import parse_config
from app.programs.recompute import recompute
from app.store import catalog
from app.store.engine import make_sessionmaker, session_scope
from app.web.factory import create_app
from connectors.fake.server import serve_in_thread
from tests.app import portfolio_data as data
from tests.app.access import oidc_provider
from tests.app.access.conftest import CONFIG
from tests.app.conftest import make_settings

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")


@pytest.fixture
async def sites(
    database_url: str, committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, oidc_provider.StandIn]]:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (make browser installs it)")
        pytest.skip("chromium is not installed (make browser installs it)")
    for name, value in {
        "T_ADMIN": "token-admin",
        "T_A": "token-a-platform",
        "T_B": "token-b-elsewhere",
        "OIDC_SECRET": oidc_provider.CLIENT_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    provider = oidc_provider.StandIn()
    with serve_in_thread(provider.app()) as provider_base:
        provider.issuer = provider_base.replace("127.0.0.1", "localhost")
        config = parse_config(
            CONFIG.replace(
                "  auth: tokens\n",
                "  auth: tokens\n"
                "  oidc:\n"
                f"    issuer: {provider.issuer}\n"
                f"    client_id: {oidc_provider.CLIENT_ID}\n"
                "    client_secret_env: OIDC_SECRET\n"
                "    name: Acme login\n",
            )
        )
        sessionmaker = make_sessionmaker(committed_engine)
        async with session_scope(sessionmaker) as session:
            await catalog.apply_config(session, config, now=data.NOW)
            await data.seed(session)
        await recompute(sessionmaker, config, now=data.NOW)
        app = create_app(make_settings(database_url), config=config)
        with serve_in_thread(app) as base:
            yield base, provider


async def test_a_browser_signs_in_through_the_provider_and_lands_where_it_asked(
    sites: tuple[str, oidc_provider.StandIn],
) -> None:
    base, provider = sites
    provider.user = {"email": "ana@acme.test", "groups": ["platform-team"]}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{base}/programs/platform")
            assert "/sign-in" in page.url
            await page.click("text=Sign in with Acme login")
            await page.wait_for_url(f"{base}/programs/platform", timeout=15_000)
            assert await page.title() == "Platform · Throughline"
            assert "Signed in as ana@acme.test (viewer)" in " ".join(
                (await page.inner_text("header")).split()
            )
            assert provider.verifiers_checked == 1
        finally:
            await browser.close()
