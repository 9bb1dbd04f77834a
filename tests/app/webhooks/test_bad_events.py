"""One bad delivery never takes its neighbours down: not in the worker's batch, not in
intake's shared commit. Exactly the events the database refuses fail."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config.settings import WebhookSettings
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import WebhookEventRow
from app.webhooks import inbox
from app.webhooks.commits import GroupCommitter
from app.webhooks.worker import WebhookWorker
from tests.app.webhooks.conftest import ENV, SECRET, Site
from tests.builders import make_source
from tests.jira_fakes import stored_items
from vocabulary import EventState

REFUSED_LEVEL = 2**70
"""An issue type's hierarchy level past any integer column: no database stores it."""


async def events(site: Site) -> list[WebhookEventRow]:
    async with session_scope(site.sessionmaker) as session:
        return list(
            (await session.scalars(select(WebhookEventRow).order_by(WebhookEventRow.id))).all()
        )


async def test_one_refused_event_fails_alone_and_the_rest_of_its_batch_is_applied(
    intake_only_site: Site,
) -> None:
    site = intake_only_site
    await site.sync()
    await site.subscribe()
    emitter = site.jira.webhooks
    emitter.paused = True
    issues = sorted(
        (i for i in site.jira.data.issues.values() if i.project.key in ("PAY", "WEB")),
        key=lambda i: i.id,
    )[:20]
    for n, issue in enumerate(issues):
        title = "Card\x00 holder" if n == 13 else f"Renamed {n}"
        site.jira.edit(issue.key, summary=title)
    refused = emitter.queue[7]
    payload = json.loads(refused.body)
    payload["issue"]["fields"]["issuetype"]["hierarchyLevel"] = REFUSED_LEVEL
    refused.body = json.dumps(payload).encode()
    emitter.paused = False
    await site.delivered()
    assert len(await events(site)) == 20

    worker = WebhookWorker(
        site.sessionmaker, site.config, settings=WebhookSettings(batch_size=100), environ=ENV
    )
    assert await worker.drain_once() == 20
    await worker.aclose()

    stored = await events(site)
    assert [e.state for e in stored].count(EventState.APPLIED) == 19
    [failed] = [e for e in stored if e.state != EventState.APPLIED]
    assert failed.headers["x-atlassian-webhook-identifier"] == refused.identifier
    assert (failed.state, failed.attempts) == (EventState.PENDING, 1)
    assert failed.error
    titles = {v["key"]: v["title"] for v in (await stored_items(site.sessionmaker)).values()}
    assert titles[issues[13].key] == "Card\ufffd holder"
    assert all(titles[i.key] == f"Renamed {n}" for n, i in enumerate(issues) if n not in (7, 13))


async def test_concurrent_deliveries_all_land_when_one_names_an_event_no_database_stores(
    site: Site,
) -> None:
    bodies = [
        json.dumps({"webhookEvent": event, "issue": {"id": str(10_000 + n)}}).encode()
        for n, event in enumerate(["jira:issue_updated"] * 29 + ["jira:\ud800cut", "jira:\x00nul"])
    ]
    async with httpx.AsyncClient(base_url=site.app_base) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/webhooks/jira/acme-jira",
                    content=body,
                    headers={"X-Hub-Signature": signature(body)},
                )
                for body in bodies
            )
        )
    assert [a.status_code for a in answers] == [200] * 31
    types = {e.event_type for e in await events(site)}
    assert {"jira:\ufffdcut", "jira:\ufffdnul"} <= types


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


async def test_a_group_commit_the_database_refuses_is_retried_one_by_one(
    committed_engine: AsyncEngine,
) -> None:
    sessionmaker = make_sessionmaker(committed_engine)
    async with session_scope(sessionmaker) as session:
        source_id = (await make_source(session)).id

    def row(delivery_id: str) -> dict[str, object]:
        return inbox.event_row(
            source_id=source_id,
            delivery_id=delivery_id,
            event_type="jira:issue_updated",
            body="{}",
            headers={},
            trusted=True,
            now=datetime.now(UTC),
        )

    committer = GroupCommitter(sessionmaker)
    results = await asyncio.gather(
        *(committer.store(row(f"d-{n}")) for n in range(10)),
        committer.store(row("half-\ud800")),
        committer.store(row("d-3")),
        return_exceptions=True,
    )
    assert results[:10] == [True] * 10
    assert isinstance(results[10], Exception)
    assert results[11] is False
