"""Deliveries answered ahead of the rest of the app.

A tracker's burst is thousands of small POSTs whose answer must come within milliseconds
while the worker shares the process. This outermost middleware hands
``POST /webhooks/{jira|asana}/{source}`` straight to the intake, skipping routing,
dependency resolution and the page middlewares (their headers mean nothing to a tracker);
the same intake also sits behind the documented FastAPI routes, which answer identically.
"""

from __future__ import annotations

import logging
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

ROUTE = "/webhooks/{tracker}/{source}"
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


class WebhookFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = scope["path"].split("/") if scope["type"] == "http" else []
        state = getattr(scope["app"].state, "throughline", None) if parts else None
        intake = state.webhooks.intake if state is not None else None
        if (
            intake is None
            or scope["method"] != "POST"
            or len(parts) != 4
            or parts[1] != "webhooks"
            or parts[2] not in ("jira", "asana")
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            answer = await intake.receive(parts[2], parts[3], Request(scope, receive))
            status, body, headers = answer.status, answer.body, {**HEADERS, **answer.headers}
        except Exception:
            # Nothing was stored: a 5xx makes the tracker deliver it again.
            log.exception("webhook delivery to %s could not be stored", scope["path"])
            status, body, headers = 503, {"detail": "Could not store the delivery."}, HEADERS
        await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)
        assert state is not None
        state.metrics.http_request_seconds.labels("POST", ROUTE, str(status)).observe(
            time.perf_counter() - started
        )
