"""Delivering a report: Slack and Confluence at the HTTP boundary (respx), e-mail to a
real SMTP server on loopback (aiosmtpd); retries, records, and independence."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
import respx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig
from app.reports import delivery, service
from app.reports.weeks import Week
from app.store.engine import session_scope
from tests.app.reports import history
from tests.app.reports.standins import WIKI, Confluence, StoredPage

SLACK = "https://hooks.slack.test/services/T000/B000/XXXX"
ENV = {"SLACK_URL": SLACK, "WIKI_EMAIL": "bot@acme.test", "WIKI_TOKEN": "wiki-secret"}


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    # The server logs every session from its own thread; the test needs none of it.
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
        server_log.setLevel(level)


def channels_config(port: int = 1, *, review: bool = False, only: str = "") -> ThroughlineConfig:
    parts = {
        "slack": "slack: {webhook_url_env: SLACK_URL}",
        "confluence": (
            f"confluence: {{url: '{WIKI}', space: PM, parent_page: '4242', "
            "auth: {email_env: WIKI_EMAIL, token_env: WIKI_TOKEN}}"
        ),
        "email": (
            f"email: {{host: 127.0.0.1, port: {port}, security: none, "
            "sender: status@acme.test, recipients: [cto@acme.test, pm@acme.test]}"
        ),
    }
    chosen = [v for k, v in parts.items() if not only or k in only.split(",")]
    review_text = "true" if review else "false"
    return history.config(f"{{review: {review_text}, deliver: {{{', '.join(chosen)}}}}}")


async def _release(sessionmaker: async_sessionmaker[AsyncSession], cfg: ThroughlineConfig) -> bool:
    await history.build(sessionmaker, cfg)
    async with session_scope(sessionmaker) as session:
        _, waiting = await service.generate(
            session,
            cfg,
            "checkout",
            history.WEEK,
            now=history.MONDAY,
            public_url="https://tl.test",
            deliver=True,
        )
    return waiting


async def _deliver(
    sessionmaker: async_sessionmaker[AsyncSession], cfg: ThroughlineConfig, now: datetime
) -> dict[str, str]:
    async def no_wait(_: float) -> None:
        return None

    return await delivery.deliver(
        sessionmaker,
        cfg,
        "checkout",
        history.WEEK,
        now=now,
        public_url="https://tl.test",
        environ=ENV,
        sleep=no_wait,
    )


async def _deliveries(
    sessionmaker: async_sessionmaker[AsyncSession], cfg: ThroughlineConfig
) -> dict[str, dict[str, Any]]:
    async with sessionmaker() as session:
        _, row = await service.get_report(session, cfg, "checkout", history.WEEK)
    return {d["channel"]: d for d in row.deliveries}


@respx.mock(assert_all_mocked=True)
async def test_every_channel_gets_the_report(
    respx_mock: respx.MockRouter,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    cfg = channels_config(port)
    slack = respx_mock.post(SLACK).respond(200, text="ok")
    wiki = Confluence()
    wiki.mount(respx_mock)
    assert await _release(sessionmaker, cfg)
    assert await _deliver(sessionmaker, cfg, history.MONDAY) == {
        "slack": "sent",
        "confluence": "sent",
        "email": "sent",
    }
    message = json.loads(slack.calls.last.request.content)
    summary = message["blocks"][0]["text"]["text"]
    assert "*Checkout v2* — weekly status 2026-W47" in summary
    changes = message["blocks"][1]["text"]["text"]
    assert "*1* completed" in changes
    assert (
        "<https://tl.test/programs/checkout/reports/2026-W47|"
        in message["blocks"][2]["elements"][0]["text"]
    )
    assert "<script>" not in json.dumps(message)
    (page,) = wiki.pages.values()
    assert (page.title, page.parent_id) == ("Checkout v2 — status 2026-W47", "4242")
    assert "&lt;script&gt;" in page.body
    assert [path for _, path in wiki.calls] == [
        "/wiki/api/v2/spaces",
        "/wiki/api/v2/pages",
        "/wiki/api/v2/pages",
    ]
    assert all(a.startswith("Basic ") for a in wiki.auth)
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["cto@acme.test", "pm@acme.test"]
    mail = message_from_bytes(envelope.original_content or b"", policy=policy.default)
    assert mail["Subject"].startswith("[")
    assert "Checkout v2 — weekly status 2026-W47" in mail["Subject"]
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    plain, rich = (p.get_content() for p in mail.iter_parts())
    assert "SUMMARY: " in plain
    assert "<" not in plain.replace("<script>alert(1)</script>", "").replace("<b>", "")
    assert 'style="' in rich
    assert "https://tl.test/programs/checkout/reports/2026-W47" in rich
    recorded = await _deliveries(sessionmaker, cfg)
    assert recorded["confluence"]["url"] == f"{WIKI}/spaces/PM/pages/{page.id}"
    assert {d["status"] for d in recorded.values()} == {"sent"}
    # A second run finds nothing due: nothing is sent twice.
    assert await _deliver(sessionmaker, cfg, history.MONDAY + timedelta(hours=1)) == {}
    assert slack.call_count == 1


@pytest.mark.parametrize("v2", [True, False], ids=["cloud-v2", "data-center-v1"])
async def test_a_living_confluence_page_is_updated_with_the_next_version(
    sessionmaker: async_sessionmaker[AsyncSession], v2: bool
) -> None:
    living = history.config(
        "{deliver: {confluence: {url: '" + WIKI + "', space: PM, page: living, "
        "title: Checkout status, auth: {token_env: WIKI_TOKEN}}}}"
    )
    wiki = Confluence(v2=v2)
    wiki.pages["900"] = StoredPage("900", "Checkout status — weekly status", "PM", None, "old", 7)
    assert await _release(sessionmaker, living)
    with respx.mock(assert_all_mocked=True) as mock:
        wiki.mount(mock)
        assert await _deliver(sessionmaker, living, history.MONDAY) == {"confluence": "sent"}
    assert wiki.pages["900"].version == 8
    assert "Checkout v2" in wiki.pages["900"].body
    assert len(wiki.pages) == 1
    assert set(wiki.auth) == {"Bearer wiki-secret"}
    expected = ["/wiki/api/v2/spaces"] if not v2 else []
    put = "/wiki/api/v2/pages/900" if v2 else "/wiki/rest/api/content/900"
    assert [p for _, p in wiki.calls][-1] == put
    assert [p for _, p in wiki.calls][: len(expected)] == expected
    assert (await _deliveries(sessionmaker, living))["confluence"]["url"] == (
        f"{WIKI}/spaces/PM/pages/900"
    )


async def test_a_confluence_retry_after_a_failed_create_finds_the_page_not_a_second_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = channels_config(only="confluence")
    wiki = Confluence(fail_next=[])
    assert await _release(sessionmaker, cfg)
    with respx.mock(assert_all_mocked=True) as mock:
        wiki.mount(mock)
        wiki.fail_next = [503, 503, 503]
        assert await _deliver(sessionmaker, cfg, history.MONDAY) == {"confluence": "failed"}
        later = history.MONDAY + timedelta(minutes=6)
        assert await _deliver(sessionmaker, cfg, later) == {"confluence": "sent"}
        assert await _deliver(sessionmaker, cfg, later + timedelta(minutes=30)) == {}
    assert len(wiki.pages) == 1


@respx.mock(assert_all_mocked=True)
async def test_a_transient_failure_is_retried_at_once(
    respx_mock: respx.MockRouter, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    cfg = channels_config(only="slack")
    route = respx_mock.post(SLACK)
    route.side_effect = [httpx.Response(503), httpx.ConnectError("down"), httpx.Response(200)]
    assert await _release(sessionmaker, cfg)
    assert await _deliver(sessionmaker, cfg, history.MONDAY) == {"slack": "sent"}
    assert route.call_count == 3
    assert (await _deliveries(sessionmaker, cfg))["slack"]["attempts"] == 1


@respx.mock(assert_all_mocked=True)
async def test_a_failed_channel_is_recorded_retried_later_and_blocks_no_other(
    respx_mock: respx.MockRouter,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    cfg = channels_config(port, only="slack,email")
    route = respx_mock.post(SLACK).respond(404, text="no_service")
    assert await _release(sessionmaker, cfg)
    assert await _deliver(sessionmaker, cfg, history.MONDAY) == {"slack": "failed", "email": "sent"}
    assert len(inbox.envelopes) == 1
    slack = (await _deliveries(sessionmaker, cfg))["slack"]
    assert slack["status"] == "failed"
    assert slack["error"] == "Slack answered 404: no_service"
    assert SLACK not in json.dumps(slack)
    assert slack["next_attempt_at"] == (history.MONDAY + timedelta(minutes=5)).isoformat()
    # Not due yet: nothing happens; once due, only Slack is tried again.
    assert await _deliver(sessionmaker, cfg, history.MONDAY + timedelta(minutes=1)) == {}
    route.respond(200, text="ok")
    later = history.MONDAY + timedelta(minutes=6)
    assert (
        await delivery.retry_due(
            sessionmaker, cfg, now=later, environ=ENV, public_url="https://tl.test"
        )
        == 1
    )
    assert (await _deliveries(sessionmaker, cfg))["slack"]["status"] == "sent"
    assert len(inbox.envelopes) == 1


async def test_review_mode_holds_delivery_until_notes_are_written(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = channels_config(only="slack", review=True)
    assert not await _release(sessionmaker, cfg)
    assert (await _deliveries(sessionmaker, cfg))["slack"]["status"] == "waiting"
    assert await _deliver(sessionmaker, cfg, history.MONDAY) == {}
    async with session_scope(sessionmaker) as session:
        notes, waiting = await service.save_notes(
            session, cfg, "checkout", history.WEEK, "Good week.", now=history.MONDAY
        )
    assert waiting
    assert notes.released
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(SLACK).respond(200, text="ok")
        assert await _deliver(sessionmaker, cfg, history.MONDAY) == {"slack": "sent"}


async def test_a_missing_secret_fails_the_channel_without_naming_a_value(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = channels_config(only="slack")
    assert await _release(sessionmaker, cfg)
    sent = await delivery.deliver(
        sessionmaker, cfg, "checkout", Week(2026, 47), now=history.MONDAY, environ={}
    )
    assert sent == {"slack": "failed"}
    slack = (await _deliveries(sessionmaker, cfg))["slack"]
    assert slack["error"] == "environment variable SLACK_URL is not set"
