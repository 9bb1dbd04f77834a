"""The webhook intake and worker fuzzed with hostile deliveries: text no database stores
(NUL, unpaired surrogates), right-to-left and zero-width marks, deep nesting, bodies at
and past the size limit, forged and garbled signatures. Whatever arrives, intake answers
as documented (never a 5xx), and the worker applies or parks each stored event without
failing a round. A fixed seed and budget (``derandomize``, ``max_examples``)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import parse_config
from app.config.settings import WebhookSettings
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import WebhookEventRow
from app.webhooks.worker import WebhookWorker
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import EMAIL, TOKEN, make_fake
from vocabulary import EventState

pytestmark = pytest.mark.slow

SECRET = "fuzz-secret"
LIMIT = 64 * 1024
EXAMPLES = 250
DOCUMENTED = {200, 400, 401, 403, 404, 408, 413}
ENV = {"F_EMAIL": EMAIL, "F_TOKEN": TOKEN, "F_SECRET": SECRET}

HOSTILE = st.sampled_from(
    [
        "\x00",
        "\ud800",
        "\udfff",
        "\ud83d",
        "\u202e",  # right-to-left override
        "\u200b",  # zero-width space
        "\ufeff",
        "😀",
        "</script><script>alert(1)</script>",
        "' OR 1=1 --",
        "%00",
        "\\u0000",
        "a" * 3000,
    ]
)
TEXT = st.one_of(
    HOSTILE, st.text(max_size=40), st.builds(lambda a, b: a + b, st.text(max_size=8), HOSTILE)
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=30,
)


def issue(values: dict[str, Any]) -> dict[str, Any]:
    """A Jira issue shape whose every field may be hostile."""
    return {
        "id": values.get("id", "10001"),
        "key": values.get("key", "PAY-1"),
        "fields": {
            "summary": values.get("summary", "x"),
            "status": {"name": values.get("status", "Done"), "statusCategory": {"key": "done"}},
            "issuetype": {
                "name": values.get("type", "Story"),
                "hierarchyLevel": values.get("level", 0),
            },
            "project": {"key": values.get("project", "PAY")},
            "updated": values.get("updated", "2026-11-20T10:00:00.000+0000"),
            "labels": values.get("labels", []),
        },
    }


JIRA_BODY = st.one_of(
    st.builds(
        lambda event, values, extra: {"webhookEvent": event, "issue": issue(values), **extra},
        st.one_of(st.sampled_from(["jira:issue_updated", "jira:issue_created"]), TEXT),
        st.dictionaries(
            st.sampled_from(
                ["id", "key", "summary", "status", "type", "level", "project", "updated", "labels"]
            ),
            JSON,
            max_size=5,
        ),
        st.dictionaries(TEXT, JSON, max_size=2),
    ),
    JSON,
)


def nested(depth: int) -> bytes:
    return b'{"webhookEvent": "jira:issue_updated", "x": ' + b"[" * depth + b"]" * depth + b"}"


RAW = st.one_of(
    JIRA_BODY.map(lambda body: json.dumps(body).encode()),
    st.integers(min_value=1, max_value=5000).map(nested),
    st.binary(max_size=200),
    st.integers(min_value=LIMIT - 10, max_value=LIMIT + 10).map(lambda n: b"x" * n),
)
SIGNATURE = st.sampled_from(["good", "none", "wrong", "garbled"])


def sign(body: bytes, how: str) -> dict[str, bytes]:
    good = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "good": {"X-Hub-Signature": good.encode()},
        "none": {},
        "wrong": {"X-Hub-Signature": b"sha256=" + b"0" * 64},
        "garbled": {"X-Hub-Signature": "sig-é-\u202e".encode()},
    }[how]


@pytest.fixture
async def intake(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    fake = make_fake(20)
    with serve_in_thread(fake) as jira:
        config = f"""
server: {{auth: none}}
sources:
  - {{name: acme, kind: jira, url: '{jira}', projects: [PAY],
     auth: {{email_env: F_EMAIL, token_env: F_TOKEN}},
     webhook: {{secret_env: F_SECRET, allow_unsigned: true}}}}
"""
        app = app_factory(config, webhooks=WebhookSettings(worker=False, max_body_bytes=LIMIT))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
        ):
            yield client, config


async def test_no_delivery_makes_intake_or_the_worker_fail(
    intake: tuple[httpx.AsyncClient, str], committed_engine: AsyncEngine
) -> None:
    client, config = intake
    loop = asyncio.get_running_loop()
    answers: list[tuple[int, bytes]] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=RAW, how=SIGNATURE)
    def deliver(body: bytes, how: str) -> None:
        answer = asyncio.run_coroutine_threadsafe(
            client.post("/webhooks/jira/acme", content=body, headers=sign(body, how)), loop
        ).result()
        answers.append((answer.status_code, body[:200]))
        assert answer.status_code in DOCUMENTED, (answer.status_code, answer.text, body[:200])

    await asyncio.to_thread(deliver)
    assert len(answers) == EXAMPLES
    assert (await client.get("/readyz")).status_code == 200

    sessionmaker = make_sessionmaker(committed_engine)
    worker = WebhookWorker(
        sessionmaker,
        parse_config(config, environ=ENV),
        settings=WebhookSettings(max_attempts=1, batch_size=50),
        environ=ENV,
    )
    try:
        for _ in range(50):
            if not await worker.drain_once():
                break
    finally:
        await worker.aclose()
    async with session_scope(sessionmaker) as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(WebhookEventRow)
            .where(WebhookEventRow.state == EventState.PENDING)
        )
        failed = (
            await session.scalars(
                select(WebhookEventRow.error).where(WebhookEventRow.state == EventState.FAILED)
            )
        ).all()
    assert pending == 0
    assert all(error for error in failed), "a parked event says why"
