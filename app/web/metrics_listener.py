"""``/metrics`` on a listener of its own (``THROUGHLINE_METRICS__PORT``), for a scraper that
reaches a private address only, so the public listener need not serve metrics at all.

A deliberately small HTTP/1.1 server in the process's loop: it answers ``GET /metrics``
(with ``THROUGHLINE_METRICS__TOKEN`` as a Bearer token, when one is set) and nothing else,
reads at most a few kilobytes of request within a few seconds, and closes every
connection after its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.runtime.state import AppState
from app.web.api.ops import refresh_database_gauges

log = logging.getLogger(__name__)

REQUEST_LIMIT = 8 * 1024
REQUEST_SECONDS = 5.0


@contextlib.asynccontextmanager
async def metrics_listener(state: AppState) -> AsyncIterator[int | None]:
    """Serve ``/metrics`` on ``settings.metrics.port`` while the block runs (nothing when
    no port is set); yields the port listened on."""
    settings = state.settings.metrics
    if settings.port is None:
        yield None
        return
    token = settings.token.get_secret_value() if settings.token is not None else None

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            status, body, kind = await _respond(state, head, token)
            writer.write(
                b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                b"Cache-Control: no-store\r\nConnection: close\r\n\r\n"
                % (status, kind.encode(), len(body))
            )
            writer.write(body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, settings.host, settings.port, limit=REQUEST_LIMIT)
    port = server.sockets[0].getsockname()[1]
    log.info("metrics listener on %s:%d", settings.host, port)
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


async def _respond(state: AppState, head: bytes, token: str | None) -> tuple[bytes, bytes, str]:
    lines = head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    path = rest.partition(" ")[0].partition("?")[0]
    if method != "GET" or path != "/metrics":
        return b"404 Not Found", b"Only GET /metrics is served here.\n", "text/plain"
    if token is not None:
        presented = next(
            (
                value.strip()
                for name, _, value in (line.partition(":") for line in lines[1:])
                if name.strip().lower() == "authorization"
            ),
            "",
        )
        scheme, _, credential = presented.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credential.strip().encode(), token.encode()
        ):
            return b"401 Unauthorized", b"A Bearer token is required.\n", "text/plain"
    await refresh_database_gauges(state)
    return b"200 OK", generate_latest(state.metrics.registry), CONTENT_TYPE_LATEST
