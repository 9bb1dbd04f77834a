"""The application factory: ``create_app(settings)`` builds everything in its lifespan."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import ThroughlineConfig, load_config
from app.config.settings import Settings, get_settings
from app.runtime.lifecycle import service_state
from app.runtime.state import AppState
from app.web import csv_export, oidc, pages
from app.web.api import alerts as alerts_api
from app.web.api import audit as audit_api
from app.web.api import digests as digests_api
from app.web.api import errors, ops, sources
from app.web.api import flow as flow_api
from app.web.api import items as items_api
from app.web.api import plans as plans_api
from app.web.api import portfolio as portfolio_api
from app.web.api import programs as programs_api
from app.web.api import reports as reports_api
from app.web.api import webhooks as webhooks_api
from app.web.api import whatif as whatif_api
from app.web.auth import TokenRegistry
from app.web.fastpath import WebhookFastPath
from app.web.guards import BodyDeadline, LimitBody, RejectNul, RequestId
from app.web.metrics_listener import metrics_listener
from app.web.origins import Hosts, SameOrigin, TrustedHosts
from app.web.pages import reports as reports_views
from app.web.readpath import ReadFastPath
from app.web.redact import RedactRestricted
from app.web.throttle import FailedTokens

log = logging.getLogger(__name__)


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
        async with service_state(
            settings,
            loaded,
            environ=os.environ,
            webhook_worker=None,
            scheduler=bool(settings.scheduler.enabled),
        ) as state:
            app.state.throughline = state
            app.state.tokens = TokenRegistry(loaded.server)
            app.state.oidc = (
                oidc.Provider(loaded.server.oidc, os.environ)
                if loaded.server.oidc is not None and app.state.tokens.enabled
                else None
            )
            if not app.state.tokens.enabled and settings.role == "server":
                log.warning("server.auth is 'none': every request is trusted as an admin")
            if state.scheduler is not None:
                state.scheduler.start()
                log.info(
                    "%s started with the scheduler (%d jobs)",
                    settings.role,
                    len(state.scheduler.specs),
                )
            async with metrics_listener(state):
                yield

    app = FastAPI(
        title="Throughline",
        summary="Program status rolled up from Jira and Asana.",
        version="0.1.0",
        lifespan=lifespan,
        # /docs is a page of the site (app.web.pages.docs), Swagger UI served locally.
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(ops.router)
    if settings.role == "server":
        app.include_router(programs_api.router)
        app.include_router(flow_api.router)
        app.include_router(whatif_api.router)
        app.include_router(plans_api.router)
        app.include_router(portfolio_api.router)
        app.include_router(items_api.router)
        app.include_router(sources.router)
        app.include_router(reports_api.router)
        app.include_router(webhooks_api.router)
        app.include_router(alerts_api.router)
        app.include_router(audit_api.router)
        app.include_router(digests_api.router)
        app.include_router(reports_views.router)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(PoolTimeout, errors.database_busy)
    hosts = settings.server.trusted_hosts()
    app.state.hosts = Hosts(hosts)
    app.state.failed_tokens = FailedTokens(settings.server.failed_tokens_per_minute)
    app.state.exports = csv_export.ExportSlots(
        settings.server.exports_per_client,
        concurrent_reads=max(1, settings.database_pool_size // 2),
    )
    if settings.role == "server":
        # After the API's handler: a page's invalid request is a page, the API's stays JSON.
        pages.install(app, settings)
    app.add_middleware(RedactRestricted)
    app.add_middleware(RejectNul)
    app.add_middleware(LimitBody, max_bytes=settings.server.max_body_bytes)
    app.add_middleware(BodyDeadline, seconds=settings.server.body_timeout_seconds)
    app.add_middleware(SameOrigin, hosts=hosts)
    app.add_middleware(_RequestMetrics)
    if settings.role == "server":
        # Webhook deliveries skip the routing stack (their intake checks size and time
        # itself).
        app.add_middleware(WebhookFastPath)
        # A program's status and pages, answered again while what they show is unchanged.
        app.add_middleware(ReadFastPath)
    app.add_middleware(TrustedHosts, hosts=hosts)
    app.add_middleware(RequestId)
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
