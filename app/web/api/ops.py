"""Operational endpoints: liveness, readiness and Prometheus metrics.

``/metrics`` is behind a token: ``THROUGHLINE_METRICS__TOKEN`` when one is set (what a
Prometheus scrape config sends), else any API token (with ``auth: none``, none). With
``THROUGHLINE_METRICS__PORT`` it is served only on that listener (``metrics_listener``).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.runtime.state import AppState
from app.store import migrations
from app.store.tables import SourceRow, SyncRunRow
from app.web.deps import StateDep, authenticate
from vocabulary import RunMode, RunStatus

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def read_health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and migrated, and the scheduler runs where it should",
)
async def read_readiness(state: StateDep) -> JSONResponse:
    checks: dict[str, str] = {}
    ready = True
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "reachable"
        migrated, detail = await migrations.is_up_to_date(state.engine)
        checks["migrations"] = detail
        ready = migrated
    except (SQLAlchemyError, OSError) as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        ready = False
    if state.settings.scheduler.enabled:
        if state.scheduler is not None and state.scheduler.running:
            checks["scheduler"] = "running"
        else:
            checks["scheduler"] = "stopped"
            ready = False
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (with the metrics token, or an API token)",
    response_class=Response,
    responses={401: {"description": "No valid token"}, 404: {"description": "On another port"}},
)
async def read_metrics(request: Request, state: StateDep) -> Response:
    metrics = state.settings.metrics
    if metrics.port is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Metrics are served on their own port.")
    if metrics.token is not None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        allowed = scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), metrics.token.get_secret_value().encode()
        )
    else:
        allowed = await authenticate(request) is not None
    if not allowed:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "A Bearer token is required: the metrics token, or an API token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    await refresh_database_gauges(state)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def refresh_database_gauges(state: AppState) -> None:
    """Set the gauges read from the database: freshness per source, webhook backlog.

    A database that cannot answer leaves them as they were (``/readyz`` says why).
    """
    metrics = state.metrics
    try:
        async with state.read_sessionmaker() as session:
            rows = await session.execute(
                select(SourceRow.name, func.max(SyncRunRow.finished_at))
                .join(SyncRunRow, SyncRunRow.source_id == SourceRow.id)
                .where(
                    SyncRunRow.status.in_((RunStatus.SUCCEEDED, RunStatus.PARTIAL)),
                    SyncRunRow.mode.in_((RunMode.FULL, RunMode.INCREMENTAL)),
                )
                .group_by(SourceRow.name)
            )
            last = {str(name): at for name, at in rows}
    except (SQLAlchemyError, OSError):
        return
    now = datetime.now(UTC)
    for source in state.config.sources:
        at = last.get(source.name)
        if at is not None:
            metrics.source_freshness.labels(source.name).set((now - at).total_seconds())
    if metrics.backlog is not None:
        try:
            backlogs = await metrics.backlog()
        except (SQLAlchemyError, OSError):
            return
        for source in state.config.sources:
            backlog = backlogs.get(source.name)
            oldest = backlog.oldest_received_at if backlog else None
            metrics.webhook_backlog.labels(source.name).set(backlog.pending if backlog else 0)
            metrics.webhook_lag.labels(source.name).set(
                max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
            )
