"""Paginators and the one paging loop every connector uses.

A paginator answers one question: given this page's body, what changes in the next
request, or is this the last page. ``iter_pages`` decodes each body once — with the
caller's decoder, typically a typed ``TypeAdapter.validate_json`` whose page type keeps the
paging fields — and hands the same body to the caller and the paginator. It takes a fresh
paginator per call, refuses a token it has already seen and stops at a page budget, so a
misbehaving tracker cannot loop us.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Literal, Protocol, TypeVar

from connectors.base import PaginationLoopError
from connectors.http import TrackerClient

Body = TypeVar("Body", bound=Mapping[str, Any])


class Paginator(Protocol):
    def next_params(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Parameters that change for the next page, or None after the last page."""
        ...


class TokenPaginator:
    """Jira Cloud ``/search/jql``: follow ``nextPageToken`` until ``isLast`` or no token.

    A short page is not the last page: only the token and ``isLast`` say so.
    """

    def __init__(self, token_field: str = "nextPageToken") -> None:  # noqa: S107
        self._field = token_field

    def next_params(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        token = body.get(self._field)
        if body.get("isLast") is True or not token:
            return None
        return {self._field: token}


class StartAtPaginator:
    """Jira Data Center ``/search``: ``startAt`` + the page's length until ``total``.

    Advances by what was returned, not by what was asked: servers cap ``maxResults``
    silently.
    """

    def __init__(self, start_at: int = 0, *, values_field: str = "issues") -> None:
        self._start_at = start_at
        self._values_field = values_field

    def next_params(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        returned = len(body.get(self._values_field) or [])
        self._start_at = int(body.get("startAt", self._start_at)) + returned
        if returned == 0 or self._start_at >= int(body.get("total", 0)):
            return None
        return {"startAt": self._start_at}


class OffsetPaginator:
    """Asana: follow ``next_page.offset`` until ``next_page`` is null."""

    def next_params(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        next_page = body.get("next_page")
        if not next_page or not next_page.get("offset"):
            return None
        return {"offset": next_page["offset"]}


def decode_json(content: bytes) -> dict[str, Any]:
    """A page body as plain JSON (for callers without a typed page)."""
    body = jsonlib.loads(content)
    return body if isinstance(body, dict) else {}


async def iter_pages(
    client: TrackerClient,
    path: str,
    *,
    paginator: Paginator,
    decode: Callable[[bytes], Body],
    method: Literal["GET", "POST"] = "GET",
    params: Mapping[str, Any] | None = None,
    json: Mapping[str, Any] | None = None,
    max_pages: int = 100_000,
) -> AsyncIterator[Body]:
    """Yield each page's decoded body; paging parameters go in the JSON body for POST."""
    params = dict(params or {})
    body = dict(json or {})
    seen: set[str] = set()
    for _ in range(max_pages):
        if method == "POST":
            response = await client.post(path, json=body, params=params or None)
        else:
            response = await client.get(path, params=params)
        page = decode(response.content)
        yield page
        updates = paginator.next_params(page)
        if updates is None:
            return
        marker = repr(sorted(updates.items()))
        if marker in seen:
            raise PaginationLoopError(f"{client.source}: {path} repeated page token {marker}")
        seen.add(marker)
        (body if method == "POST" else params).update(updates)
    raise PaginationLoopError(f"{client.source}: {path} went past {max_pages} pages")
