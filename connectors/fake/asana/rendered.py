"""Pre-rendered task JSON: each task is rendered once per change of the world, not per request.

A full sync lists every task once, and a benchmark lists them again and again: rendering
each task per request (its projects, sections, custom fields and timestamps, then cut to
``opt_fields``) cost the fake a large share of the CPU of the client it serves. The bytes
of a task as asked for are kept until any record of the world changes (``Changes``), and
listings are put together from them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.responses import Response

from connectors.fake.asana import render
from connectors.fake.asana.model import Changes, Task
from connectors.fake.asana.world import World

FULL = "\x00full"
"""The key of a single task's GET without ``opt_fields``: every field."""


def dumps(value: Any) -> bytes:
    """The bytes Starlette's ``JSONResponse`` would send for ``value``."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class RenderedTasks:
    """Task JSON by task and the ``opt_fields`` asked for; emptied when the world changes."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._version = Changes.count
        self._bytes: dict[tuple[str, str | None, str, str], bytes] = {}

    def task(self, found: Task, fields: str | None) -> bytes:
        """``found`` as a listing gives it for ``opt_fields`` text ``fields`` (the compact
        form for None), or in full for ``FULL``; ``UnknownField`` as rendering raises it."""
        if Changes.count != self._version:
            self._bytes.clear()
            self._version = Changes.count
        world = self._world
        key = (found.gid, fields, world.app_url, world.workspace_name)
        rendered = self._bytes.get(key)
        if rendered is None:
            record = render.task(world, found)
            if fields == FULL:
                shaped = render.full(record)
            else:
                shaped = render.select(record, render.parse_fields(fields))
            rendered = self._bytes[key] = dumps(shaped)
        return rendered


def data_response(parts: Iterable[bytes], **after: Any) -> Response:
    """``{"data": [parts…], …after}`` from pre-rendered parts, as ``JSONResponse`` sends it."""
    body = b'{"data":[' + b",".join(parts) + b"]"
    for name, value in after.items():
        body += b"," + dumps(name) + b":" + dumps(value)
    return Response(body + b"}", media_type="application/json")


def single_response(part: bytes) -> Response:
    return Response(b'{"data":' + part + b"}", media_type="application/json")
