"""Which hosts this server answers to, and which sites may change anything through it.

The names come from the configuration (``server.public_url`` and ``server.allowed_hosts``,
and the loopback names on the server's port), never from a request:

- ``TrustedHosts``: a request whose ``Host`` is none of them is refused (400). A page on
  another site that rebinds its DNS name to this server's address sends its own name as
  ``Host`` and gets nothing. The operational endpoints are exempt: load balancers and
  Prometheus call them by address (``/metrics`` has its own token).
- ``SameOrigin``: a state-changing request (POST, PUT, PATCH, DELETE) that a browser sends
  must come from one of them: its ``Origin`` (else its ``Referer``) must be one of this
  server's. A cross-site form or script is refused (403) whatever cookie or session it
  rides on, with ``auth: none`` too. Requests with a Bearer token are exempt (a browser
  never adds one by itself), as are webhook deliveries (their signature is their proof).
  A request with neither header is no browser's (browsers send ``Origin`` with every such
  request), so there is no user to forge it for.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

OPERATIONS = frozenset({"/healthz", "/readyz", "/metrics"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Hosts:
    """A set of ``host`` (any port) and ``host:port`` names, compared without case."""

    def __init__(self, names: Iterable[str]) -> None:
        self._exact: set[str] = set()
        self._any_port: set[str] = set()
        for name in names:
            name = name.strip().lower()
            host, port = _split(name)
            (self._exact if port else self._any_port).add(name if port else host)

    def __contains__(self, netloc: object) -> bool:
        if not isinstance(netloc, str) or not netloc:
            return False
        netloc = netloc.lower()
        return netloc in self._exact or _split(netloc)[0] in self._any_port


def _split(netloc: str) -> tuple[str, str]:
    """``host`` and ``port`` of a ``Host`` value (``[::1]:8000`` keeps its brackets)."""
    if netloc.startswith("["):
        host, _, rest = netloc.partition("]")
        return host + "]", rest.removeprefix(":")
    host, _, port = netloc.partition(":")
    return host, port


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class TrustedHosts:
    """ASGI middleware refusing requests addressed to a ``Host`` that is not this server's."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = Hosts(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPERATIONS:
            host = _header(scope, b"host")
            if host not in self.hosts:
                answer = JSONResponse(
                    {"detail": f"This server does not answer to the host {host!r}."},
                    status_code=400,
                )
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SameOrigin:
    """ASGI middleware refusing state-changing browser requests sent from another site."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = Hosts(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in STATE_CHANGING:
            problem = self.problem(scope)
            if problem is not None:
                await JSONResponse({"detail": problem}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def problem(self, scope: Scope) -> str | None:
        """Why the request is refused, or None when it may go on."""
        if scope["path"].startswith("/webhooks/"):
            return None
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return None
        origin = _header(scope, b"origin")
        if origin is None:
            referer = _header(scope, b"referer")
            if referer is None:
                return None
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else "null"
        parts = urlsplit(origin)
        if parts.scheme in ("http", "https") and parts.netloc in self.hosts:
            return None
        return f"A change sent from {origin} is refused: it must come from this site's pages."
