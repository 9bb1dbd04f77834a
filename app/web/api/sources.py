"""Sources and their syncs: freshness at a glance, a sync on demand, the run history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from app.runtime import syncs
from app.store import records
from app.store.audit import record_audit
from app.store.tables import SyncRunRow
from app.web.deps import AdminDep, SessionDep, StateDep, ViewerDep
from app.web.sources import list_source_status
from vocabulary import RunMode, RunStatus

router = APIRouter(prefix="/api", tags=["sources"])


class WebhooksOut(BaseModel):
    registered: bool
    last_delivery_at: datetime | None
    last_heartbeat_at: datetime | None
    silent: bool
    silent_after_seconds: float
    pending: int
    failed: int
    rejected: int
    store_lag_seconds: float | None
    """Freshness of the last applied batch: tracker ``updated`` → visible in the store."""
    rollup_lag_seconds: float | None
    """Freshness of the last applied batch: tracker ``updated`` → visible in the roll-up."""
    expires_at: datetime | None


class SourceOut(BaseModel):
    name: str
    kind: str
    url: str
    running: bool
    last_sync_at: datetime | None
    last_status: RunStatus | None
    freshness_seconds: float | None
    items: int
    deleted_items: int
    last_error: str | None
    webhooks: WebhooksOut | None


class SourcesOut(BaseModel):
    sources: list[SourceOut]


class SyncStartedOut(BaseModel):
    source: str
    full: bool
    status: str = "started"


class SyncRunOut(BaseModel):
    id: int
    source: str
    mode: RunMode
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    items_seen: int
    items_written: int
    links_written: int
    transitions_written: int
    items_deleted: int
    requests: int
    retries: int
    rate_limited: int
    warnings: list[dict[str, Any]]
    error: str | None


class SyncRunsOut(BaseModel):
    runs: list[SyncRunOut]


@router.get("/sources", summary="Configured sources and how fresh their data is")
async def list_sources(session: SessionDep, state: StateDep, _: ViewerDep) -> SourcesOut:
    found = await list_source_status(
        session,
        state.config,
        now=datetime.now(UTC),
        running=state.syncs.is_running,
        settle=state.syncs.settle_orphan,
    )
    return SourcesOut(sources=[SourceOut.model_validate(s, from_attributes=True) for s in found])


@router.post(
    "/sources/{name}/sync",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a sync of one source in the background",
    responses={404: {"description": "No such source"}, 409: {"description": "Already syncing"}},
)
async def start_source_sync(
    name: str, state: StateDep, session: SessionDep, principal: AdminDep, full: bool = False
) -> SyncStartedOut:
    try:
        await state.syncs.start_sync(name, full=full)
    except syncs.UnknownSource:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No source named {name!r}.") from None
    except syncs.SyncAlreadyRunning:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"A sync of {name!r} is already running."
        ) from None
    await record_audit(
        session, actor=principal.name, action="sync.start", subject=name, after={"full": full}
    )
    return SyncStartedOut(source=name, full=full)


@router.get("/sync-runs", summary="Recent sync runs with their counts, warnings and errors")
async def list_sync_runs(
    session: SessionDep,
    _: ViewerDep,
    source: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SyncRunsOut:
    source_id = None
    if source is not None:
        row = await records.get_source(session, source)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No source named {source!r}.")
        source_id = row.id
    runs = await records.list_sync_runs(session, source_id=source_id, limit=limit)
    return SyncRunsOut(runs=[_run_out(run, name) for run, name in runs])


def _run_out(run: SyncRunRow, source: str) -> SyncRunOut:
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return SyncRunOut(
        id=run.id,
        source=source,
        mode=run.mode,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_seconds=duration,
        items_seen=run.items_seen,
        items_written=run.items_written,
        links_written=run.links_written,
        transitions_written=run.transitions_written,
        items_deleted=run.items_deleted,
        requests=run.requests,
        retries=run.retries,
        rate_limited=run.rate_limited,
        warnings=list(run.warnings or []),
        error=run.error,
    )
