"""Where traffic is checked: the connectors' client and the fakes' ASGI entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from connectors.fake.asana import FakeAsana
from connectors.fake.jira import FakeJira
from connectors.http import TrackerClient
from tests.spec.validation import Findings, Tracker, check_request, check_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def tracker_of(path: str) -> Tracker | None:
    if path.startswith("/rest/api/"):
        return "jira"
    if path.startswith("/api/1.0/"):
        return "asana"
    return None


def _check_sent(findings: Findings, request: httpx.Request) -> None:
    tracker = tracker_of(request.url.path)
    if tracker is None:
        return
    method, path, query = request.method, request.url.path, request.url.query.decode()
    headers, content = dict(request.headers), request.content
    findings.defer(lambda: check_request(tracker, method, path, query, headers, content))


async def _checked_call(
    findings: Findings,
    app: Callable[[Scope, Receive, Send], Awaitable[None]],
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    tracker = tracker_of(scope.get("path", "")) if scope["type"] == "http" else None
    if tracker is None:
        await app(scope, receive, send)
        return
    status = 0
    headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.update((k.decode().lower(), v.decode()) for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
        await send(message)

    await app(scope, receive, capture)
    request_headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
    method, path = scope["method"], scope["path"]
    query, body = scope.get("query_string", b"").decode(), b"".join(chunks)
    findings.defer(
        lambda: check_response(tracker, method, path, query, request_headers, status, headers, body)
    )


@contextmanager
def checking(monkeypatch: pytest.MonkeyPatch) -> Iterator[Findings]:
    """Check every connector request and every fake answer until the block ends."""
    findings = Findings()
    classify = TrackerClient._classify

    def classify_checked(
        self: TrackerClient, method: str, path: str, response: httpx.Response
    ) -> httpx.Response:
        _check_sent(findings, response.request)
        return classify(self, method, path, response)

    monkeypatch.setattr(TrackerClient, "_classify", classify_checked)
    for fake in (FakeJira, FakeAsana):
        original = fake.__call__

        async def call(
            self: Any, scope: Scope, receive: Receive, send: Send, _original: Any = original
        ) -> None:
            async def inner(s: Scope, r: Receive, w: Send) -> None:
                await _original(self, s, r, w)

            await _checked_call(findings, inner, scope, receive, send)

        monkeypatch.setattr(fake, "__call__", call)
    yield findings
