"""Security headers on every response: a strict Content-Security-Policy and friends.

The pages need no script at all and load only this site's stylesheet, so the policy
allows nothing from elsewhere and no inline script or style: even if tracker text
slipped past escaping, a browser would refuse to run it. The interactive API docs
(``/docs``) run Swagger UI from this server's own files; its widgets set inline styles,
so that page alone may use them, and it holds no tracker data. The weekly report pages
are standalone documents with their CSS inline (they must render in mail clients); they
may use inline styles, still no script.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
REPORT_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
DOCS_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
HEADERS = {
    # Answers carry program data for whoever asked: no shared or on-disk cache may keep
    # them (assets set their own, public policy).
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
DOCS_PATHS = ("/docs",)
REPORT_PATHS = re.compile(r"^/((api/)?programs/[^/]+/reports|digests)(/|$)")


def policy_for(path: str) -> str:
    """The Content-Security-Policy of the response to ``path``."""
    if path in DOCS_PATHS:
        return DOCS_POLICY
    if REPORT_PATHS.match(path):
        return REPORT_POLICY
    return CONTENT_SECURITY_POLICY


class SecurityHeaders:
    """ASGI middleware adding the headers to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = policy_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
