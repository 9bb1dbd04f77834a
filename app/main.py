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

from app import catalog, jobs, views, webhooks
from app.api import errors, ops, sources
from app.api import items as items_api
from app.api import plans as plans_api
from app.api import programs as programs_api
from app.api import reports as reports_api
from app.api import webhooks as webhooks_api
from app.auth import TokenRegistry
from app.config import ThroughlineConfig, load_config
from app.db import make_engine, make_sessionmaker, session_scope
from app.metrics import Metrics
from app.request_guard import RejectNul
from app.scheduler import JobContext, build_scheduler
from app.settings import Settings, get_settings
from app.state import AppState
from app.views import reports as reports_views
from app.webhooks.fastpath import WebhookFastPath

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, config: ThroughlineConfig | None = None
) -> FastAPI:
    """Build the service. Nothing connects to anything until the lifespan starts."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = config or load_config(settings.config, environ=os.environ)
        engine = make_engine(settings.database_url, echo=settings.database_echo)
        state = AppState(
            settings=settings,
            config=loaded,
            engine=engine,
            sessionmaker=make_sessionmaker(engine),
            read_sessionmaker=make_sessionmaker(engine, read_only=True),
            metrics=Metrics(),
            tokens=TokenRegistry(loaded.server),
        )
        app.state.throughline = state
        try:
            async with session_scope(state.sessionmaker) as session:
                await catalog.apply_config(session, loaded, now=datetime.now(UTC))
            if not state.tokens.enabled:
                log.warning("server.auth is 'none': every request is trusted as an admin")
            webhooks.start(state, os.environ)
            if settings.scheduler.enabled:
                state.services["scheduler"] = scheduler = build_scheduler(
                    JobContext(state.sessionmaker, loaded, settings, os.environ)
                )
                scheduler.start()
            yield
        finally:
            if "scheduler" in state.services:
                state.services.pop("scheduler").shutdown(wait=False)
            await webhooks.stop(state)
            await jobs.shutdown(state)
            for client in state.http_clients.values():
                await client.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Throughline",
        summary="Program status rolled up from Jira and Asana.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(ops.router)
    app.include_router(programs_api.router)
    app.include_router(plans_api.router)
    app.include_router(items_api.router)
    app.include_router(sources.router)
    app.include_router(reports_api.router)
    app.include_router(webhooks_api.router)
    app.include_router(reports_views.router)
    views.install(app, settings)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_middleware(RejectNul)
    app.add_middleware(_RequestMetrics)
    app.add_middleware(WebhookFastPath)
    return app


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
