"""The report as a VP reads it: on a phone (390 px) and a desktop (1280 px), in headless
chromium (Debian's, driven by Playwright): one column, nothing scrolls sideways."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.reports import portfolio, service
from app.store.engine import session_scope
from tests.app.reports import history

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


async def _pages(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    cfg = await history.build(sessionmaker)
    async with session_scope(sessionmaker) as session:
        row, _ = await service.generate(
            session, cfg, "checkout", history.WEEK, now=history.MONDAY, public_url="https://tl.test"
        )
        await service.save_notes(
            session,
            cfg,
            "checkout",
            history.WEEK,
            "Vendor SDK slipped a week.\nDecision needed by 2026-11-20: buy or build the vault.",
            now=history.MONDAY,
            public_url="https://tl.test",
        )
        report = row.html
        digest = await portfolio.generate(session, cfg, history.WEEK, now=history.MONDAY)
    assert report is not None
    return {"report": report, "digest": digest.html}


@pytest.mark.parametrize("width", [390, 1280])
async def test_the_report_and_the_digest_fit_the_screen_without_sideways_scrolling(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path, width: int
) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (make browser installs it)")
        pytest.skip("chromium is not installed (make browser installs it)")
    pages = await _pages(sessionmaker)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for name, html in pages.items():
                path = tmp_path / f"{name}.html"
                path.write_text(html, encoding="utf-8")
                page = await browser.new_page(viewport={"width": width, "height": 900})
                await page.goto(path.as_uri())
                scroll = await page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, f"the {name} scrolls sideways at {width} px ({scroll})"
                if name == "report":
                    summary = await page.locator(".tl-summary").first.bounding_box()
                    assert summary is not None
                    assert summary["y"] < 900  # the summary is on the first screen
                ARTIFACTS.mkdir(exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
                await page.emulate_media(media="print")
                assert await page.evaluate("document.documentElement.scrollWidth") <= width
                await page.close()
        finally:
            await browser.close()
