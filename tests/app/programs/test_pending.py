"""A failed roll-up recompute keeps its changed sources and is retried with backoff,
instead of leaving the roll-ups stale until the next change or the daily refresh."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs import recompute
from app.programs.pending import PendingRollups
from app.runtime.state import AppState
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import ProgramStatusRow
from connectors.fake.jira import FakeJira
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import EMAIL, TOKEN, make_fake


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_failure_doubles_the_wait_up_to_the_cap() -> None:
    clock = Clock()
    pending = PendingRollups(first=5, cap=30, clock=clock)
    assert pending.due_in() is None
    assert [pending.failed({"jira"}) for _ in range(5)] == [5, 10, 20, 30, 30]
    assert pending.sources == {"jira"}
    assert pending.due_in() == 30
    clock.now += 31
    assert pending.due_in() == 0


def test_a_success_settles_its_sources_and_resets_the_backoff() -> None:
    clock = Clock()
    pending = PendingRollups(first=5, clock=clock)
    pending.failed({"jira", "asana"})
    pending.failed({"jira"})
    pending.succeeded({"jira"})
    assert pending.sources == {"asana"}
    pending.succeeded({"asana"})
    assert pending.due_in() is None
    assert pending.failed({"jira"}) == 5


@pytest.fixture
def fake_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeJira, str]]:
    monkeypatch.setenv("P_EMAIL", EMAIL)
    monkeypatch.setenv("P_TOKEN", TOKEN)
    fake = make_fake(40)
    with serve_in_thread(fake) as base:
        yield fake, base


async def program_statuses(engine: AsyncEngine) -> int:
    async with session_scope(make_sessionmaker(engine)) as session:
        return int(await session.scalar(select(func.count()).select_from(ProgramStatusRow)) or 0)


async def test_a_recompute_that_fails_after_a_sync_is_retried_until_it_succeeds(
    app_factory: Callable[..., FastAPI],
    fake_site: tuple[FakeJira, str],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = recompute.recompute
    calls: list[float] = []

    async def flaky(*args: Any, **kwargs: Any) -> recompute.RecomputeResult:
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise ConnectionError("the database went away for a moment")
        return await real(*args, **kwargs)

    monkeypatch.setattr(recompute, "recompute", flaky)
    config = f"""
server: {{auth: none}}
sources:
  - {{name: acme-jira, kind: jira, url: '{fake_site[1]}', projects: [PAY],
     auth: {{email_env: P_EMAIL, token_env: P_TOKEN}}}}
programs:
  - key: checkout
    name: Checkout v2
    outcomes:
      - {{key: pay, name: Pay, match: [{{source: acme-jira, projects: [PAY]}}]}}
"""
    app = app_factory(config, scheduler={"recompute_retry_seconds": 0.2})
    async with app.router.lifespan_context(app):
        state: AppState = app.state.throughline
        outcome = await state.syncs.sync_and_record("acme-jira")
        assert outcome.status == "succeeded"  # the data is stored whatever the roll-up does
        assert state.rollups.sources == {"acme-jira"}
        assert await program_statuses(committed_engine) == 0
        for _ in range(200):
            # The roll-up is stored, then its sources are settled: wait for both.
            if await program_statuses(committed_engine) and not state.rollups.sources:
                break
            await asyncio.sleep(0.05)
        assert await program_statuses(committed_engine) == 1
        assert state.rollups.sources == frozenset()
    assert len(calls) == 3
    assert calls[2] - calls[1] >= calls[1] - calls[0] >= 0.2  # backoff, doubling
