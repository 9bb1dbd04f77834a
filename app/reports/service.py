"""Generating, archiving and annotating weekly reports: one row per program and ISO week.

Generating a week again replaces its content and keeps its notes and delivery record.
Notes may come before the report (they wait for it) or after (the page is re-rendered).
Nothing here commits: callers own the unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import DeliveryConfig, ThroughlineConfig
from app.programs.lookup import ConfiguredProgram, NotFound, get_program
from app.reports import compose, executive, render
from app.reports import schemas as out
from app.reports.weeks import Week
from app.store.audit import record_audit
from app.store.tables import ReportRow
from vocabulary import DeliveryStatus

_ROW_ONLY = {"notes", "notes_updated_at", "released_at", "deliveries", "links", "summary"}


def links(public_url: str | None, key: str, week: str) -> dict[str, str]:
    """Where a report can be read, as absolute URLs on the server's public address; none
    without one (a relative link in an e-mail or a Confluence page leads nowhere)."""
    if not public_url:
        return {}
    return relative_links(key, week, base=public_url.rstrip("/"))


def relative_links(key: str, week: str, *, base: str = "") -> dict[str, str]:
    """The report's addresses from the server's root (its own pages link this way)."""
    api = f"{base}/api/programs/{key}/reports/{week}"
    return {
        "page": f"{base}/programs/{key}/reports/{week}",
        "html": f"{api}.html",
        "markdown": f"{api}.md",
        "json": api,
    }


def preview_links(key: str, *, base: str = "") -> dict[str, str]:
    """Where the current week's preview can be read (it has no week of its own yet)."""
    api = f"{base}/api/programs/{key}/reports/preview"
    return {
        "page": f"{base}/programs/{key}/reports/preview",
        "html": f"{base}/programs/{key}/reports/preview",
        "markdown": f"{api}.md",
        "json": api,
    }


def sync_intervals(config: ThroughlineConfig) -> dict[str, timedelta]:
    """How often each source syncs: what a report's freshness warnings measure against."""
    return {s.name: s.sync_every for s in config.sources}


def channels(deliver: DeliveryConfig) -> list[tuple[out.Channel, str]]:
    """The configured channels and where each goes, in words that hold no secret."""
    found: list[tuple[out.Channel, str]] = []
    if deliver.slack:
        found.append(("slack", "Slack incoming webhook"))
    if deliver.confluence:
        c = deliver.confluence
        where = f"page {c.parent_page}" if c.parent_page else "the top level"
        found.append(("confluence", f"Confluence space {c.space}, under {where} ({c.page})"))
    if deliver.email:
        found.append(("email", ", ".join(deliver.email.recipients)))
    return found


async def _row(session: AsyncSession, program_id: int, week: Week) -> ReportRow | None:
    return await session.scalar(
        select(ReportRow)
        .where(ReportRow.program_id == program_id, ReportRow.week == str(week))
        .with_for_update()
    )


def assemble(row: ReportRow, *, public_url: str | None, key: str) -> out.WeeklyReport:
    """A stored report with its notes (and the summary and decisions they shape), delivery
    record and links."""
    report = out.WeeklyReport.model_validate(row.data)
    report.notes = row.notes
    report.notes_updated_at = row.notes_updated_at
    report.released_at = row.released_at
    report.deliveries = [out.Delivery.model_validate(d) for d in row.deliveries or []]
    found = links(public_url, key, row.week)
    report.links = out.Links.model_validate(found) if found else None
    return executive.finish(report)


def _render(row: ReportRow, report: out.WeeklyReport, *, public_url: str | None, key: str) -> None:
    report.notes = row.notes
    executive.finish(report)
    targets = links(public_url, key, row.week)
    row.html = render.html(report, links=targets)
    row.markdown = render.markdown(report, links=targets)


def _plan(row: ReportRow, program: ConfiguredProgram, status: DeliveryStatus) -> None:
    """Give every configured channel not yet sent the status ``status``."""
    existing = {d["channel"]: d for d in row.deliveries or []}
    planned: list[dict[str, Any]] = []
    for channel, target in channels(program.config.report.deliver):
        entry = dict(existing.get(channel) or {"channel": channel, "attempts": 0})
        entry["target"] = target
        if entry.get("status") != "sent":
            entry.update(status=status, next_attempt_at=None)
        planned.append(entry)
    row.deliveries = planned


def release(row: ReportRow, program: ConfiguredProgram, *, now: datetime) -> bool:
    """Let the report's delivery go; True when some channel now waits to be sent."""
    row.released_at = row.released_at or now
    _plan(row, program, DeliveryStatus.PENDING)
    return any(d["status"] == "pending" for d in row.deliveries)


async def generate(
    session: AsyncSession,
    config: ThroughlineConfig,
    key: str,
    week: Week,
    *,
    now: datetime,
    public_url: str | None = None,
    deliver: bool = False,
) -> tuple[ReportRow, bool]:
    """Write (or rewrite) a week's report; with ``deliver``, release it unless the program
    reviews reports and has no notes yet. Returns the row and whether a channel waits."""
    program = await get_program(session, config, key)
    report = await compose.compose(
        session, program, week, now=now, sync_every=sync_intervals(config)
    )
    row = await _row(session, program.id, week)
    if row is None:
        row = ReportRow(program_id=program.id, week=str(week), deliveries=[])
        session.add(row)
    row.generated_at = now
    row.snapshot_on = report.snapshot.on
    row.rag = report.rag.color
    row.data = report.model_dump(mode="json", by_alias=True, exclude=_ROW_ONLY)
    _render(row, report, public_url=public_url, key=key)
    waiting = False
    if deliver:
        if program.config.report.review and not row.notes and row.released_at is None:
            _plan(row, program, DeliveryStatus.WAITING)
        else:
            waiting = release(row, program, now=now)
    await session.flush()
    return row, waiting


async def list_reports(
    session: AsyncSession, config: ThroughlineConfig, key: str
) -> out.ReportList:
    """The program's generated reports, newest week first."""
    program = await get_program(session, config, key)
    rows = await session.execute(
        select(ReportRow.week, ReportRow.generated_at, ReportRow.rag)
        .where(ReportRow.program_id == program.id, ReportRow.generated_at.is_not(None))
        .order_by(ReportRow.week.desc())
    )
    return out.ReportList(
        reports=[
            out.ReportSummary(week=w, generated_at=at.astimezone(program.zone), rag=rag)
            for w, at, rag in rows
            if at is not None
        ]
    )


async def get_report(
    session: AsyncSession, config: ThroughlineConfig, key: str, week: Week
) -> tuple[ConfiguredProgram, ReportRow]:
    """A generated report's row, or ``NotFound`` saying why there is none."""
    program = await get_program(session, config, key)
    row = await session.scalar(
        select(ReportRow).where(ReportRow.program_id == program.id, ReportRow.week == str(week))
    )
    if row is None or row.generated_at is None:
        waiting = " (its notes are saved and wait for it)" if row is not None else ""
        raise NotFound(f"Program {key!r} has no report for {week} yet{waiting}.")
    return program, row


async def save_notes(
    session: AsyncSession,
    config: ThroughlineConfig,
    key: str,
    week: Week,
    notes: str,
    *,
    now: datetime,
    public_url: str | None = None,
    by: str = "system",
) -> tuple[out.NotesOut, bool]:
    """Store the program manager's notes for a week, before or after its report (``by``:
    who, for the audit log).

    A generated report is re-rendered with them; in review mode, notes on a generated
    report release its delivery. Returns the notes' state and whether a channel waits.
    """
    program = await get_program(session, config, key)
    row = await _row(session, program.id, week)
    if row is None:
        row = ReportRow(program_id=program.id, week=str(week), deliveries=[], data={})
        session.add(row)
    before = {"notes": row.notes, "released": row.released_at is not None}
    row.notes = notes.strip() or None
    row.notes_updated_at = now
    waiting = False
    if row.generated_at is not None:
        _render(row, out.WeeklyReport.model_validate(row.data), public_url=public_url, key=key)
        if program.config.report.review and row.notes and row.released_at is None:
            waiting = release(row, program, now=now)
    await session.flush()
    await record_audit(
        session,
        actor=by,
        action="report.notes",
        program=key,
        subject=str(week),
        before=before,
        after={"notes": row.notes, "released": row.released_at is not None},
        now=now,
    )
    return notes_out(row, program), waiting


def notes_out(row: ReportRow, program: ConfiguredProgram) -> out.NotesOut:
    return out.NotesOut(
        week=row.week,
        notes=row.notes,
        notes_updated_at=row.notes_updated_at.astimezone(program.zone)
        if row.notes_updated_at
        else None,
        generated=row.generated_at is not None,
        released=row.released_at is not None,
        deliveries=[out.Delivery.model_validate(d) for d in row.deliveries or []],
    )


async def release_report(
    session: AsyncSession,
    config: ThroughlineConfig,
    key: str,
    week: Week,
    *,
    now: datetime,
    by: str = "system",
) -> tuple[out.NotesOut, bool]:
    """An explicit send: release the report (review or not) and queue unsent channels."""
    program, row = await get_report(session, config, key, week)
    before = {"released_at": row.released_at}
    waiting = release(row, program, now=now)
    await session.flush()
    await record_audit(
        session,
        actor=by,
        action="report.release",
        program=key,
        subject=str(week),
        before=before,
        after={"released_at": row.released_at, "channels_waiting": waiting},
        now=now,
    )
    return notes_out(row, program), waiting


async def generated_rows(session: AsyncSession, program_ids: Sequence[int]) -> list[ReportRow]:
    """Every generated report of the given programs, oldest week first."""
    return list(
        await session.scalars(
            select(ReportRow)
            .where(ReportRow.program_id.in_(program_ids), ReportRow.generated_at.is_not(None))
            .order_by(ReportRow.program_id, ReportRow.week)
        )
    )


async def preview(
    session: AsyncSession,
    config: ThroughlineConfig,
    key: str,
    *,
    now: datetime,
    public_url: str | None = None,
) -> out.WeeklyReport:
    """The current week's report so far, from today's snapshot as it stands: marked as a
    preview, never stored, never delivered. Notes already written for the week show."""
    program = await get_program(session, config, key)
    week = Week.of(now.astimezone(program.zone).date())
    report = await compose.compose(
        session, program, week, now=now, preview=True, sync_every=sync_intervals(config)
    )
    row = await session.scalar(
        select(ReportRow).where(ReportRow.program_id == program.id, ReportRow.week == str(week))
    )
    report.notes = row.notes if row is not None else None
    if public_url:
        report.links = out.Links.model_validate(preview_links(key, base=public_url.rstrip("/")))
    return executive.finish(report)
