"""An empty field of a page's form means "any": ``?status_category=&q=`` is ``?``.

A filter form sends every field, chosen or not; its "any" choice and an empty date box
arrive as empty values. For the pages (never under ``/api`` or ``/webhooks``, whose
contract is their own) those pairs are dropped before routing, so every page reads an
unchosen field as absent rather than refusing it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

NOT_PAGES = ("/api/", "/webhooks/")


def without_blanks(query: bytes) -> bytes:
    """The query string without its empty values (the order of the rest kept)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    kept = [(name, value) for name, value in pairs if value.strip()]
    if len(kept) == len(pairs):
        return query
    return urlencode(kept).encode("latin-1")


class BlankMeansAny:
    """ASGI middleware dropping empty query values from GET requests for pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope.get("query_string")
            and not scope["path"].startswith(NOT_PAGES)
        ):
            scope = {**scope, "query_string": without_blanks(scope["query_string"])}
        await self.app(scope, receive, send)
