"""Checking traffic against the vendored official documents (``openapi-core``).

Two places see the traffic: the connectors' HTTP client (every request a connector sends,
whoever answers it) and the fake trackers' ASGI entry (every answer a fake gives, whoever
asked). Both hand what they saw to ``check_request`` / ``check_response``, which return
the problems found: anything outside the document that ``deviations.py`` does not allow.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.spec import deviations

HERE = Path(__file__).parent
Tracker = Literal["jira", "asana"]

ASANA_PREFIX = "/api/1.0"
JIRA_V2_SAME_SHAPE = (
    "serverInfo",
    "myself",
    "field",
    "status",
    "project",
    "project/search",
    "search",
    "issue/",
)
"""Version 2 paths checked against their version 3 twin: same shapes (rich text and users
differ inside ``fields``, which the document leaves open)."""


@cache
def document(tracker: Tracker) -> dict[str, Any]:
    """The vendored document with the allowed deviations applied (and a neutral server)."""
    raw = json.loads((HERE / f"{tracker}.json").read_text())
    raw.pop("x-vendored", None)
    patched = deviations.apply(tracker, copy.deepcopy(raw))
    # Requests are matched by path alone: the fakes serve on loopback, not at the vendors'.
    patched["servers"] = [{"url": "/"}]
    # Credentials are the fakes' own check (and openapi-core knows no bearer-on-basic mix).
    patched.pop("security", None)
    for item in patched["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    return patched


@cache
def api(tracker: Tracker) -> OpenAPI:
    return OpenAPI.from_dict(document(tracker))


def spec_path(tracker: Tracker, path: str) -> str | None:
    """The document's path for a request path, or None when the tracker has no such API."""
    if tracker == "asana":
        return path.removeprefix(ASANA_PREFIX) if path.startswith(ASANA_PREFIX + "/") else None
    if path.startswith("/rest/api/3/"):
        return path
    rest = path.removeprefix("/rest/api/2/")
    if rest != path and rest.startswith(JIRA_V2_SAME_SHAPE):
        return "/rest/api/3/" + rest
    return None


@dataclass(frozen=True, slots=True)
class _Request:
    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass(frozen=True, slots=True)
class _Response:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


def _request(
    path: str, method: str, query: str, headers: Mapping[str, str], body: bytes | None
) -> _Request:
    return _Request(
        host_url="http://tracker.test",
        path=path,
        method=method.lower(),
        body=body or None,
        content_type=headers.get("content-type", "application/json").lower(),
        parameters=RequestParameters(
            query=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)),
            header=Headers(dict(headers)),
            cookie=ImmutableMultiDict(),
        ),
    )


def check_request(
    tracker: Tracker,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes | None,
) -> list[str]:
    """Problems of a request a connector sent; an API the document lacks is one."""
    where = spec_path(tracker, path)
    what = f"{tracker} request {method} {path}"
    if where is None or deviations.undocumented(tracker, method, path):
        return []
    try:
        api(tracker).validate_request(_request(where, method, query, headers, body))
    except (PathNotFound, OperationNotFound):
        return [f"{what}: not an operation of the vendored document"]
    except Exception as exc:  # openapi-core's validation errors share no narrower base
        return [f"{what}: {describe(exc)}"]
    return []


def check_response(
    tracker: Tracker,
    method: str,
    path: str,
    query: str,
    request_headers: Mapping[str, str],
    status: int,
    headers: Mapping[str, str],
    body: bytes,
) -> list[str]:
    """Problems of an answer a fake gave (to any client) under an API of the document."""
    where = spec_path(tracker, path)
    if where is None or deviations.undocumented(tracker, method, path, status):
        return []
    request = _request(where, method, query, request_headers, None)
    content_type = headers.get("content-type", "application/json").split(";")[0].lower()
    response = _Response(status, content_type, Headers(dict(headers)), body or None)
    try:
        api(tracker).validate_response(request, response)
    except (PathNotFound, OperationNotFound):
        return []
    except Exception as exc:  # see check_request
        return [f"{tracker} answer {status} to {method} {path}: {describe(exc)}"]
    return []


def describe(exc: BaseException) -> str:
    """openapi-core's error with the schema errors under it, each with its JSON path
    (list positions folded into ``*``, so a field wrong in every issue is said once)."""
    parts = [f"{type(exc).__name__}: {str(exc)[:160]}"]
    cause: BaseException | None = exc
    seen: set[str] = set()
    while cause is not None:
        for error in getattr(cause, "schema_errors", None) or ():
            where = "/".join("*" if isinstance(p, int) else str(p) for p in error.absolute_path)
            message = re.sub(r"^'[^']*'", "a value", error.message)[:200]
            line = f"  at {where or '(root)'}: {message}"
            if line not in seen and len(seen) < 12:
                seen.add(line)
                parts.append(line)
        cause = cause.__cause__
    return "\n".join(parts)


@dataclass
class Findings:
    """Traffic seen during one test, from any thread, checked when the test ends.

    Checking is deferred so that it never slows the fake or the client while the test
    runs: tests that measure pacing or timeouts see the traffic they would see without it.
    """

    problems: list[str] = field(default_factory=list)
    checked: int = 0
    _pending: list[Callable[[], list[str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def defer(self, check: Callable[[], list[str]]) -> None:
        with self._lock:
            self._pending.append(check)

    def run(self) -> list[str]:
        """Run the deferred checks; the distinct problems found."""
        with self._lock:
            pending, self._pending = self._pending, []
        for check in pending:
            self.checked += 1
            for problem in check():
                if problem not in self.problems:
                    self.problems.append(problem)
        return self.problems
