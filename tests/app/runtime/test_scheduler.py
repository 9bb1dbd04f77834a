"""The scheduler: a weekly report job per program in its own time zone, the catch-up of
missed runs, delivery retries, ``--now``, and starting only when enabled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import parse_config
from app.config.settings import SchedulerSettings, Settings
from app.programs import schedule as program_jobs
from app.reports import runs
from app.reports import schedule as report_jobs
from app.runtime.scheduler import JobContext, Scheduler, build_scheduler, planned_jobs
from app.runtime.syncs import Syncs
from app.store.schedule import PlanContext
from app.store.tables import ReportRow
from tests.app.reports import history

PLANNERS = (program_jobs.plan, report_jobs.plan)


def _context(sessionmaker: async_sessionmaker[AsyncSession], **report: str) -> PlanContext:
    cfg = history.config(report.get("report", ""))
    settings = Settings(_env_file=None, scheduler=SchedulerSettings(misfire_grace_seconds=120))
    return PlanContext(sessionmaker, cfg, settings, {})


async def test_every_program_gets_a_report_job_at_its_hour_in_its_zone(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    plan = _context(sessionmaker, report='{cron: "30 16 * * 5"}')
    scheduler = build_scheduler(JobContext(plan), planned_jobs(plan, PLANNERS))
    scheduler.start(paused=True)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert set(jobs) == {
        "report:checkout",
        "report:mobile",
        "reports:deliveries",
        "reports:catch-up",
        "snapshot:checkout",
        "snapshot:mobile",
    }
    checkout = jobs["report:checkout"].trigger
    fire = checkout.get_next_fire_time(None, datetime(2026, 11, 16, tzinfo=UTC))
    assert fire.isoformat() == "2026-11-20T16:30:00+01:00"
    mobile = jobs["report:mobile"].trigger.get_next_fire_time(
        None, datetime(2026, 11, 17, tzinfo=UTC)
    )
    assert mobile.isoformat() == "2026-11-23T08:00:00+00:00"
    for key, job in jobs.items():
        grace = 3600 if key.startswith("snapshot:") else 120
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, grace)


async def test_a_missed_run_is_caught_up_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    tuesday = history.MONDAY + timedelta(days=1)
    outcomes = await runs.catch_up(sessionmaker, cfg, now=tuesday, environ={})
    assert [(o.program, o.week, o.generated) for o in outcomes] == [
        ("checkout", "2026-W47", True),
        ("mobile", "2026-W47", True),
    ]
    again = await runs.catch_up(sessionmaker, cfg, now=tuesday + timedelta(hours=1), environ={})
    assert again == []


async def test_a_run_without_a_snapshot_to_write_from_says_why(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cfg = await history.build(sessionmaker)
    early = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
    outcome = await runs.weekly_report(sessionmaker, cfg, "checkout", now=early, environ={})
    assert not outcome.generated
    assert outcome.problem is not None
    assert "no snapshot on or before 2026-11-01" in outcome.problem


def test_the_last_scheduled_run_is_found_in_the_program_zone() -> None:
    program = history.config().program("checkout")
    assert program is not None
    fired = runs.last_run(program, datetime(2026, 11, 18, tzinfo=UTC))
    assert fired is not None
    assert fired.isoformat() == "2026-11-16T08:00:00+01:00"
    assert runs.last_run(program, datetime(2026, 11, 16, 6, 59, tzinfo=UTC)) == fired - timedelta(
        days=7
    )


async def test_now_runs_one_job_at_once(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = await history.build(sessionmaker)
    monkeypatch.setattr("app.reports.schedule.utcnow", lambda: history.MONDAY)
    plan = PlanContext(sessionmaker, cfg, Settings(_env_file=None), {})
    scheduler = Scheduler(JobContext(plan), PLANNERS)
    assert await scheduler.run_now("report:checkout")
    async with sessionmaker() as session:
        assert list(await session.scalars(select(ReportRow.week))) == ["2026-W47"]
    with pytest.raises(KeyError):
        await scheduler.run_now("report:nowhere")


async def test_the_service_runs_the_scheduler_only_when_enabled(
    app_factory: Callable[..., FastAPI],
) -> None:
    quiet = app_factory("server: {auth: none}\n")
    async with quiet.router.lifespan_context(quiet):
        assert quiet.state.throughline.scheduler is None
    enabled = app_factory("server: {auth: none}\n", scheduler=SchedulerSettings(enabled=True))
    async with enabled.router.lifespan_context(enabled):
        scheduler = enabled.state.throughline.scheduler
        assert scheduler.running
        assert {j.id for j in scheduler.apscheduler.get_jobs()} >= {"reports:deliveries"}
    assert not scheduler.running


async def test_asana_sources_get_a_full_listing_at_their_own_interval(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = parse_config(
        "server: {auth: none}\nsources:\n"
        "  - {name: tasks, kind: asana, workspace: '1', auth: {token_env: A},"
        " full_listing_every: 3d}\n"
        "  - {name: plain, kind: asana, workspace: '1', auth: {token_env: A}}\n"
        "  - {name: issues, kind: jira, url: 'https://acme.atlassian.net',"
        " auth: {token_env: J}}\n",
        environ={"A": "a", "J": "j"},
    )
    nothing: Any = None
    syncs = Syncs(sessionmaker, cfg, locks=nothing, pool=nothing, metrics=nothing)
    calls: list[tuple[str, bool]] = []

    async def sync_locked(name: str, *, full: bool = False) -> None:
        calls.append((name, full))

    monkeypatch.setattr(syncs, "sync_locked", sync_locked)
    plan = syncs.plan(PlanContext(sessionmaker, cfg, Settings(_env_file=None), {}))
    listings = {s.id: s for s in plan if s.id.startswith("full-listing:")}
    assert set(listings) == {"full-listing:tasks", "full-listing:plain"}
    intervals = {name: spec.trigger.interval for name, spec in listings.items()}  # type: ignore[attr-defined]
    assert intervals == {
        "full-listing:tasks": timedelta(days=3),
        "full-listing:plain": timedelta(days=7),
    }
    await listings["full-listing:tasks"].run()
    assert calls == [("tasks", True)]
