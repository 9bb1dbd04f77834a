"""Refusing addresses that carry a NUL character (``%00``) before any route sees them.

A NUL decoded from a path or query parameter would reach a query as a parameter, and
PostgreSQL refuses NUL in text: the request would fail as a server error instead of
being told plainly that it is malformed.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MESSAGE = "The address contains a NUL character (%00), which is never valid here."


class RejectNul:
    """ASGI middleware answering 400 to any HTTP request whose path or query has ``%00``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope["path"].encode()
            if b"%00" in raw or b"%00" in scope.get("query_string", b""):
                await JSONResponse({"detail": MESSAGE}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)
