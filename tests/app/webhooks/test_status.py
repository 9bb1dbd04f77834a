"""A source whose webhooks went quiet is flagged on /api/sources and the sources page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import records
from app.store.engine import make_sessionmaker, session_scope
from app.webhooks import subscriptions

CONFIG = """
server: {auth: none}
sources:
  - name: team-asana
    kind: asana
    workspace: "1"
    auth: {token_env: WH_TOKEN}
  - name: quiet-jira
    kind: jira
    url: https://quiet.atlassian.net
    auth: {email_env: WH_EMAIL, token_env: WH_TOKEN}
    webhook: {secret_env: WH_SECRET, silent_after: 2h}
"""


@pytest.mark.parametrize(
    ("hours_later", "silent"),
    [
        (1, {"team-asana": False, "quiet-jira": False}),
        (3, {"team-asana": False, "quiet-jira": True}),
        (10, {"team-asana": True, "quiet-jira": True}),
    ],
)
async def test_registered_webhooks_without_deliveries_or_heartbeats_are_flagged_silent(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    webhook_env: None,
    hours_later: int,
    silent: dict[str, bool],
) -> None:
    app = app_factory(CONFIG)
    registered = datetime(2026, 11, 20, 8, tzinfo=UTC)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as api,
    ):
        async with session_scope(make_sessionmaker(committed_engine)) as session:
            for name in silent:
                row = await records.get_source(session, name)
                assert row is not None
                await subscriptions.record_registration(session, row.id, ["1"], now=registered)
        with time_machine.travel(registered + timedelta(hours=hours_later), tick=False):
            sources = (await api.get("/api/sources")).json()["sources"]
            page = (await api.get("/sources")).text
    assert {s["name"]: s["webhooks"]["silent"] for s in sources} == silent
    assert ("silent" in page) == any(silent.values())
