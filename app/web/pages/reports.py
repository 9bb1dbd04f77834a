"""The weekly reports' pages: the archive of a program and one week's report, with the
program manager's notes form, the delivery record and a send button."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.programs.lookup import get_program
from app.reports import render, service
from app.store.text import StorableText
from app.web.deps import AdminDep, SessionDep, StateDep
from app.web.pages import csrf
from app.web.pages.context import PageDep
from app.web.reports import WeekPath, parse_week, schedule_delivery

router = APIRouter(prefix="/programs", tags=["pages"], include_in_schema=False)


@router.get("/{key}/reports", response_class=HTMLResponse)
async def report_archive(key: str, session: SessionDep, state: StateDep, page: PageDep) -> Response:
    program = await get_program(session, state.config, key)
    listing = await service.list_reports(session, state.config, key)
    entries = [{"summary": s, "href": f"/programs/{key}/reports/{s.week}"} for s in listing.reports]
    return page.render("report/archive_page.html", {"program": program.config, "entries": entries})


@router.get("/{key}/reports/preview", response_class=HTMLResponse)
async def report_preview(key: str, session: SessionDep, state: StateDep, page: PageDep) -> Response:
    """The current week so far as the report will read, in the site's layout: any time,
    also right after the first sync; never archived or sent."""
    report = await service.preview(session, state.config, key, now=datetime.now(UTC))
    values = render.context(report, links=service.preview_links(key))
    return page.render("report/preview_page.html", values | {"in_site": True})


@router.get("/{key}/reports/{week}", response_class=HTMLResponse)
async def report_page(
    key: str, week: WeekPath, request: Request, session: SessionDep, state: StateDep, page: PageDep
) -> Response:
    """A week's report in the site's layout, with the notes form and the delivery record."""
    program, row = await service.get_report(session, state.config, key, parse_week(week))
    report = service.assemble(row, public_url=state.settings.server.public_url, key=key)
    values = render.context(report, links=service.relative_links(key, row.week))
    values |= {
        "in_site": True,
        "csrf_field": csrf.FIELD,
        "csrf_token": csrf.token(request),
        "channels": service.channels(program.config.report.deliver),
        "saved": request.query_params.get("saved"),
    }
    return page.render("report/page.html", values)


@router.post("/{key}/reports/{week}/notes")
async def report_notes_form(
    key: str,
    week: WeekPath,
    request: Request,
    notes: Annotated[StorableText, Form(max_length=20_000)],
    csrf_token: Annotated[str, Form()],
    session: SessionDep,
    state: StateDep,
    tasks: BackgroundTasks,
    principal: AdminDep,
) -> Response:
    csrf.verify(request, csrf_token)
    parsed = parse_week(week)
    _notes, waiting = await service.save_notes(
        session,
        state.config,
        key,
        parsed,
        notes,
        now=datetime.now(UTC),
        public_url=state.settings.server.public_url,
        by=principal.name,
    )
    if waiting:
        schedule_delivery(tasks, state, key, parsed)
    return RedirectResponse(f"/programs/{key}/reports/{week}?saved=notes", status_code=303)


@router.post("/{key}/reports/{week}/send")
async def report_send_form(
    key: str,
    week: WeekPath,
    request: Request,
    csrf_token: Annotated[str, Form()],
    session: SessionDep,
    state: StateDep,
    tasks: BackgroundTasks,
    principal: AdminDep,
) -> Response:
    csrf.verify(request, csrf_token)
    parsed = parse_week(week)
    _notes, waiting = await service.release_report(
        session, state.config, key, parsed, now=datetime.now(UTC), by=principal.name
    )
    if waiting:
        schedule_delivery(tasks, state, key, parsed)
    return RedirectResponse(f"/programs/{key}/reports/{week}?saved=send", status_code=303)
