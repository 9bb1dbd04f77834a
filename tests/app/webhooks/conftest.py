"""A fake Jira and a real Throughline server on loopback, joined by signed webhooks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig, parse_config
from app.config.settings import WebhookSettings
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import WebhookEventRow
from app.sync import pull
from connectors.fake.jira import FakeJira
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import (
    EMAIL,
    TOKEN,
    expected_items,
    expected_links,
    make_fake,
    stored_items,
    stored_links,
)

SECRET = "shared-webhook-secret"
PROJECTS = ("PAY", "WEB")
EVENTS = [
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "issuelink_created",
    "issuelink_deleted",
]


def site_config(jira_base: str, *, allow_unsigned: bool = False) -> ThroughlineConfig:
    webhook = "{allow_unsigned: true}" if allow_unsigned else "{secret_env: WH_SECRET}"
    return parse_config(
        f"""
server: {{auth: none}}
sources:
  - name: acme-jira
    kind: jira
    url: '{jira_base}'
    projects: [PAY, WEB]
    auth: {{email_env: WH_EMAIL, token_env: WH_TOKEN}}
    webhook: {webhook}
programs:
  - key: checkout
    name: Checkout v2
    outcomes:
      - {{key: all, name: Everything, match: [{{source: acme-jira, projects: [PAY, WEB]}}]}}
""",
        environ={"WH_EMAIL": EMAIL, "WH_TOKEN": TOKEN, "WH_SECRET": SECRET},
    )


@dataclass
class Site:
    jira: FakeJira
    jira_base: str
    app_base: str
    config: ThroughlineConfig
    sessionmaker: async_sessionmaker[AsyncSession]

    async def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.jira_base) as client:
            answer = await client.request(method, path, **kwargs)
        answer.raise_for_status()
        return answer

    async def subscribe(self, *, secret: str | None = SECRET) -> None:
        """Save an admin webhook on the fake site, as a Jira admin would."""
        await self.control(
            "POST",
            "/_fake/webhooks",
            json={
                "url": f"{self.app_base}/webhooks/jira/acme-jira",
                "events": EVENTS,
                "secret": secret,
                "jql": "project in (PAY, WEB)",
            },
        )

    async def sync(self) -> None:
        outcome = await pull.sync_source(
            self.sessionmaker, self.config, "acme-jira", full=True, environ=ENV
        )
        assert outcome.status == "succeeded", outcome.errors

    async def delivered(self, wait: float = 60.0) -> None:
        """Wait until the fake has no delivery queued or in flight."""
        deadline = time.monotonic() + wait
        while not self.jira.webhooks.idle:
            assert time.monotonic() < deadline, f"{len(self.jira.webhooks.queue)} queued"
            await asyncio.sleep(0.05)

    async def settled(self, wait: float = 60.0) -> None:
        """Wait until the fake delivered everything and the inbox has nothing pending."""
        await self.delivered(wait)
        deadline = time.monotonic() + wait
        while await self.count("pending"):
            assert time.monotonic() < deadline, f"{await self.count('pending')} pending"
            await asyncio.sleep(0.05)
        assert await self.count("failed") == 0
        assert not self.jira.webhooks.dropped

    async def count(self, state: str | None = None) -> int:
        async with session_scope(self.sessionmaker) as session:
            stmt = select(func.count()).select_from(WebhookEventRow)
            if state is not None:
                stmt = stmt.where(WebhookEventRow.state == state)
            return int(await session.scalar(stmt) or 0)

    async def matches_tracker(self) -> None:
        """The store holds exactly what the fake site holds, links included."""
        stored = await stored_items(self.sessionmaker)
        live = {k: v for k, v in stored.items() if not v["deleted"]}
        expected = {
            k: v for k, v in expected_items(self.jira.data).items() if v["project"] in PROJECTS
        }
        assert live == expected
        keys = {v["key"] for v in expected.values()}
        links = {(a, b) for a, b in expected_links(self.jira.data) if a in keys or b in keys}
        assert await stored_links(self.sessionmaker) >= links


ENV = {"WH_EMAIL": EMAIL, "WH_TOKEN": TOKEN, "WH_SECRET": SECRET}


@pytest.fixture
def webhook_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def fake_jira() -> Iterator[tuple[FakeJira, str]]:
    jira = make_fake(60, seed=5)
    with serve_in_thread(jira) as base:
        yield jira, base


def _site(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    fake_jira: tuple[FakeJira, str],
    *,
    worker: bool,
    allow_unsigned: bool = False,
) -> Iterator[Site]:
    jira, jira_base = fake_jira
    config = site_config(jira_base, allow_unsigned=allow_unsigned)
    settings = WebhookSettings(poll_seconds=0.05, retry_seconds=0.05, worker=worker)
    app = app_factory(config, webhooks=settings)
    with serve_in_thread(app) as app_base:
        yield Site(jira, jira_base, app_base, config, make_sessionmaker(committed_engine))


@pytest.fixture
def site(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    fake_jira: tuple[FakeJira, str],
    webhook_env: None,
) -> Iterator[Site]:
    """The server drains its own inbox."""
    yield from _site(app_factory, committed_engine, fake_jira, worker=True)


@pytest.fixture
def intake_only_site(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    fake_jira: tuple[FakeJira, str],
    webhook_env: None,
) -> Iterator[Site]:
    """The server only stores; the test runs (and kills) workers itself."""
    yield from _site(app_factory, committed_engine, fake_jira, worker=False)


@pytest.fixture
def hint_site(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    fake_jira: tuple[FakeJira, str],
    webhook_env: None,
) -> Iterator[Site]:
    """A source without a secret whose operator accepted unsigned deliveries as hints."""
    yield from _site(app_factory, committed_engine, fake_jira, worker=True, allow_unsigned=True)


def burst(site: Site, events: int, *, duplicate_rate: float = 0.1) -> int:
    """Queue at least ``events`` issue updates on the fake, sent shuffled, some twice."""
    emitter = site.jira.webhooks
    emitter.paused = True
    emitter.duplicate_rate, emitter.shuffle = duplicate_rate, True
    issues = sorted(site.jira.data.issues.values(), key=lambda i: i.id)
    n = 0
    while len(emitter.queue) < events:
        issue = issues[n % len(issues)]
        # A new title each time (not a growing one: the store bounds title length).
        changes: dict[str, object] = {"summary": f"{issue.summary.split(' #')[0]} #{n}"}
        if n % 3 == 0:
            changes["status"] = "In Progress" if issue.status.category == "new" else "Done"
        site.jira.edit(issue.key, **changes)
        n += 1
    queued = len(emitter.queue)
    emitter.paused = False
    return queued
