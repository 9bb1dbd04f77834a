"""Secrets never leave the process: with known values for every kind of secret, a sync,
a failing sync, failing and refused requests and a failing delivery leave none of them
(nor the basic-auth header made of them) in the logs, the error bodies, the pages, the
API's answers, the metrics or the stored records."""

from __future__ import annotations

import base64
import json
import logging
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select

from app.config.settings import LogSettings
from app.reports import delivery, service
from app.store.engine import session_scope
from app.store.tables import ReportRow, SyncRunRow
from app.telemetry.logs import configure_logging
from connectors.fake.jira import FakeJira, generate
from connectors.fake.server import serve_in_thread
from tests.app.reports import history
from tests.jira_fakes import ANCHOR

EMAIL = "robot@acme.test"
SECRETS = {
    "J_TOKEN": "tok-jira-5ecret-0001",
    "T_ADMIN": "adm-5ecret-0002",
    "T_VIEWER": "view-5ecret-0003",
    "HOOK_SECRET": "whk-5ecret-0004",
    "SMTP_PASSWORD": "smtp-5ecret-0005",
    "WRONG_TOKEN": "bad-5ecret-0007",
    "WIKI_TOKEN": "wiki-5ecret-0008",
}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SLACK_URL = f"http://127.0.0.1:{_closed_port()}/services/T0/B0/slack-5ecret-0006"


def _forbidden() -> list[str]:
    values = [*SECRETS.values(), SLACK_URL, "slack-5ecret-0006"]
    for token in (SECRETS["J_TOKEN"], SECRETS["WRONG_TOKEN"]):
        values.append(base64.b64encode(f"{EMAIL}:{token}".encode()).decode())
    return values


class _Inbox:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 accepted"


@pytest.fixture
def smtp_port() -> Iterator[int]:
    """An SMTP server without AUTH: the login with the secret password fails."""
    port = _closed_port()
    controller = Controller(_Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def logged(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """The process's real logging (JSON, DEBUG) into captured stderr; restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    noisy = {n: logging.getLogger(n).level for n in ("httpx", "httpcore", "aiosqlite")}
    configure_logging(LogSettings(level="DEBUG", format="json"))
    try:
        yield lambda: capsys.readouterr().err
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name, was in noisy.items():
            logging.getLogger(name).setLevel(was)


async def test_no_secret_appears_anywhere(
    app_factory: Callable[..., FastAPI],
    monkeypatch: pytest.MonkeyPatch,
    smtp_port: int,
    logged: Callable[[], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("J_EMAIL", EMAIL)
    monkeypatch.setenv("SLACK_URL", SLACK_URL)
    captured: list[str] = []
    caplog.set_level(logging.DEBUG)
    fake = FakeJira(generate(40, seed=3, anchor=ANCHOR), email=EMAIL, token=SECRETS["J_TOKEN"])
    with serve_in_thread(fake) as base:
        app = app_factory(
            "server:\n  auth: tokens\n  tokens:\n"
            "    - {name: pm, role: viewer, token_env: T_VIEWER}\n"
            "    - {name: ops, role: admin, token_env: T_ADMIN}\n"
            "sources:\n"
            f"  - {{name: acme, kind: jira, url: '{base}', projects: [PAY], "
            "webhook: {secret_env: HOOK_SECRET}, "
            "auth: {email_env: J_EMAIL, token_env: J_TOKEN}}\n"
            f"  - {{name: broken, kind: jira, url: '{base}', projects: [PAY], "
            "auth: {email_env: J_EMAIL, token_env: WRONG_TOKEN}}\n"
        )
        admin = {"Authorization": f"Bearer {SECRETS['T_ADMIN']}"}
        viewer = {"Authorization": f"Bearer {SECRETS['T_VIEWER']}"}
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
        ):
            state = app.state.throughline
            assert (await state.syncs.sync_and_record("acme", full=True)).status == "succeeded"
            failed = await state.syncs.sync_and_record("broken")
            assert failed.status == "failed"
            answers = [
                await client.get("/api/sources", headers=admin),
                await client.get("/api/sync-runs", headers=admin),
                await client.get("/api/programs", headers=viewer),
                await client.get("/metrics"),
                await client.get("/readyz"),
                await client.get("/sources", headers=admin),
                await client.get("/", headers=viewer),
                # Failing requests: refused role, wrong token, unknown things, too big.
                await client.post("/api/sources/acme/sync", headers=viewer),
                await client.get("/api/sources", headers={"Authorization": "Bearer nope"}),
                await client.post("/api/sources/nowhere/sync", headers=admin),
                await client.get("/api/sync-runs?source=nowhere", headers=admin),
                await client.post("/sign-in", headers=admin, content=b"x" * 2_000_000),
                await client.get("/openapi.json"),
            ]
            assert [a.status_code for a in answers[7:12]] == [403, 401, 404, 404, 413]
            assert "401" in str(answers[1].json()), "the failed sync's error is on record"
            captured += [f"{a.status_code} {a.headers} {a.text}" for a in answers]
            async with session_scope(state.sessionmaker) as session:
                captured += [
                    json.dumps([r.error, r.warnings], default=str)
                    for r in await session.scalars(select(SyncRunRow))
                ]

            # A failing delivery: Slack unreachable, SMTP refusing the secret login.
            cfg = history.config(
                "{deliver: {slack: {webhook_url_env: SLACK_URL}, "
                f"email: {{host: 127.0.0.1, port: {smtp_port}, security: none, "
                "username_env: J_EMAIL, password_env: SMTP_PASSWORD, "
                "sender: s@acme.test, recipients: [cto@acme.test]}}}"
            )
            await history.build(state.sessionmaker, cfg)
            async with session_scope(state.sessionmaker) as session:
                await service.generate(
                    session,
                    cfg,
                    "checkout",
                    history.WEEK,
                    now=history.MONDAY,
                    public_url="https://tl.test",
                    deliver=True,
                )

            async def no_wait(_: float) -> None:
                return None

            outcome = await delivery.deliver(
                state.sessionmaker,
                cfg,
                "checkout",
                history.WEEK,
                now=history.MONDAY,
                public_url="https://tl.test",
                environ=dict(SECRETS, SLACK_URL=SLACK_URL, J_EMAIL=EMAIL),
                sleep=no_wait,
            )
            assert outcome == {"slack": "failed", "email": "failed"}
            async with session_scope(state.sessionmaker) as session:
                captured += [
                    json.dumps(r.deliveries, default=str)
                    for r in await session.scalars(select(ReportRow))
                ]

    captured.append(logged())
    captured.append(caplog.text)
    captured += [json.dumps(vars(r), default=str) for r in caplog.records]
    everything = "\n".join(captured)
    assert "could not reach Slack" in everything  # the failures were captured...
    assert "401" in everything
    assert len(everything) > 10_000
    leaks = [s for s in _forbidden() if s in everything]
    assert leaks == []  # ...and no secret with them
    print(f"searched {len(everything):,} characters", file=sys.stderr)
