"""Pre-rendered JSON: each issue and history is rendered once per change of the site.

A full sync of a large site reads every issue once, and a benchmark reads it again and
again: rendering each one per request (timestamps in the user's zone, ADF, links) cost
the fake more CPU than the client it serves. The bytes of each rendering are kept until
the site next changes (``JiraData.version``), and pages are put together from them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from starlette.responses import Response

from connectors.fake.jira.model import JiraData


def dumps(value: Any) -> bytes:
    """The bytes Starlette's ``JSONResponse`` would send for ``value``."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class RenderedCache:
    """Rendered bytes by what was rendered and how; emptied when the site changes."""

    def __init__(self, data: JiraData) -> None:
        self._data = data
        self._version = data.version
        self._bytes: dict[Hashable, bytes] = {}

    def get(self, key: Hashable, render: Callable[[], Any]) -> bytes:
        if self._data.version != self._version:
            self._bytes.clear()
            self._version = self._data.version
        found = self._bytes.get(key)
        if found is None:
            found = self._bytes[key] = dumps(render())
        return found


class Raw(bytes):
    """JSON already rendered, embedded as it is."""


def raw_array(parts: Iterable[bytes]) -> Raw:
    return Raw(b"[" + b",".join(parts) + b"]")


def json_response(pairs: Iterable[tuple[str, Any]]) -> Response:
    """A JSON object of ``pairs`` in their order, ``Raw`` values embedded unchanged."""
    body = b",".join(
        dumps(name) + b":" + (value if isinstance(value, Raw) else dumps(value))
        for name, value in pairs
    )
    return Response(b"{" + body + b"}", media_type="application/json")
