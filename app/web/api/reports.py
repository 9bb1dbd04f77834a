"""Weekly reports: the archive (JSON, Markdown, HTML) and the program manager's notes.

Reads need a viewer token; notes and an explicit send need an admin token. Deliveries a
request lets go run after the answer is sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from app.reports import render, service
from app.reports import schemas as out
from app.web.deps import AdminDep, ConfigDep, SessionDep, StateDep, ViewerDep
from app.web.reports import WeekPath, parse_week, schedule_delivery


class MarkdownResponse(PlainTextResponse):
    """A report as Markdown, documented as such in the OpenAPI document."""

    media_type = "text/markdown"


router = APIRouter(prefix="/api/programs", tags=["reports"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such program or report"}}


@router.get("/{key}/reports", summary="A program's weekly reports", responses=NOT_FOUND)
async def list_reports(
    key: str, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> out.ReportList:
    return await service.list_reports(session, config, key)


@router.get(
    "/{key}/reports/preview",
    summary="The current week so far, as a report (never archived or sent)",
    responses=NOT_FOUND,
)
async def preview_report(
    key: str, session: SessionDep, state: StateDep, _: ViewerDep
) -> out.WeeklyReport:
    return await service.preview(
        session,
        state.config,
        key,
        now=datetime.now(UTC),
        public_url=state.settings.server.public_url,
    )


@router.get(
    "/{key}/reports/preview.md",
    summary="The current week so far, as Markdown",
    response_class=MarkdownResponse,
    responses=NOT_FOUND,
)
async def preview_report_markdown(
    key: str, session: SessionDep, state: StateDep, _: ViewerDep
) -> Response:
    public_url = state.settings.server.public_url
    report = await service.preview(
        session, state.config, key, now=datetime.now(UTC), public_url=public_url
    )
    links = service.preview_links(key, base=public_url.rstrip("/")) if public_url else {}
    markdown = render.markdown(report, links=links)
    return MarkdownResponse(markdown)


@router.get(
    "/{key}/reports/{week}.md",
    summary="A weekly report as Markdown",
    response_class=MarkdownResponse,
    responses=NOT_FOUND,
)
async def read_report_markdown(
    key: str, week: WeekPath, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> Response:
    _program, row = await service.get_report(session, config, key, parse_week(week))
    return MarkdownResponse(row.markdown or "")


@router.get(
    "/{key}/reports/{week}.html",
    summary="A weekly report as a standalone HTML page",
    response_class=HTMLResponse,
    responses=NOT_FOUND,
)
async def read_report_html(
    key: str, week: WeekPath, session: SessionDep, config: ConfigDep, _: ViewerDep
) -> Response:
    _program, row = await service.get_report(session, config, key, parse_week(week))
    return HTMLResponse(row.html or "")


@router.get("/{key}/reports/{week}", summary="A weekly report", responses=NOT_FOUND)
async def read_report(
    key: str, week: WeekPath, session: SessionDep, state: StateDep, _: ViewerDep
) -> out.WeeklyReport:
    _program, row = await service.get_report(session, state.config, key, parse_week(week))
    return service.assemble(row, public_url=state.settings.server.public_url, key=key)


@router.put(
    "/{key}/reports/{week}/notes",
    summary="Write the program manager's notes for a week",
    responses=NOT_FOUND,
)
async def write_notes(
    key: str,
    week: WeekPath,
    body: out.NotesIn,
    session: SessionDep,
    state: StateDep,
    tasks: BackgroundTasks,
    principal: AdminDep,
) -> out.NotesOut:
    """Before the week's report is written the notes wait for it; after, the report is
    re-rendered with them, and in review mode its delivery goes out."""
    parsed = parse_week(week)
    notes, waiting = await service.save_notes(
        session,
        state.config,
        key,
        parsed,
        body.notes,
        now=datetime.now(UTC),
        public_url=state.settings.server.public_url,
        by=principal.name,
    )
    if waiting:
        schedule_delivery(tasks, state, key, parsed)
    return notes


@router.post(
    "/{key}/reports/{week}/send",
    summary="Send a week's report now (every channel not yet sent)",
    responses=NOT_FOUND,
)
async def send_report(
    key: str,
    week: WeekPath,
    session: SessionDep,
    state: StateDep,
    tasks: BackgroundTasks,
    principal: AdminDep,
) -> out.NotesOut:
    parsed = parse_week(week)
    notes, waiting = await service.release_report(
        session, state.config, key, parsed, now=datetime.now(UTC), by=principal.name
    )
    if waiting:
        schedule_delivery(tasks, state, key, parsed)
    return notes
