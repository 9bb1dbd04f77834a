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
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.telemetry.metrics import Metrics

log = logging.getLogger(__name__)

ROUTE = "/webhooks/{tracker}/{source}"
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
_RAW_HEADERS = [
    (b"content-type", b"application/json"),
    *((k.lower().encode(), v.encode()) for k, v in HEADERS.items()),
]
_BODIES: dict[str, bytes] = {}
"""The encoded answers that repeat (``{"status":"stored"}`` …), encoded once."""


class WebhookFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._timers: dict[int, Any] = {}

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
            status, body, headers = answer.status, answer.body, answer.headers
        except Exception:
            # Nothing was stored: a 5xx makes the tracker deliver it again.
            log.exception("webhook delivery to %s could not be stored", scope["path"])
            status, body, headers = 503, {"detail": "Could not store the delivery."}, {}
        await _answer(send, status, body, headers)
        assert state is not None
        self._timer(state.metrics, status).observe(time.perf_counter() - started)

    def _timer(self, metrics: Metrics, status: int) -> Any:
        """The request-time histogram of this route and status (looked up once)."""
        timer = self._timers.get(status)
        if timer is None:
            timer = metrics.http_request_seconds.labels("POST", ROUTE, str(status))
            self._timers[status] = timer
        return timer


async def _answer(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    """The JSON answer as two ASGI messages, the common bodies encoded once."""
    key = body.get("status") if len(body) == 1 else None
    encoded = _BODIES.get(key) if isinstance(key, str) else None
    if encoded is None:
        encoded = orjson.dumps(body)
        if isinstance(key, str) and len(_BODIES) < 16:
            _BODIES[key] = encoded
    raw = [(b"content-length", str(len(encoded)).encode()), *_RAW_HEADERS]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": encoded})
