"""Alerts: raised as a recomputation stores a program, told once, sent within a minute to
Slack and a signed webhook (local stand-ins), held in quiet hours, kept as duplicates."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.alerts import dispatch, listing
from app.config import ConfigError, ThroughlineConfig, parse_config
from app.programs import watch
from app.programs.recompute import recompute
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import AlertRow, ProgramRow, SyncRunRow
from tests.app import rollup_data as data
from tests.app.reports import history
from tests.app.reports.standins import Receiver

SLACK = "https://hooks.slack.test/services/T/B/alerts"
HOOK = "https://receiver.test/throughline"
ENV = {"SLACK_URL": SLACK, "HOOK_URL": HOOK, "HOOK_SECRET": "shh"}


def _config(alerts: str = "{}") -> ThroughlineConfig:
    text = data.CONFIG.replace(
        "    timezone: Europe/Berlin\n",
        "    timezone: Europe/Berlin\n"
        "    report: {deliver: {slack: {webhook_url_env: SLACK_URL}}}\n"
        f"    alerts: {alerts}\n",
    )
    return parse_config(text)


async def _alerts(sessionmaker: async_sessionmaker[AsyncSession]) -> list[AlertRow]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(AlertRow).order_by(AlertRow.id)))


async def _no_wait(_: float) -> None:
    return None


async def test_a_red_turn_and_a_high_risk_are_told_once_within_a_minute(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker, _config())
    raised = await _alerts(sessionmaker)
    # The first recomputation only learns the state; the second sees what changed.
    assert {(a.kind, a.subject) for a in raised} >= {
        ("rag_change", ""),
        ("rag_change", "fast-pay"),
        ("risk_opened", str(next(a.subject for a in raised if a.kind == "risk_opened"))),
    }
    program_turn = next(a for a in raised if (a.kind, a.subject) == ("rag_change", ""))
    assert program_turn.title == "Checkout v2 turned RED (was GREY)"
    risk = next(a for a in raised if a.kind == "risk_opened")
    assert "owner" in (risk.detail or "").lower()
    assert {a.status for a in raised} == {"pending"}
    slack = Receiver()
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(SLACK).mock(side_effect=slack)
        sent = await dispatch.run(
            sessionmaker,
            cfg,
            now=history.SECOND + timedelta(seconds=20),
            environ=ENV,
            public_url="https://tl.test",
            sleep=_no_wait,
        )
    assert sent == len(raised)
    (message,) = slack.bodies
    text = message["blocks"][0]["text"]["text"]
    assert "Checkout v2 turned RED (was GREY)" in text
    assert "<https://tl.test/programs/checkout/alerts|Every alert>" in str(message)
    assert {a.status for a in await _alerts(sessionmaker)} == {"sent"}
    # Recomputing with nothing new raises nothing, and nothing is sent twice.
    await recompute(sessionmaker, cfg, now=history.SECOND + timedelta(minutes=30))
    assert len(await _alerts(sessionmaker)) == len(raised)
    with respx.mock(assert_all_mocked=True):
        assert (
            await dispatch.run(
                sessionmaker, cfg, now=history.SECOND + timedelta(minutes=30), environ=ENV
            )
            == 0
        )
    async with sessionmaker() as session:
        listed = await listing.list_alerts(session, cfg, "checkout")
    assert [a.status for a in listed.alerts] == ["sent"] * len(raised)
    assert listed.alerts[0].deliveries[0].channel == "slack"


async def test_the_same_alert_again_soon_is_kept_as_a_duplicate_and_not_sent(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker, _config("{repeat_after: 6h}"))
    program = cfg.programs[0]
    async with session_scope(sessionmaker) as session:
        program_id = await session.scalar(select(ProgramRow.id).where(ProgramRow.key == "checkout"))
        assert program_id is not None
        kw = {"kind": "rag_change", "subject": "web", "value": "red", "severity": "high"}
        first = await watch.raise_alert(
            session, program_id, program, title="Web turned RED", now=history.SECOND, **kw
        )
        await session.flush()
        again = await watch.raise_alert(
            session,
            program_id,
            program,
            title="Web turned RED",
            now=history.SECOND + timedelta(hours=2),
            **kw,
        )
        later = await watch.raise_alert(
            session,
            program_id,
            program,
            title="Web turned RED",
            now=history.SECOND + timedelta(hours=7),
            **kw,
        )
        await session.flush()
        assert (again.status, again.duplicate_of) == ("duplicate", first.id)
        assert later.status == "pending"


async def test_quiet_hours_hold_alerts_until_they_end(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker, _config("{quiet_hours: '20:00-08:00'}"))
    night = datetime(2026, 11, 13, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    with respx.mock(assert_all_mocked=True) as mock:
        slack = mock.post(SLACK).respond(200, text="ok")
        assert await dispatch.run(sessionmaker, cfg, now=night, environ=ENV) == 0
        assert slack.call_count == 0
        morning = datetime(2026, 11, 14, 7, 1, tzinfo=UTC)  # 08:01 in Berlin
        assert await dispatch.run(sessionmaker, cfg, now=morning, environ=ENV) > 0
        assert slack.call_count == 1


async def test_a_digest_schedule_gathers_alerts_for_its_next_beat(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker, _config("{digest: '0 17 * * *'}"))
    with respx.mock(assert_all_mocked=True) as mock:
        slack = mock.post(SLACK).respond(200, text="ok")
        soon = history.SECOND + timedelta(minutes=1)
        assert await dispatch.run(sessionmaker, cfg, now=soon, environ=ENV) == 0
        beat = datetime(2026, 11, 13, 16, 0, 5, tzinfo=UTC)  # 17:00 in Berlin
        assert await dispatch.run(sessionmaker, cfg, now=beat, environ=ENV) > 0
        assert slack.call_count == 1


async def test_a_signed_webhook_and_a_failing_slack_are_each_recorded(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    alerts = (
        "{deliver: {slack: {webhook_url_env: SLACK_URL}, "
        "webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}}}"
    )
    cfg = await history.build(sessionmaker, _config(alerts))
    hook = Receiver()
    when = history.SECOND + timedelta(seconds=30)
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(HOOK).mock(side_effect=hook)
        mock.post(SLACK).respond(500, text="down")
        await dispatch.run(sessionmaker, cfg, now=when, environ=ENV, sleep=_no_wait)
    (body,) = hook.bodies
    assert body["kind"] == "alerts"
    assert body["program"] == "checkout"
    stamp, _, mac = hook.headers[0]["x-throughline-signature"].partition(",v1=")
    raw = hook.headers[0]
    assert raw["x-throughline-delivery"].startswith("checkout:")
    timestamp = stamp.removeprefix("t=")
    assert timestamp == str(int(when.timestamp()))
    signed = f"{timestamp}.".encode() + json.dumps(body, sort_keys=True).encode()
    assert mac == hmac.new(b"shh", signed, hashlib.sha256).hexdigest()
    kept = await _alerts(sessionmaker)
    assert {a.status for a in kept} == {"pending"}  # Slack will be tried again
    entries = {d["channel"]: d for d in kept[0].deliveries}
    assert entries["webhook"]["status"] == "sent"
    assert entries["slack"]["status"] == "failed"
    assert entries["slack"]["error"] == "Slack answered 500: down"


async def test_a_source_that_stops_syncing_is_told_and_so_is_its_recovery(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker, _config())
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(SLACK).respond(200, text="ok")
        await dispatch.run(sessionmaker, cfg, now=history.SECOND, environ=ENV)
        hours_later = history.SECOND + timedelta(hours=2)
        await dispatch.run(sessionmaker, cfg, now=hours_later, environ=ENV)
        stale = [a for a in await _alerts(sessionmaker) if a.kind == "source_stale"]
        assert [a.title.split(" (")[0] for a in stale] == ["jira has not synced for 2 h"]
        async with session_scope(sessionmaker) as session:
            source_id = await session.scalar(select(SyncRunRow.source_id).limit(1))
            assert source_id is not None
            session.add(
                SyncRunRow(
                    source_id=source_id,
                    mode="incremental",
                    status="succeeded",
                    started_at=hours_later,
                    finished_at=hours_later + timedelta(minutes=1),
                )
            )
        await dispatch.run(sessionmaker, cfg, now=hours_later + timedelta(minutes=2), environ=ENV)
    kinds = [a.kind for a in await _alerts(sessionmaker) if a.kind.startswith("source")]
    assert kinds == ["source_stale", "source_recovered"]


async def test_alerts_are_listed_in_the_api_and_on_their_page(
    app_factory: Callable[..., FastAPI], committed_engine: AsyncEngine
) -> None:
    cfg = _config()
    await history.build(make_sessionmaker(committed_engine), cfg)
    app = app_factory(cfg)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        mine = (await client.get("/api/programs/checkout/alerts")).json()["alerts"]
        every = (await client.get("/api/alerts?limit=500")).json()["alerts"]
        page = await client.get("/programs/checkout/alerts")
        missing = await client.get("/api/programs/nope/alerts")
    assert mine
    assert {a["program"] for a in every} == {"checkout"}
    assert mine[0]["raised_at"].endswith("+01:00")
    assert "Checkout v2 turned RED (was GREY)" in page.text
    assert missing.status_code == 404


def test_quiet_hours_must_be_a_span_of_hours() -> None:
    with pytest.raises(ConfigError, match=r"alerts\.quiet_hours: 'late evening' is not a span"):
        _config("{quiet_hours: 'late evening'}")
