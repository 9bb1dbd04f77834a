"""The fake Jira posts real signed deliveries to a running server; the store follows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.config.settings import WebhookSettings
from app.store import records
from app.store.engine import session_scope
from app.webhooks.worker import WebhookWorker
from connectors.base import Deletion
from tests.app.webhooks.conftest import ENV, Site, burst
from tests.jira_fakes import stored_items


async def test_edits_creations_deletions_and_links_reach_the_store(site: Site) -> None:
    await site.sync()
    await site.subscribe()
    keys = sorted(i.key for i in site.jira.data.issues.values())
    await site.control("PATCH", f"/_fake/issues/{keys[0]}", json={"status": "Done"})
    await site.control("PATCH", f"/_fake/issues/{keys[1]}", json={"summary": "Renamed by PM"})
    await site.control("POST", "/_fake/issues", json={"project": "PAY", "summary": "Brand new"})
    await site.control("DELETE", f"/_fake/issues/{keys[2]}")
    await site.control("POST", "/_fake/links", json={"outward": keys[3], "inward": keys[4]})
    await site.settled()
    await site.matches_tracker()
    async with httpx.AsyncClient(base_url=site.app_base) as api:
        # The roll-up follows the store once the inbox has run dry.
        for _ in range(400):
            [source] = (await api.get("/api/sources")).json()["sources"]
            if source["webhooks"]["rollup_lag_seconds"] is not None:
                break
            await asyncio.sleep(0.05)
        metrics = (await api.get("/metrics")).text
    for stage in ("store", "rollup"):
        assert (
            f'throughline_webhook_freshness_seconds_count{{source="acme-jira",stage="{stage}"}}'
            in metrics
        )
    assert source["webhooks"]["store_lag_seconds"] is not None
    assert source["webhooks"]["rollup_lag_seconds"] >= source["webhooks"]["store_lag_seconds"]


async def test_an_older_delivery_arriving_last_changes_nothing(site: Site) -> None:
    await site.sync()
    await site.subscribe()
    key = sorted(i.key for i in site.jira.data.issues.values() if i.project.key == "PAY")[0]
    site.jira.webhooks.paused = True
    site.jira.edit(key, summary="First rename")
    site.jira.edit(key, summary="Second rename")
    site.jira.webhooks.queue.reverse()
    site.jira.webhooks.paused = False
    await site.settled()
    await site.matches_tracker()
    stored = await stored_items(site.sessionmaker)
    assert {v["title"] for v in stored.values() if v["key"] == key} == {"Second rename"}


async def test_a_burst_with_duplicates_out_of_order_ends_in_the_trackers_state(
    site: Site,
) -> None:
    await site.sync()
    await site.subscribe()
    queued = burst(site, 1_000)
    await site.settled()
    await site.matches_tracker()
    assert await site.count("applied") == queued


@pytest.mark.slow
async def test_a_burst_of_ten_thousand_events_ends_in_the_trackers_state(site: Site) -> None:
    await site.sync()
    await site.subscribe()
    queued = burst(site, 10_000)
    await site.settled(wait=300)
    await site.matches_tracker()
    assert await site.count("applied") == queued


async def test_a_worker_killed_mid_burst_loses_nothing(intake_only_site: Site) -> None:
    site = intake_only_site
    await site.sync()
    await site.subscribe()
    queued = burst(site, 1_500)
    await site.delivered()
    assert await site.count("pending") == queued

    first = WebhookWorker(
        site.sessionmaker, site.config, settings=WebhookSettings(batch_size=50), environ=ENV
    )
    task = asyncio.create_task(first.run(asyncio.Event()))
    while await site.count("applied") < 200:  # noqa: ASYNC110 (polls the database)
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await first.aclose()
    assert 0 < await site.count("applied") < queued

    second = WebhookWorker(site.sessionmaker, site.config, settings=WebhookSettings(), environ=ENV)
    stop = asyncio.Event()
    task = asyncio.create_task(second.run(stop))
    await site.settled()
    stop.set()
    await task
    await second.aclose()
    await site.matches_tracker()
    assert await site.count("applied") == queued


async def test_unsigned_deliveries_are_only_hints_to_read_the_issue_back(
    hint_site: Site,
) -> None:
    site = hint_site
    await site.sync()
    await site.subscribe(secret=None)
    key = sorted(i.key for i in site.jira.data.issues.values() if i.project.key == "WEB")[0]
    site.jira.edit(key, status="Done", summary="Changed on the site")
    before = site.jira.requests.get("issue/bulkfetch", 0)
    await site.settled()
    await site.matches_tracker()
    assert site.jira.requests.get("issue/bulkfetch", 0) > before


async def test_a_forged_unsigned_hint_cannot_write_data(hint_site: Site) -> None:
    site = hint_site
    await site.sync()
    issue = next(i for i in site.jira.data.issues.values() if i.project.key == "PAY")
    forged = {
        "webhookEvent": "jira:issue_updated",
        "issue": {"id": str(issue.id), "key": issue.key, "fields": {"summary": "Injected"}},
    }
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{site.app_base}/webhooks/jira/acme-jira", json=forged)
    assert answer.status_code == 200
    await site.settled()
    await site.matches_tracker()


async def test_failing_events_are_retried_then_parked_and_replayed(site: Site) -> None:
    await site.sync()
    await site.subscribe()
    keys = sorted(i.key for i in site.jira.data.issues.values() if i.project.key == "PAY")
    await site.control("POST", "/_fake/faults", json={"fail_next": [401] * 40})
    await site.control("POST", "/_fake/links", json={"outward": keys[0], "inward": keys[1]})
    await site.delivered()
    async with httpx.AsyncClient(base_url=site.app_base) as api:
        # The link, and (Jira Cloud) an issue update for each of its two ends.
        for _ in range(200):
            failed = (await api.get("/api/webhooks/events", params={"state": "failed"})).json()
            if len(failed["events"]) == 3:
                break
            await asyncio.sleep(0.05)
        assert len(failed["events"]) == 3
        await site.control("POST", "/_fake/faults", json={"fail_next": []})
        for event in failed["events"]:
            assert event["attempts"] == WebhookSettings().max_attempts
            assert "401" in event["error"]
            replayed = await api.post(f"/api/webhooks/events/{event['id']}/replay")
            assert replayed.status_code == 202
    await site.settled()
    await site.matches_tracker()


class CountingWorker(WebhookWorker):
    """A worker that notes which events each of its committed batches settled."""

    def __init__(self, *args: object, seen: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.seen = seen

    async def _commit(self, session, source_id, name, events, plan):  # type: ignore[no-untyped-def]
        outcome = await super()._commit(session, source_id, name, events, plan)
        self.seen.extend(e.id for e in events if e.id not in plan.errors)
        return outcome


async def test_workers_draining_side_by_side_apply_each_event_once(
    intake_only_site: Site, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("claims with SKIP LOCKED are PostgreSQL's; on SQLite one process drains")
    site = intake_only_site
    await site.sync()
    await site.subscribe()
    queued = burst(site, 1_000, duplicate_rate=0)
    await site.delivered()
    seen: list[int] = []
    settings = WebhookSettings(batch_size=25, poll_seconds=0.05)
    workers = [
        CountingWorker(site.sessionmaker, site.config, settings=settings, environ=ENV, seen=seen)
        for _ in range(3)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    await site.settled()
    stop.set()
    await asyncio.gather(*tasks)
    for worker in workers:
        await worker.aclose()
    assert len(seen) == len(set(seen)) == queued
    await site.matches_tracker()


async def test_an_issue_read_back_for_a_hint_lifts_a_tombstone_a_short_read_left(
    hint_site: Site,
) -> None:
    site = hint_site
    await site.sync()
    issue = next(i for i in site.jira.data.issues.values() if i.project.key == "WEB")
    async with session_scope(site.sessionmaker) as session:
        source = await records.get_source(session, "acme-jira")
        assert source is not None
        earlier = datetime.now(UTC) - timedelta(minutes=1)
        await records.mark_deleted(
            session, source.id, [Deletion("acme-jira", str(issue.id), earlier)]
        )
    hint = {"webhookEvent": "jira:issue_updated", "issue": {"id": str(issue.id), "key": issue.key}}
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{site.app_base}/webhooks/jira/acme-jira", json=hint)
    assert answer.status_code == 200
    await site.settled()
    await site.matches_tracker()
