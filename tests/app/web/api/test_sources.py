"""The sources API: freshness, starting a sync (admin only, one at a time), the run history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import records
from app.store.engine import make_sessionmaker, session_scope
from app.store.locks import Locks, source_key
from app.store.tables import SyncRunRow
from connectors.fake.jira import FakeJira
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import EMAIL, TOKEN, make_fake
from vocabulary import RunMode, RunStatus

VIEWER, ADMIN = "viewer-secret", "admin-secret"


@pytest.fixture
def fake_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeJira, str]]:
    for name, value in {
        "T_VIEWER": VIEWER,
        "T_ADMIN": ADMIN,
        "T_JIRA_EMAIL": EMAIL,
        "T_JIRA_TOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    fake = make_fake(120)
    with serve_in_thread(fake) as base:
        yield fake, base


@pytest.fixture
async def api(
    app_factory: Callable[..., FastAPI], fake_site: tuple[FakeJira, str]
) -> AsyncIterator[httpx.AsyncClient]:
    config = f"""
server:
  auth: tokens
  tokens:
    - {{name: pm, role: viewer, token_env: T_VIEWER}}
    - {{name: ops, role: admin, token_env: T_ADMIN}}
sources:
  - name: acme-jira
    kind: jira
    url: {fake_site[1]}
    auth: {{email_env: T_JIRA_EMAIL, token_env: T_JIRA_TOKEN}}
    projects: [PAY, WEB]
"""
    app = app_factory(config)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        yield client


def as_(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def wait_for_run(api: httpx.AsyncClient) -> dict[str, object]:
    for _ in range(200):
        runs = (await api.get("/api/sync-runs", headers=as_(VIEWER))).json()["runs"]
        pulls = [r for r in runs if r["mode"] != "census"]
        if pulls and pulls[0]["status"] != "running":
            return dict(pulls[0])
        await asyncio.sleep(0.05)
    raise AssertionError("the sync did not finish")


async def wait_until_idle(api: httpx.AsyncClient) -> None:
    for _ in range(400):
        source = (await api.get("/api/sources", headers=as_(VIEWER))).json()["sources"][0]
        if not source["running"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the source kept running")


async def test_sources_show_a_never_synced_source(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/sources", headers=as_(VIEWER))).json()
    assert body == {
        "sources": [
            {
                "name": "acme-jira",
                "kind": "jira",
                "url": body["sources"][0]["url"],
                "running": False,
                "last_sync_at": None,
                "last_status": None,
                "freshness_seconds": None,
                "items": 0,
                "deleted_items": 0,
                "last_error": None,
                "webhooks": {
                    "registered": False,
                    "last_delivery_at": None,
                    "last_heartbeat_at": None,
                    "silent": False,
                    "silent_after_seconds": 86400.0,
                    "pending": 0,
                    "failed": 0,
                    "rejected": 0,
                    "store_lag_seconds": None,
                    "rollup_lag_seconds": None,
                    "expires_at": None,
                },
            }
        ]
    }


async def test_reads_need_a_token(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/sources")).status_code == 401
    assert (await api.get("/api/sync-runs")).status_code == 401


async def test_an_admin_starts_a_sync_and_the_source_becomes_fresh(
    api: httpx.AsyncClient, fake_site: tuple[FakeJira, str]
) -> None:
    started = await api.post("/api/sources/acme-jira/sync", headers=as_(ADMIN))
    assert started.status_code == 202
    assert started.json() == {"source": "acme-jira", "full": False, "status": "started"}
    run = await wait_for_run(api)
    fake = fake_site[0]
    in_scope = sum(1 for i in fake.data.issues.values() if i.project.key in ("PAY", "WEB"))
    assert (run["status"], run["items_written"]) == ("succeeded", in_scope)
    assert run["requests"] > 0
    source = (await api.get("/api/sources", headers=as_(VIEWER))).json()["sources"][0]
    assert (source["last_status"], source["items"]) == ("succeeded", in_scope)
    assert 0 <= source["freshness_seconds"] < 60
    assert TOKEN not in str(source)
    assert EMAIL not in str(source)
    metrics = (await api.get("/metrics", headers=as_(VIEWER))).text
    assert f'throughline_sync_items_total{{source="acme-jira"}} {in_scope}.0' in metrics


async def test_a_second_sync_while_one_runs_is_refused(
    api: httpx.AsyncClient, fake_site: tuple[FakeJira, str]
) -> None:
    fake_site[0].faults.latency = 0.2
    first = await api.post("/api/sources/acme-jira/sync", headers=as_(ADMIN))
    second = await api.post("/api/sources/acme-jira/sync", headers=as_(ADMIN))
    assert (first.status_code, second.status_code) == (202, 409)
    fake_site[0].faults.latency = 0
    await wait_for_run(api)


async def test_starting_a_sync_needs_the_admin_role_and_a_known_source(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.post("/api/sources/acme-jira/sync", headers=as_(VIEWER))).status_code == 403
    assert (await api.post("/api/sources/nope/sync", headers=as_(ADMIN))).status_code == 404


async def test_a_failed_sync_is_reported_with_its_error(
    api: httpx.AsyncClient, fake_site: tuple[FakeJira, str]
) -> None:
    fake_site[0].token = "rotated"
    await api.post("/api/sources/acme-jira/sync", headers=as_(ADMIN))
    run = await wait_for_run(api)
    assert run["status"] == "failed"
    assert "acme-jira: the tracker refused our credentials" in str(run["error"])
    source = (await api.get("/api/sources", headers=as_(VIEWER))).json()["sources"][0]
    assert source["last_status"] == "failed"
    assert "refused our credentials" in source["last_error"]


async def leave_a_run_running(engine: AsyncEngine) -> int:
    """What ``kill -9`` of a syncing process leaves behind: its run still marked running."""
    async with session_scope(make_sessionmaker(engine)) as session:
        source = await records.get_source(session, "acme-jira")
        assert source is not None
        run = SyncRunRow(
            source_id=source.id,
            mode=RunMode.INCREMENTAL,
            status=RunStatus.RUNNING,
            started_at=datetime.now(UTC),
            warnings=[],
        )
        session.add(run)
        await session.flush()
        return run.id


async def test_a_run_left_running_by_a_killed_process_shows_as_abandoned_at_once(
    api: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    run_id = await leave_a_run_running(committed_engine)
    [source] = (await api.get("/api/sources", headers=as_(VIEWER))).json()["sources"]
    assert (source["last_status"], source["running"]) == ("abandoned", False)
    assert "stopped before it finished" in source["last_error"]
    runs = (await api.get("/api/sync-runs", headers=as_(VIEWER))).json()["runs"]
    assert [r["status"] for r in runs if r["id"] == run_id] == ["abandoned"]


async def test_a_run_another_process_is_still_running_stays_running(
    api: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    await leave_a_run_running(committed_engine)
    elsewhere = Locks(committed_engine)  # another process, holding the source's lock
    async with elsewhere.hold(source_key("acme-jira")) as held:
        assert held
        [source] = (await api.get("/api/sources", headers=as_(VIEWER))).json()["sources"]
    assert source["last_status"] == "running"


async def test_a_process_starting_settles_what_a_killed_one_left_running(
    app_factory: Callable[..., FastAPI],
    fake_site: tuple[FakeJira, str],
    committed_engine: AsyncEngine,
) -> None:
    config = f"""
server: {{auth: none}}
sources:
  - name: acme-jira
    kind: jira
    url: {fake_site[1]}
    auth: {{email_env: T_JIRA_EMAIL, token_env: T_JIRA_TOKEN}}
"""
    first = app_factory(config)
    async with first.router.lifespan_context(first):
        run_id = await leave_a_run_running(committed_engine)
    restarted = app_factory(config)
    async with (
        restarted.router.lifespan_context(restarted),
        session_scope(make_sessionmaker(committed_engine)) as session,
    ):
        run = await session.get(SyncRunRow, run_id)
        assert run is not None
        assert run.status == RunStatus.ABANDONED


async def test_an_issue_the_site_cannot_return_is_a_visible_warning_and_nothing_is_deleted(
    api: httpx.AsyncClient, fake_site: tuple[FakeJira, str]
) -> None:
    fake = fake_site[0]
    pay = sorted(str(i.id) for i in fake.data.issues.values() if i.project.key == "PAY")
    broken, flaky, short = pay[3], pay[5], pay[7]
    fake.faults.unreadable = {broken}
    fake.faults.issue_errors = {flaky: 2}
    fake.faults.left_out = {short: 1}
    await api.post("/api/sources/acme-jira/sync", headers=as_(ADMIN))
    run = await wait_for_run(api)
    in_scope = sum(1 for i in fake.data.issues.values() if i.project.key in ("PAY", "WEB"))
    assert (run["status"], run["items_written"], run["items_deleted"]) == (
        "succeeded",
        in_scope - 1,
        0,
    )
    assert [(w["key"], w["kind"]) for w in run["warnings"]] == [(broken, "unread")]
    assert "could not be read on this run" in run["warnings"][0]["reason"]
    page = await api.get("/sources", headers=as_(VIEWER))
    assert page.status_code == 200
    assert "1 item(s) could not be read and were kept as stored" in page.text
    assert broken in page.text

    fake.faults.unreadable = set()
    await wait_until_idle(api)  # the census that follows a first sync
    again = await api.post("/api/sources/acme-jira/sync", headers=as_(ADMIN))
    assert again.status_code == 202
    await wait_until_idle(api)
    source = (await api.get("/api/sources", headers=as_(VIEWER))).json()["sources"][0]
    assert source["items"] == in_scope, "the held cursor let the next sync read it"
