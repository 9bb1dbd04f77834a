"""The report's forms: standalone HTML, Markdown and Confluence storage, with tracker
text kept as text in each."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markdown_it import MarkdownIt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.reports import render, service
from app.reports.schemas import WeeklyReport
from app.store.engine import session_scope
from tests.app.reports import history


async def _report(sessionmaker: async_sessionmaker[AsyncSession]) -> WeeklyReport:
    cfg = await history.build(sessionmaker)
    async with session_scope(sessionmaker) as session:
        row, _ = await service.generate(session, cfg, "checkout", history.WEEK, now=history.MONDAY)
    report = service.assemble(row, public_url="https://tl.test", key="checkout")
    report.notes = "Shipped the **SDK**.\n\n<script>alert('notes')</script>"
    return report


async def test_the_page_stands_alone_without_scripts_and_prints_on_a4(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    report = await _report(sessionmaker)
    html = render.html(report, links=service.links("https://tl.test", "checkout", report.week))
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html
    assert "<link" not in html
    assert "@page{size:A4" in html
    assert "<svg" in html
    assert "tl-burnup" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    # Its tracker link was not http(s): the key is text, styled inline for mail clients.
    assert re.search(r'<span class="tl-key" style="[^"]*">PAY-5</span>', html)
    assert "Checkout v2" in html
    assert "https://tl.test/programs/checkout/reports/2026-W47" in html


async def test_the_markdown_keeps_tracker_text_as_text(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    report = await _report(sessionmaker)
    markdown = render.markdown(report, links=service.links(None, "checkout", report.week))
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    assert "<script" not in html
    assert "javascript:" not in html.replace("(javascript:alert(2))", "")
    assert "<b>" not in html
    assert "<strong>now</strong>" not in html
    assert "<strong>SDK</strong>" in html  # the program manager's own Markdown is kept
    assert "<h2>What changed since 6 Nov 2026</h2>" in html
    # Only the hostile title needs escapes: figures such as "+2.4 pts" carry none.
    ours = [line for line in markdown.splitlines() if "alert(" not in line]
    assert [line for line in ours if "\\" in line] == []
    assert "+2.4 pts" in markdown
    assert "THROUGHLINE_SERVER__PUBLIC_URL" in markdown  # no relative links without it


async def test_the_confluence_body_is_well_formed_storage_xhtml(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    report = await _report(sessionmaker)
    body = render.storage(report, links=service.links("https://tl.test", "checkout", report.week))
    root = ET.fromstring(
        f'<root xmlns:ac="http://atlassian.com/content" '
        f'xmlns:ri="http://atlassian.com/resource">{body}</root>'
    )
    texts = "".join(root.itertext())
    assert history.HOSTILE in texts
    assert root.find(".//script") is None
    assert 'href="javascript' not in body
