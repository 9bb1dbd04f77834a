"""``throughline webhooks register`` against the fakes, and the refresh of Jira's dynamic
webhooks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import parse_config
from app.config.settings import WebhookSettings
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import ItemRow, TransitionRow, WebhookSubscriptionRow
from app.sync import pull
from app.webhooks import register
from connectors.fake.asana import FakeAsana, generate
from connectors.fake.jira import FakeJira
from connectors.fake.server import serve_in_thread
from tests.app.webhooks.conftest import ENV
from tests.jira_fakes import EMAIL, TOKEN


async def eventually(check: Callable[[], object], wait: float = 20.0) -> None:
    deadline = time.monotonic() + wait
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_asana_registration_handshakes_with_the_running_server_and_events_flow(
    app_factory: Callable[..., FastAPI], committed_engine: AsyncEngine, webhook_env: None
) -> None:
    asana = FakeAsana(generate(40, seed=4, projects=1), seed=4)
    project = next(iter(asana.world.projects))
    sessionmaker = make_sessionmaker(committed_engine)
    with serve_in_thread(asana) as asana_base:
        config = parse_config(
            f"""
server: {{auth: none}}
sources:
  - name: team-asana
    kind: asana
    url: '{asana_base}/api/1.0'
    workspace: '{asana.world.workspace}'
    projects: ['{project}']
    auth: {{token_env: WH_TOKEN}}
""",
            environ=ENV,
        )
        settings = WebhookSettings(secret_key="k" * 40, poll_seconds=0.05)
        app = app_factory(config, webhooks=settings)
        with serve_in_thread(app) as app_base:
            outcome = await pull.sync_source(sessionmaker, config, "team-asana", environ=ENV)
            assert outcome.status == "succeeded"
            result = await register.register(
                sessionmaker, config, "team-asana", public_url=app_base, environ=ENV
            )
            assert result.ok, result.lines
            assert len(result.webhook_ids) == 1
            hook = asana.webhooks.webhooks[result.webhook_ids[0]]
            async with session_scope(sessionmaker) as session:
                row = await session.scalar(select(WebhookSubscriptionRow))
            assert row is not None
            assert row.webhook_ids == result.webhook_ids
            assert hook.secret not in str(row.secrets)

            gid = asana.world.projects[project].tasks[0]
            gone = asana.world.projects[project].tasks[1]
            asana.edit_task(gid, name="Renamed in Asana")
            asana.delete_task(gone)
            # A move on the board reaches the status history through the same re-read.
            moved = asana.world.projects[project].tasks[2]
            sections = asana.world.projects[project].sections
            now_in = asana.world.tasks[moved].memberships[0][1]
            target = next(s for s in sections[2:4] if s != now_in)
            asana.edit_task(moved, section=target)
            story = asana.world.tasks[moved].stories[-1]

            async def applied() -> bool:
                async with session_scope(sessionmaker) as session:
                    renamed = await session.scalar(
                        select(ItemRow).where(ItemRow.external_id == gid)
                    )
                    deleted = await session.scalar(
                        select(ItemRow).where(ItemRow.external_id == gone)
                    )
                    history = await session.scalar(
                        select(TransitionRow).where(
                            TransitionRow.item_external_id == moved,
                            TransitionRow.external_id == story,
                        )
                    )
                return bool(
                    history is not None
                    and history.to_status == asana.world.sections[target].name
                    and renamed is not None
                    and renamed.title == "Renamed in Asana"
                    and deleted is not None
                    and deleted.deleted
                )

            await eventually(applied)
            asana.send_heartbeats()

            async def heartbeat() -> bool:
                async with session_scope(sessionmaker) as session:
                    sub = await session.scalar(select(WebhookSubscriptionRow))
                return sub is not None and sub.last_heartbeat_at is not None

            await eventually(heartbeat)
            async with httpx.AsyncClient(base_url=app_base) as api:
                [source] = (await api.get("/api/sources")).json()["sources"]
            assert source["webhooks"]["registered"] is True
            assert source["webhooks"]["silent"] is False
            assert source["webhooks"]["store_lag_seconds"] is not None

            # The window closed with the registration; registering again keeps the secret.
            async with session_scope(sessionmaker) as session:
                row = await session.scalar(select(WebhookSubscriptionRow))
            assert row is not None
            assert (row.handshake_open_until, row.handshake_resources) == (None, [])
            kept = dict(row.secrets)
            again = await register.register(
                sessionmaker, config, "team-asana", public_url=app_base, environ=ENV
            )
            assert again.ok
            assert again.webhook_ids == []
            assert "already registered" in again.lines[0]
            async with session_scope(sessionmaker) as session:
                row = await session.scalar(select(WebhookSubscriptionRow))
            assert row is not None
            assert row.secrets == kept


def jira_config(base: str, *, app_token: bool, allow_unsigned: bool) -> str:
    auth = "{token_env: WH_TOKEN}" if app_token else "{email_env: WH_EMAIL, token_env: WH_TOKEN}"
    webhook = "{allow_unsigned: true}" if allow_unsigned else "{secret_env: WH_SECRET}"
    return f"""
server: {{auth: none}}
sources:
  - name: acme-jira
    kind: jira
    url: '{base}'
    projects: [PAY, WEB]
    auth: {auth}
    webhook: {webhook}
"""


async def test_jira_with_an_api_token_prints_the_admin_steps_and_the_secret(
    committed_engine: AsyncEngine,
) -> None:
    jira = FakeJira.generated(20)
    with serve_in_thread(jira) as base:
        config = parse_config(jira_config(base, app_token=False, allow_unsigned=False), environ=ENV)
        result = await register.register(
            make_sessionmaker(committed_engine),
            config,
            "acme-jira",
            public_url="https://throughline.example.com",
            environ=ENV,
        )
    text = "\n".join(result.lines)
    assert "https://throughline.example.com/webhooks/jira/acme-jira" in text
    assert ENV["WH_SECRET"] in text
    assert 'project in ("PAY", "WEB")' in text
    assert not jira.webhooks.registrations


async def test_jira_app_token_registers_a_dynamic_webhook_that_the_scheduler_refreshes(
    committed_engine: AsyncEngine,
) -> None:
    jira = FakeJira.generated(20, token=TOKEN, email=EMAIL)
    sessionmaker = make_sessionmaker(committed_engine)
    with serve_in_thread(jira) as base:
        config = parse_config(jira_config(base, app_token=True, allow_unsigned=True), environ=ENV)
        result = await register.register(
            sessionmaker, config, "acme-jira", public_url="https://tl.example.com", environ=ENV
        )
        assert result.ok, result.lines
        [hook] = jira.webhooks.registrations.values()
        assert hook.dynamic
        assert hook.jql == 'project in ("PAY", "WEB")'
        assert hook.events == {"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"}
        assert hook.url == "https://tl.example.com/webhooks/jira/acme-jira"

        now = datetime.now(UTC)
        assert (
            await register.refresh_jira_webhooks(sessionmaker, config, now=now, environ=ENV) == []
        )
        hook.expires_at = now + timedelta(days=3)
        async with session_scope(sessionmaker) as session:
            row = await session.scalar(select(WebhookSubscriptionRow))
            assert row is not None
            row.expires_at = now + timedelta(days=3)
        later = now + timedelta(days=25)
        assert await register.refresh_jira_webhooks(
            sessionmaker, config, now=later, environ=ENV
        ) == ["acme-jira"]
        assert hook.expires_at > now + timedelta(days=29)
        async with session_scope(sessionmaker) as session:
            row = await session.scalar(select(WebhookSubscriptionRow))
        assert row is not None
        assert row.expires_at is not None
        assert row.expires_at > now + timedelta(days=29)


@pytest.mark.parametrize("app_token", [False, True], ids=["api-token", "app-token"])
async def test_the_fake_refuses_dynamic_webhooks_to_api_tokens(app_token: bool) -> None:
    jira = FakeJira.generated(5)
    headers = (
        {"Authorization": f"Bearer {TOKEN}"}
        if app_token
        else {"Authorization": "Basic " + httpx.BasicAuth(EMAIL, TOKEN)._auth_header.split()[1]}
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(jira), base_url="http://jira.test"
    ) as client:
        answer = await client.post(
            "/rest/api/3/webhook",
            headers=headers,
            json={
                "url": "https://x",
                "webhooks": [{"events": ["jira:issue_updated"], "jqlFilter": "project = PAY"}],
            },
        )
    assert answer.status_code == (200 if app_token else 403)
