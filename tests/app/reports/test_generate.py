"""Generating a week's report from the snapshots, and generating it again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.recompute import recompute
from app.reports import compose, service
from app.reports.weeks import Week
from tests.app.reports import history


async def test_a_report_compares_the_covered_day_with_a_week_before(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    async with session_scope(sessionmaker) as session:
        row, _ = await service.generate(session, cfg, "checkout", history.WEEK, now=history.MONDAY)
        report = service.assemble(row, public_url=None, key="checkout")
    assert report.snapshot.on.isoformat() == "2026-11-13"
    assert report.snapshot.base_on is not None
    assert report.snapshot.base_on.isoformat() == "2026-11-06"
    assert report.changes is not None
    assert [i.key for i in report.changes.completed] == ["PAY-5"]
    assert report.rag.color == row.rag
    assert report.standing.previous_progress is not None
    assert report.standing.progress.done_count == report.standing.previous_progress.done_count + 1
    assert [f.name for f in report.freshness] == ["jira"]
    assert row.html is not None and "PAY-5" in row.html
    assert row.markdown is not None and "PAY\\-5" not in row.markdown
    open("/tmp/r.html", "w").write(row.html)
    open("/tmp/r.md", "w").write(row.markdown)
