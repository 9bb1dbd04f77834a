"""Generating a week's report from two frozen snapshots, and generating it again."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.programs import lookup, whatif
from app.programs.recompute import recompute
from app.render.templates import moment
from app.reports import compose, service
from app.reports.weeks import Week
from app.store import records
from app.store.engine import session_scope
from app.store.tables import ReportRow, SnapshotRow, SyncRunRow
from connectors.base import Page
from tests.app import rollup_data
from tests.app.reports import history


async def _generate(
    sessionmaker: async_sessionmaker[AsyncSession],
    cfg: object,
    week: Week = history.WEEK,
    **kw: object,
) -> ReportRow:
    async with session_scope(sessionmaker) as session:
        row, _ = await service.generate(
            session,
            cfg,
            "checkout",
            week,
            now=kw.pop("now", history.MONDAY),
            **kw,  # type: ignore[arg-type]
        )
    return row


async def test_a_report_compares_the_covered_day_with_a_week_before(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    row = await _generate(sessionmaker, cfg)
    report = service.assemble(row, public_url="https://tl.test", key="checkout")
    assert (report.snapshot.on.isoformat(), str(report.snapshot.base_on)) == (
        "2026-11-13",
        "2026-11-06",
    )
    assert report.snapshot.complete
    assert report.period_start is not None
    assert report.period_start.isoformat() == "2026-11-07"
    assert report.changes is not None
    assert [(i.key, i.title) for i in report.changes.completed] == [("PAY-5", history.HOSTILE)]
    progress, before = report.standing.progress, report.standing.previous_progress
    assert before is not None
    assert progress.done_count == before.done_count + 1
    assert [o.key for o in report.outcomes] == ["fast-pay", "web"]
    assert report.outcomes[0].previous_percent is not None
    assert report.generated_at.utcoffset() == timedelta(hours=1)
    assert [(f.name, f.last_status) for f in report.freshness] == [("jira", "succeeded")]
    assert report.risks is not None
    assert report.dependencies_at_risk is not None
    assert [m.key for m in report.milestones] == ["PAY-7"]
    (late,) = report.new_late_dependencies
    assert (late.from_.key, late.to.key) == ("PAY-3", "PAY-4")
    assert late.from_.url == "https://jira.test/browse/PAY-3"
    assert report.dependencies_at_risk is not None
    assert report.dependencies_at_risk.count == 1
    assert report.links is not None
    assert report.links.page == "https://tl.test/programs/checkout/reports/2026-W47"


async def test_regenerating_a_past_week_gives_the_same_figures(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    first = dict((await _generate(sessionmaker, cfg)).data)
    # A week later the program has moved on: newer snapshots must not leak into W47.
    await recompute(sessionmaker, cfg, now=history.MONDAY + timedelta(days=4))
    later = history.MONDAY + timedelta(days=7)
    again = dict((await _generate(sessionmaker, cfg, now=later)).data)
    assert first.pop("generated_at") != again.pop("generated_at")
    assert again == first
    async with sessionmaker() as session:
        rows = list(await session.scalars(select(ReportRow)))
    assert len(rows) == 1


async def test_regenerating_keeps_the_notes(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    await _generate(sessionmaker, cfg)
    async with session_scope(sessionmaker) as session:
        await service.save_notes(
            session, cfg, "checkout", history.WEEK, "Vendor <b>SDK</b> slipped.", now=history.MONDAY
        )
    row = await _generate(sessionmaker, cfg, now=history.MONDAY + timedelta(hours=2))
    assert row.notes == "Vendor <b>SDK</b> slipped."
    assert row.html is not None
    assert "Vendor &lt;b&gt;SDK&lt;/b&gt; slipped." in row.html


async def test_notes_written_before_the_report_wait_for_it(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    async with session_scope(sessionmaker) as session:
        notes, waiting = await service.save_notes(
            session, cfg, "checkout", history.WEEK, "Launch went well.", now=history.MONDAY
        )
        assert (notes.generated, waiting) == (False, False)
        listing = await service.list_reports(session, cfg, "checkout")
        assert listing.reports == []
    row = await _generate(sessionmaker, cfg)
    assert row.markdown is not None
    assert "Launch went well." in row.markdown


async def test_a_week_not_over_yet_cannot_be_written(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    with pytest.raises(compose.ReportUnavailable, match="once that day is over"):
        await _generate(sessionmaker, cfg, week=Week(2026, 48))


async def test_a_week_before_the_first_snapshot_cannot_be_written(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    with pytest.raises(compose.ReportUnavailable, match="no snapshot on or before"):
        await _generate(sessionmaker, cfg, week=Week(2026, 40))


async def test_a_first_report_has_no_changes_and_a_snapshot_without_document_its_figures(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    async with session_scope(sessionmaker) as session:
        for snapshot in await session.scalars(select(SnapshotRow)):
            snapshot.document = None
    row = await _generate(sessionmaker, cfg, week=Week(2026, 46), now=history.MONDAY)
    report = service.assemble(row, public_url=None, key="checkout")
    assert report.changes is None
    assert not report.snapshot.complete
    assert report.risks is None
    assert report.standing.progress.scope_count == 43
    assert row.html is not None
    assert "Not recorded in this snapshot." in row.html


async def test_a_past_week_written_again_later_is_byte_identical_but_for_its_time(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    first = await _generate(sessionmaker, cfg, public_url="https://tl.test")
    html, markdown, data = first.html, first.markdown, dict(first.data)
    # The program moves on: more work finished, risks and titles change, days pass.
    async with session_scope(sessionmaker) as session:
        source = await records.get_source(session, "jira")
        assert source is not None
        at = rollup_data.NOW + timedelta(hours=2)
        done = rollup_data.story("PAY-6", started_days_ago=1, done_days_ago=0, updated_at=at)
        await records.save_page(session, source.id, Page("PAY", [done]), now=at)
    await recompute(sessionmaker, cfg, now=history.MONDAY + timedelta(days=2))
    await recompute(sessionmaker, cfg, now=history.MONDAY + timedelta(days=9))
    later = history.MONDAY + timedelta(days=30)
    again = await _generate(sessionmaker, cfg, now=later, public_url="https://tl.test")

    def without_time(text: str | None, at: datetime) -> str:
        assert text is not None
        return text.replace(moment(at.astimezone(ZoneInfo("Europe/Berlin"))), "<generated>")

    assert without_time(again.html, later) == without_time(html, history.MONDAY)
    assert without_time(again.markdown, later) == without_time(markdown, history.MONDAY)
    assert again.data.pop("generated_at") != data.pop("generated_at")
    assert again.data == data


async def test_the_report_reads_as_an_executive_document(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A scripted week: a red turn, a forecast moved by work finished, a quiet week, a
    late dependency owned by its blocker's assignee, a decision asked for in the notes."""
    cfg = await history.build(sessionmaker)
    await _generate(sessionmaker, cfg)
    async with session_scope(sessionmaker) as session:
        await service.save_notes(
            session,
            cfg,
            "checkout",
            history.WEEK,
            "The card vault vendor is late.\nDecision needed by 2026-11-20: buy or build it.",
            now=history.MONDAY,
        )
        _, row = await service.get_report(session, cfg, "checkout", history.WEEK)
    report = service.assemble(row, public_url=None, key="checkout")
    colour, pace, when, risk, ask = report.summary
    assert colour == (
        "Checkout v2 is RED, was GREY a week before: "
        "2 items on the critical path wait on late work."
    )
    assert pace.startswith("1 item finished this week; the 4 weeks before averaged 3;")
    assert "Pay in one click's safe date (P85) is 27 Nov 2026" in when
    assert risk.startswith("Top risk: PAY-3 (Title of PAY-3) is late for 1 item that waits")
    assert "owned by ana (assignee of PAY-3)" in risk
    assert ask == "Decision needed by 20 Nov 2026: buy or build it."
    assert report.quiet == (
        "A quiet week: 1 item finished, against an average of 3 over the 4 weeks before."
    )
    pay = report.outcome_lines[0]
    assert (pay.rag, pay.previous_rag) == ("red", "green")
    assert pay.reason == "2 items on the critical path wait on late work"
    assert pay.moved == "P85 moved 3 days later: 1 item finished in 7 days (+3 d)"
    assert [a.text for a in pay.accomplishments] == ["Title of PAY-1: 1 story done, 4 left"]
    assert report.next_weeks is not None
    assert [m.key for m in report.next_weeks.milestones] == ["PAY-7"]
    assert {w.key for w in report.next_weeks.not_started} >= {"PAY-4"}
    assert report.risk_register is not None
    (top,) = report.risk_register.risks
    assert (top.owner, top.owner_basis) == ("ana", "assignee of PAY-3")
    assert top.suggested_mitigation
    assert [d.source for d in report.risk_register.decisions] == ["notes"]
    assert report.covers is not None
    assert report.covers.text == "2026-W47, 7–13 Nov, issued Mon 16 Nov"
    assert row.markdown is not None
    assert row.markdown.index("From the program manager") < row.markdown.index("## Summary")


async def test_a_stale_source_is_a_warning_at_the_top(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    async with session_scope(sessionmaker) as session:
        for run in await session.scalars(select(SyncRunRow)):
            run.finished_at = run.finished_at - timedelta(days=3) if run.finished_at else None
    row = await _generate(sessionmaker, cfg)
    report = service.assemble(row, public_url=None, key="checkout")
    assert report.warnings
    assert report.warnings[0].startswith("jira had not synced for 3 days")
    assert row.html is not None
    assert row.html.index("Check the data first") < row.html.index("Summary")


async def test_scenarios_kept_in_the_week_are_in_the_decision_section(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    async with session_scope(sessionmaker) as session:
        program = await lookup.get_program(session, cfg, "checkout")
        for name, at in ((history.HOSTILE, history.SECOND), ("Too early", history.FIRST)):
            changes = whatif.Changes(remove_keys=["WEB-1"])
            result = await whatif.what_if(session, program, changes, now=at)
            await whatif.save(session, program.id, name, changes, result, now=at, by="pm")
    row = await _generate(sessionmaker, cfg)
    report = service.assemble(row, public_url=None, key="checkout")
    assert report.risk_register is not None
    (kept,) = report.risk_register.scenarios
    assert kept.name == history.HOSTILE
    assert kept.summary.startswith("If we defer WEB-1 (Title of WEB-1), ")
    assert row.html is not None
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row.html
    assert "<script>" not in row.html
    assert row.markdown is not None
    assert kept.summary in row.markdown
