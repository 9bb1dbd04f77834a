"""The application factory: ``create_app(settings)`` builds everything in its lifespan."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import webhooks
from app.config import ThroughlineConfig, load_config
from app.config.settings import Settings, get_settings
from app.runtime.scheduler import JobContext, build_scheduler, drain
from app.runtime.state import AppState
from app.store import catalog
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.sync import jobs
from app.telemetry.metrics import Metrics
from app.web import pages
from app.web.api import errors, ops, sources
from app.web.api import items as items_api
from app.web.api import plans as plans_api
from app.web.api import programs as programs_api
from app.web.api import reports as reports_api
from app.web.api import webhooks as webhooks_api
from app.web.auth import TokenRegistry
from app.web.guards import LimitBody, RejectNul, RequestId
from app.web.pages import reports as reports_views
from app.webhooks.fastpath import WebhookFastPath

log = logging.getLogger(__name__)


@asynccontextmanager
async def service_state(settings: Settings, config: ThroughlineConfig) -> AsyncIterator[AppState]:
    """The state every request and job shares, opened and closed around a process's life."""
    engine = make_engine(settings.database_url, echo=settings.database_echo)
    state = AppState(
        settings=settings,
        config=config,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        read_sessionmaker=make_sessionmaker(engine, read_only=True),
        metrics=Metrics(),
        tokens=TokenRegistry(config.server),
    )
    try:
        async with session_scope(state.sessionmaker) as session:
            await catalog.apply_config(session, config, now=datetime.now(UTC))
        yield state
    finally:
        await jobs.shutdown(state)
        for client in state.http_clients.values():
            await client.aclose()
        await engine.dispose()


def create_app(
    settings: Settings | None = None, *, config: ThroughlineConfig | None = None
) -> FastAPI:
    """Build the service. Nothing connects to anything until the lifespan starts.

    With ``settings.scheduler.enabled`` the process also runs the scheduler (the CLI's
    ``serve`` and ``worker`` turn it on); with ``settings.role == "worker"`` it answers
    only the operational endpoints.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = config or load_config(settings.config, environ=os.environ)
        async with service_state(settings, loaded) as state:
            app.state.throughline = state
            if not state.tokens.enabled and settings.role == "server":
                log.warning("server.auth is 'none': every request is trusted as an admin")
            webhooks.start(state, os.environ)
            state.metrics.backlog = webhooks.backlog_provider(state)
            ctx = None
            if settings.scheduler.enabled:
                ctx = JobContext.from_state(state, os.environ)
                state.services["job_context"] = ctx
                state.services["scheduler"] = scheduler = build_scheduler(ctx)
                scheduler.start()
                log.info(
                    "%s started with the scheduler (%d jobs)",
                    settings.role,
                    len(scheduler.get_jobs()),
                )
            try:
                yield
            finally:
                if ctx is not None:
                    scheduler = state.services.pop("scheduler")
                    await drain(scheduler, ctx, grace=_time_left(state, settings))
                await webhooks.stop(state, grace_seconds=max(1.0, _time_left(state, settings)))
                await jobs.shutdown(state, grace=_time_left(state, settings))

    app = FastAPI(
        title="Throughline",
        summary="Program status rolled up from Jira and Asana.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(ops.router)
    if settings.role == "server":
        app.include_router(programs_api.router)
        app.include_router(plans_api.router)
        app.include_router(items_api.router)
        app.include_router(sources.router)
        app.include_router(reports_api.router)
        app.include_router(webhooks_api.router)
        app.include_router(reports_views.router)
        pages.install(app, settings)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_middleware(RejectNul)
    app.add_middleware(LimitBody, max_bytes=settings.server.max_body_bytes)
    app.add_middleware(_RequestMetrics)
    if settings.role == "server":
        # Webhook deliveries skip the routing stack (their intake checks size itself).
        app.add_middleware(WebhookFastPath)
    app.add_middleware(RequestId)
    return app


STOP_REQUESTED = "stop_requested_at"


def _time_left(state: AppState, settings: Settings) -> float:
    """What remains of the shutdown bound since SIGTERM arrived (all of it if none did),
    less a second for closing connections."""
    since = state.services.get(STOP_REQUESTED)
    spent = time.monotonic() - since if since is not None else 0.0
    return max(0.0, settings.shutdown_seconds - spent - 1.0)


def request_stop(state: AppState) -> None:
    """Called on SIGTERM before the server stops: take no new job from now on."""
    state.services.setdefault(STOP_REQUESTED, time.monotonic())
    ctx: JobContext | None = state.services.get("job_context")
    if ctx is not None:
        ctx.runtime.draining = True
    webhooks.request_stop(state)


class _RequestMetrics:
    """Times every HTTP request by route and status (plain ASGI: a ``BaseHTTPMiddleware``
    costs a task and a stream copy per request, a tenth of a cached page's answer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = ["500"]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            state: AppState | None = getattr(scope["app"].state, "throughline", None)
            if state is not None:
                route = getattr(scope.get("route"), "path", "unmatched")
                state.metrics.http_request_seconds.labels(
                    scope["method"], route, status[0]
                ).observe(time.perf_counter() - started)
