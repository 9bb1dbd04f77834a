"""The sources page: how fresh each tracker's copy is, what the last syncs did, and (for
admins) a button to sync one now. It calls the same services as ``/api/sources``."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.programs import lookup
from app.runtime import syncs
from app.store import records
from app.store.audit import record_audit
from app.web.deps import SessionDep, StateDep
from app.web.pages import csrf
from app.web.pages.context import AdminPageDep, PageDep
from app.web.pages.links import items_url
from app.web.sources import list_source_status

router = APIRouter(include_in_schema=False)
RUNS_LISTED = 20


@router.get("/sources", name="sources_page")
async def sources_page(page: PageDep, session: SessionDep, state: StateDep) -> Response:
    sources = await list_source_status(
        session,
        state.config,
        now=datetime.now(UTC),
        running=state.syncs.is_running,
        settle=state.syncs.settle_orphan,
    )
    runs = await records.list_sync_runs(session, source_id=None, limit=RUNS_LISTED)
    return page.render(
        "sources.html",
        {
            "sources": sources,
            "runs": runs,
            "started": page.request.query_params.get("started"),
            "csrf_token": csrf.token(page.request),
            "items_url": items_url,
        },
    )


@router.post("/sources/{name}/sync", name="sync_source_now")
async def sync_source_now(
    name: str, page: AdminPageDep, state: StateDep, session: SessionDep
) -> Response:
    form = await page.request.form()
    csrf.verify(page.request, form.get(csrf.FIELD))
    try:
        await state.syncs.start_sync(name)
    except syncs.UnknownSource:
        raise lookup.NotFound(f"There is no source {name!r}.") from None
    except syncs.SyncAlreadyRunning:
        # The running sync picks up the same changes: the page shows it running.
        return RedirectResponse(f"/sources?started={name}", status_code=303)
    await record_audit(
        session, actor=page.viewer.name, action="sync.start", subject=name, after={"full": False}
    )
    return RedirectResponse(f"/sources?started={name}", status_code=303)
