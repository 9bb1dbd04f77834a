"""Running in production, in one process: the scheduler's plan, each job once per due time
under its lock, draining on shutdown, readiness, request ids, body limits, the metrics
read from the database and the context every log record carries."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from apscheduler.triggers.interval import IntervalTrigger
from fastapi import FastAPI
from sqlalchemy import select

from app.config.settings import SchedulerSettings, ServerSettings
from app.runtime.scheduler import JobContext, drain, run_job
from app.runtime.state import AppState
from app.store.engine import make_engine, session_scope
from app.store.locks import Locks, advisory_key, source_key
from app.store.schedule import EPOCH, JobSpec, PlanContext, due_time
from app.store.tables import JobRunRow
from app.telemetry import logs
from app.telemetry.metrics import Backlog
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import EMAIL, TOKEN, make_fake

CONFIG = (
    "server: {{auth: none}}\nsources:\n"
    "  - {{name: acme, kind: jira, url: '{base}', projects: [PAY, WEB], sync_every: 10m, "
    "auth: {{email_env: J_EMAIL, token_env: J_TOKEN}}}}\n"
    "programs:\n"
    "  - key: pay\n    name: Payments\n    timezone: Europe/Berlin\n"
    "    outcomes:\n      - {{key: ship, name: Ship, match: [{{source: acme, projects: [PAY]}}]}}\n"
)


@pytest.fixture
async def running(
    app_factory: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service with its scheduler on (as ``throughline serve`` runs it), on a fake Jira."""
    monkeypatch.setenv("J_EMAIL", EMAIL)
    monkeypatch.setenv("J_TOKEN", TOKEN)
    with serve_in_thread(make_fake(40)) as base:
        app = app_factory(
            CONFIG.format(base=base),
            scheduler=SchedulerSettings(enabled=True),
            server=ServerSettings(max_body_bytes=1000),
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
        ):
            yield app, client


def _state(app: FastAPI) -> AppState:
    state: AppState = app.state.throughline
    return state


async def _settle(state: AppState) -> None:
    """Wait for the syncs requests started in the background."""
    await asyncio.gather(*state.syncs.running())


async def test_the_plan_has_a_sync_per_source_a_nightly_census_and_daily_snapshots(
    running: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _ = running
    scheduler = _state(app).scheduler
    assert scheduler is not None
    found = {job.id: job for job in scheduler.apscheduler.get_jobs()}
    assert {"sync:acme", "census:acme", "snapshot:pay", "report:pay"} <= set(found)
    sync = found["sync:acme"]
    # Aligned to the epoch: every process computes the same due times.
    after = datetime(2026, 11, 21, 10, 3, 7, tzinfo=UTC)
    assert sync.trigger.get_next_fire_time(None, after) == datetime(
        2026, 11, 21, 10, 10, tzinfo=UTC
    )
    assert (sync.coalesce, sync.max_instances, sync.misfire_grace_time) == (True, 1, 300)
    census = found["census:acme"].trigger.get_next_fire_time(None, after)
    assert census == datetime(2026, 11, 22, 2, 30, tzinfo=UTC)
    snapshot = found["snapshot:pay"].trigger.get_next_fire_time(None, after)
    assert snapshot.isoformat() == "2026-11-22T00:05:00+01:00"


def test_the_due_time_is_the_last_firing_at_or_before_now() -> None:
    trigger = IntervalTrigger(minutes=15, start_date=EPOCH, timezone=UTC)
    now = datetime(2026, 11, 21, 10, 17, 3, 500, tzinfo=UTC)
    assert due_time(trigger, now, timedelta(minutes=5)) == datetime(
        2026, 11, 21, 10, 15, tzinfo=UTC
    )
    # Later than the look-back (or a one-off): due now, to the second.
    assert due_time(trigger, now, timedelta(minutes=1)) == now.replace(microsecond=0)


def _counting_spec(calls: list[str], *, pause: float = 0.0, lock: str = "test:job") -> JobSpec:
    async def work() -> None:
        calls.append("ran")
        await asyncio.sleep(pause)

    return JobSpec(
        id="test:job",
        name="counts its runs",
        trigger=IntervalTrigger(hours=1, start_date=EPOCH, timezone=UTC),
        run=work,
        lock=lock,
        misfire_grace=timedelta(hours=1),  # so that the last hour's firing is the due time
    )


def _process(state: AppState) -> JobContext:
    """A job context with its own locks: what a second process on the database has."""
    plan = PlanContext(state.sessionmaker, state.config, state.settings, {})
    return JobContext(plan, locks=Locks(state.engine), metrics=state.metrics)


async def test_two_processes_run_a_due_time_once_whether_together_or_one_after_the_other(
    running: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    state = _state(running[0])
    calls: list[str] = []
    one, two = _process(state), _process(state)
    spec = _counting_spec(calls, pause=0.2)
    await asyncio.gather(run_job(spec, one), run_job(spec, two))
    assert calls == ["ran"]
    await run_job(spec, two)  # the same due time, fired a little later elsewhere
    assert calls == ["ran"]
    samples = {
        outcome: state.metrics.registry.get_sample_value(
            "throughline_scheduled_jobs_total", {"kind": "test", "outcome": outcome}
        )
        for outcome in ("ran", "skipped_busy", "skipped_done")
    }
    assert samples == {"ran": 1.0, "skipped_busy": 1.0, "skipped_done": 1.0}
    async with session_scope(state.sessionmaker) as session:
        row = await session.get_one(JobRunRow, "test:job")
        assert row.finished_at is not None


async def test_a_due_time_left_unfinished_by_a_dead_process_is_taken_over(
    running: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    state = _state(running[0])
    calls: list[str] = []
    spec = _counting_spec(calls)
    due = due_time(spec.trigger, datetime.now(UTC), timedelta(hours=2))
    async with session_scope(state.sessionmaker) as session:
        session.add(
            JobRunRow(
                job_id="test:job", due_at=due, started_at=due, finished_at=None, owner="dead:1"
            )
        )
    await run_job(spec, _process(state))
    assert calls == ["ran"]


async def test_a_failing_job_is_logged_and_its_due_time_stays_open(
    running: tuple[FastAPI, httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    state = _state(running[0])

    async def broken() -> None:
        raise RuntimeError("boom")

    spec = JobSpec("test:job", "fails", IntervalTrigger(hours=1, start_date=EPOCH), broken)
    await run_job(spec, _process(state))
    assert "job test:job failed" in caplog.text
    async with session_scope(state.sessionmaker) as session:
        assert (await session.get_one(JobRunRow, "test:job")).finished_at is None


async def test_manual_syncs_and_scheduled_syncs_share_the_sources_lock(
    running: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = running
    state = _state(app)
    other = Locks(state.engine)
    async with other.hold(source_key("acme")) as held:
        assert held
        answer = await client.post("/api/sources/acme/sync")
        assert answer.status_code == 409
        assert answer.json()["detail"] == "A sync of 'acme' is already running."
        calls: list[str] = []
        await run_job(_counting_spec(calls, lock=source_key("acme")), _process(state))
        assert calls == []
    assert (await client.post("/api/sources/acme/sync")).status_code == 202
    await _settle(state)


async def test_drain_stops_taking_work_and_cancels_what_outlives_the_bound(
    running: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    state = _state(running[0])
    ctx = _process(state)
    started = asyncio.Event()

    async def endless() -> None:
        started.set()
        await asyncio.sleep(3600)

    spec = JobSpec(
        "test:endless", "never ends", IntervalTrigger(hours=1, start_date=EPOCH), endless
    )
    task = asyncio.create_task(run_job(spec, ctx))
    await started.wait()
    assert state.scheduler is not None
    began = asyncio.get_running_loop().time()
    await drain(state.scheduler.apscheduler, ctx, grace=0.3)
    assert task.done()
    assert asyncio.get_running_loop().time() - began < 2
    calls: list[str] = []
    await run_job(_counting_spec(calls), ctx)
    assert calls == []  # draining: no new work


async def test_not_ready_when_the_scheduler_stopped_or_the_database_is_gone(
    running: tuple[FastAPI, httpx.AsyncClient], tmp_path: object
) -> None:
    app, client = running
    state = _state(app)
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["scheduler"] == "running"
    assert state.scheduler is not None
    state.scheduler.apscheduler.shutdown(wait=False)
    stopped = await client.get("/readyz")
    assert stopped.status_code == 503
    assert stopped.json()["checks"]["scheduler"] == "stopped"

    real = state.engine
    state.engine = make_engine("sqlite+aiosqlite:////nonexistent-directory/throughline.db")
    try:
        gone = await client.get("/readyz")
    finally:
        await state.engine.dispose()
        state.engine = real
    assert gone.status_code == 503
    assert gone.json()["checks"]["database"].startswith("unreachable")


async def test_the_request_id_is_kept_or_made_and_carried_by_the_logs(
    running: tuple[FastAPI, httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    _, client = running
    caplog.handler.addFilter(logs.ContextFilter())
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["X-Request-ID"] == "abc-123"
    hostile = await client.get("/healthz", headers={"X-Request-ID": b"a b\xe9<script>"})
    assert "<" not in hostile.headers["X-Request-ID"]
    assert len(hostile.headers["X-Request-ID"]) == 32
    with caplog.at_level(logging.INFO):
        await client.post("/api/sources/acme/sync", headers={"X-Request-ID": "req-7"})
        await _settle(_state(running[0]))
    tagged = [r for r in caplog.records if getattr(r, "request_id", None) == "req-7"]
    assert tagged, "the sync started by the request logs under its id"
    synced = [r for r in tagged if getattr(r, "source", None) == "acme"]
    assert synced
    summary = [r for r in synced if "incremental sync succeeded" in r.getMessage()]
    assert len(summary) == 1
    assert isinstance(getattr(summary[0], "sync_run", None), int)


async def test_bodies_over_the_limit_are_refused_declared_or_streamed(
    running: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = running
    declared = await client.post("/sign-in", content=b"x" * 5000)
    assert declared.status_code == 413
    assert "1,000 bytes" in declared.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"token=" + b"y" * 200

    streamed = await client.post(
        "/sign-in",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    small = await client.post("/api/sources/acme/sync", content=b"")
    assert small.status_code == 202
    await _settle(_state(running[0]))


async def test_freshness_and_the_webhook_backlog_are_read_at_scrape_time(
    running: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = running
    state = _state(app)
    await state.syncs.sync_and_record("acme")
    received = datetime.now(UTC) - timedelta(seconds=90)

    async def backlog() -> dict[str, Backlog]:
        return {"acme": Backlog(pending=4, oldest_received_at=received)}

    state.metrics.backlog = backlog
    text = (await client.get("/metrics")).text
    registry = state.metrics.registry
    freshness = registry.get_sample_value(
        "throughline_source_freshness_seconds", {"source": "acme"}
    )
    assert freshness is not None
    assert 0 <= freshness < 60
    assert registry.get_sample_value("throughline_webhook_backlog_events", {"source": "acme"}) == 4
    lag = registry.get_sample_value("throughline_webhook_lag_seconds", {"source": "acme"})
    assert lag is not None
    assert 89 <= lag < 150
    assert "throughline_sync_seconds_bucket" in text
    assert "throughline_rollup_recompute_seconds" in text


def test_json_logs_carry_the_context() -> None:
    record = logging.makeLogRecord({"msg": "page %d", "args": (3,), "name": "app.sync.run"})
    tokens = (logs.source_var.set("acme"), logs.sync_run_var.set(12))
    try:
        logs.ContextFilter().filter(record)
    finally:
        logs.sync_run_var.reset(tokens[1])
        logs.source_var.reset(tokens[0])
    entry = json.loads(logs.JsonFormatter().format(record))
    assert (entry["message"], entry["source"], entry["sync_run"]) == ("page 3", "acme", 12)
    assert "[source=acme sync_run=12]" in logs.TextFormatter().format(record)


def test_advisory_keys_are_stable_and_distinct() -> None:
    assert advisory_key("source:acme") == advisory_key("source:acme")
    assert advisory_key("source:acme") != advisory_key("source:acme2")
    assert -(2**63) <= advisory_key("report:x") < 2**63


async def test_the_worker_role_answers_only_operations(
    app_factory: Callable[..., FastAPI],
) -> None:
    worker = app_factory(
        "server: {auth: none}\n", scheduler=SchedulerSettings(enabled=True), role="worker"
    )
    async with (
        worker.router.lifespan_context(worker),
        httpx.AsyncClient(transport=httpx.ASGITransport(worker), base_url="http://test") as client,
    ):
        assert (await client.get("/readyz")).json()["checks"]["scheduler"] == "running"
        assert (await client.get("/api/programs")).status_code == 404
        assert (await client.get("/")).status_code == 404
    async with session_scope(_state(worker).sessionmaker) as session:
        assert list(await session.scalars(select(JobRunRow.job_id))) == []
