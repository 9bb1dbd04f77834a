"""Slow and stalled clients, over real sockets: they hold a socket, never the service.

A client that stops reading a CSV export holds no database connection; one that sends
its headers or body slowly is cut off at a deadline; a flood of half-sent webhook
uploads takes a bounded number of slots and the rest are told to come back. Meanwhile the
API, ``/readyz`` and webhook intake keep answering.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import parse_config
from app.config.settings import Settings
from app.store import records
from app.store.engine import make_sessionmaker, session_scope
from app.web.factory import create_app
from app.web.server import server_config
from connectors.base import Page
from tests.app.conftest import make_settings
from tests.builders import make_item, make_source

SECRET = "slow-client-secret"
CONFIG = """
server:
  auth: tokens
  tokens:
    - {name: pm-team, role: viewer, token_env: SC_VIEWER}
sources:
  - name: jira
    kind: jira
    url: https://jira.test
    auth: {email_env: SC_EMAIL, token_env: SC_TOKEN}
    webhook: {secret_env: SC_SECRET}
"""
ENV = {
    "SC_VIEWER": "viewer-secret",
    "SC_EMAIL": "pm@example.com",
    "SC_TOKEN": "t",
    "SC_SECRET": SECRET,
}
VIEWER = {"Authorization": "Bearer viewer-secret"}


@contextmanager
def serving(app: FastAPI, settings: Settings) -> Iterator[tuple[str, int]]:
    """Serve ``app`` as ``throughline serve`` does (its uvicorn configuration) on a free
    loopback port, from a thread; yields the base URL and the port.

    Connections get a send buffer of a real network's size, not loopback's megabytes, so
    a client that stops reading stalls the answer within a few dozen kilobytes."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = server_config(app, settings, host="127.0.0.1", port=port, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def build(
    database_url: str, committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[FastAPI, Settings]]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)

    def make(**overrides: Any) -> tuple[FastAPI, Settings]:
        settings = make_settings(database_url, **overrides)
        return create_app(settings, config=parse_config(CONFIG, environ=ENV)), settings

    return make


def raw_socket(port: int, *, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", port))
    return sock


def read_answer(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (or ``timeout``)."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        pass
    except ConnectionResetError:
        # The server answered and closed while the client was still sending: the kernel
        # resets such a connection, and may drop the answer before it is read.
        received += RESET
    return received


RESET = b"<reset>"


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def signed(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


async def seed_items(engine: AsyncEngine, count: int) -> None:
    sessionmaker = make_sessionmaker(engine)
    async with session_scope(sessionmaker) as session:
        source = await make_source(session)
        items = [make_item(f"PAY-{n}", title=f"Item {n} " + "x" * 300) for n in range(count)]
        await records.save_page(session, source.id, Page("PAY", items), now=items[0].updated_at)


async def test_stalled_csv_downloads_hold_no_connection_the_api_readyz_and_intake_answer(
    build: Callable[..., tuple[FastAPI, Settings]], committed_engine: AsyncEngine
) -> None:
    await seed_items(committed_engine, 4_000)  # about 1.4 MB of CSV each
    app, settings = build(
        database_pool_size=2,
        database_max_overflow=0,
        database_pool_timeout=2.0,
        server={"exports_per_client": 16},
        webhooks={"worker": False},
    )
    with serving(app, settings) as (base, port):
        stalled = []
        for _ in range(6):
            sock = raw_socket(port, receive_buffer=4096)
            sock.sendall(
                b"GET /api/items.csv HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Bearer viewer-secret\r\n\r\n"
            )
            stalled.append(sock)  # and never read
        await asyncio.sleep(1.5)
        body = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "1"}}).encode()
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            programs = await client.get("/api/sources", headers=VIEWER)
            ready = await client.get("/readyz")
            delivered = await client.post(
                "/webhooks/jira/jira", content=body, headers={"X-Hub-Signature": signed(body)}
            )
        for sock in stalled:
            sock.close()
    # A request that found no free connection within the pool's timeout would be a 503.
    assert (programs.status_code, ready.status_code, delivered.status_code) == (200, 200, 200)


async def test_one_address_streams_a_bounded_number_of_exports_at_once(
    build: Callable[..., tuple[FastAPI, Settings]], committed_engine: AsyncEngine
) -> None:
    await seed_items(committed_engine, 4_000)
    app, settings = build(server={"exports_per_client": 2})
    with serving(app, settings) as (base, port):
        stalled = []
        for _ in range(2):
            sock = raw_socket(port, receive_buffer=4096)
            sock.sendall(
                b"GET /api/items.csv HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Bearer viewer-secret\r\n\r\n"
            )
            stalled.append(sock)
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            third = await client.get("/api/items.csv", headers=VIEWER)
            for sock in stalled:
                sock.close()
            for _ in range(100):
                await asyncio.sleep(0.05)
                again = await client.get("/api/items.csv?source=jira&q=Item%201%20", headers=VIEWER)
                if again.status_code == 200:
                    break
    assert third.status_code == 429
    assert "retry-after" in third.headers
    assert again.status_code == 200, "a slot comes back when its client hangs up"


async def test_headers_sent_too_slowly_close_the_connection(
    build: Callable[..., tuple[FastAPI, Settings]],
) -> None:
    app, settings = build(server={"header_timeout_seconds": 0.5})
    with serving(app, settings) as (_, port):
        slow = raw_socket(port)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        started = time.monotonic()
        assert read_answer(slow, timeout=5) == b""
        assert time.monotonic() - started < 3
        prompt = raw_socket(port)
        prompt.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(read_answer(prompt, timeout=5)) == 200


async def test_a_body_sent_too_slowly_is_a_408_and_the_connection_closes(
    build: Callable[..., tuple[FastAPI, Settings]],
) -> None:
    app, settings = build(server={"body_timeout_seconds": 0.5})
    with serving(app, settings) as (_, port):
        for path in (b"/api/programs/x/risks", b"/webhooks/jira/jira"):
            slow = raw_socket(port)
            slow.sendall(
                b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Bearer viewer-secret\r\nX-Hub-Signature: sha256=00\r\n"
                b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a": '
            )
            answer = read_answer(slow, timeout=5)
            assert status_of(answer) == 408, (path, answer[:200])


async def test_half_sent_webhook_uploads_take_a_bounded_number_of_slots(
    build: Callable[..., tuple[FastAPI, Settings]],
) -> None:
    app, settings = build(
        server={"body_timeout_seconds": 1.5},
        webhooks={"max_concurrent_uploads": 4, "worker": False},
    )
    part = b"x" * 100_000
    with serving(app, settings) as (base, port):
        senders = []
        for _ in range(12):
            sock = raw_socket(port)
            sock.sendall(
                b"POST /webhooks/jira/jira HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"X-Hub-Signature: sha256=00\r\nContent-Length: 1048000\r\n\r\n" + part
            )
            senders.append(sock)
        answers = await asyncio.gather(
            *(asyncio.to_thread(read_answer, sock, 6) for sock in senders)
        )
        body = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "2"}}).encode()
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            after = await client.post(
                "/webhooks/jira/jira", content=body, headers={"X-Hub-Signature": signed(body)}
            )
    statuses = sorted(status_of(a) for a in answers)
    # Four take a slot and wait out the body timeout; the other eight are turned away at
    # once (a busy answer, or a reset if the kernel dropped it: the sender retries either way).
    assert statuses.count(408) == 4, answers
    turned_away = [a for a in answers if status_of(a) != 408]
    assert all(status_of(a) == 503 or a.endswith(RESET) for a in turned_away), turned_away
    assert all(b"retry-after: 5" in a.lower() for a in answers if status_of(a) == 503)
    assert after.status_code == 200
