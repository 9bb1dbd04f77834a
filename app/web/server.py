"""Serving the app with uvicorn, with a deadline on a request's line and headers.

uvicorn closes a connection that stays idle between requests (``timeout_keep_alive``) but
lets a client take as long as it likes to send a request's headers, a byte at a time: a
thousand such clients hold a thousand connections for ever. ``HeaderDeadline`` closes a
connection whose request line and headers are not all there within
``server.header_timeout_seconds`` of the connection opening (or of the previous answer).
The body has its own deadline (``app.web.guards.BodyDeadline``, and the webhook intake's).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config.settings import Settings

KEEP_ALIVE_SECONDS = 5


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, closing connections whose headers come too slowly."""

    header_seconds = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Idle between requests (no pipelined request waiting): the next one's headers
        # get the same deadline from now.
        if self.timeout_keep_alive_task is not None:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def server_config(
    app: Any, settings: Settings, *, host: str, port: int, **options: Any
) -> uvicorn.Config:
    """uvicorn's configuration for the service: the header deadline, proxy headers from
    ``FORWARDED_ALLOW_IPS`` (127.0.0.1 by default), no ``Server`` header."""
    protocol = type(
        "HeaderDeadline",
        (HeaderDeadline,),
        {"header_seconds": settings.server.header_timeout_seconds},
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        log_config=None,
        proxy_headers=True,
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_seconds / 2)),
        **options,
    )
