"""The sync job shared by the CLI, the API and the scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.runtime import syncs
from app.runtime.state import AppState
from app.store.engine import session_scope
from app.store.locks import Locks, source_key
from app.store.tables import SyncRunRow
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import EMAIL, TOKEN, make_fake


@pytest.fixture
async def state(
    app_factory: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AppState]:
    monkeypatch.setenv("J_EMAIL", EMAIL)
    monkeypatch.setenv("J_TOKEN", TOKEN)
    fake = make_fake(60)
    with serve_in_thread(fake) as base:
        app = app_factory(
            "server: {auth: none}\nsources:\n"
            f"  - {{name: acme, kind: jira, url: '{base}', projects: [PAY, WEB], "
            "census_every: 1d, auth: {email_env: J_EMAIL, token_env: J_TOKEN}}\n"
        )
        async with app.router.lifespan_context(app):
            yield app.state.throughline


async def modes(state: AppState) -> list[str]:
    async with session_scope(state.sessionmaker) as session:
        return list(await session.scalars(select(SyncRunRow.mode).order_by(SyncRunRow.id)))


async def test_a_full_sync_runs_the_census_and_a_quick_resync_does_not(state: AppState) -> None:
    outcome = await state.syncs.sync_and_record("acme", full=True)
    assert outcome.status == "succeeded"
    await state.syncs.sync_and_record("acme")
    assert await modes(state) == ["full", "census", "incremental"]
    metrics = state.metrics.registry
    assert metrics.get_sample_value("throughline_sync_items_total", {"source": "acme"}) > 0
    assert metrics.get_sample_value(
        "throughline_source_last_sync_timestamp_seconds", {"source": "acme"}
    )


async def test_a_second_sync_of_the_same_source_is_refused_while_one_runs(
    state: AppState,
) -> None:
    first = await state.syncs.start_sync("acme")
    assert state.syncs.is_running("acme")
    with pytest.raises(syncs.SyncAlreadyRunning):
        await state.syncs.sync_and_record("acme")
    with pytest.raises(syncs.SyncAlreadyRunning):
        await state.syncs.start_sync("acme")
    assert (await first).status == "succeeded"
    assert not state.syncs.is_running("acme")


async def test_a_sync_held_by_another_process_is_refused(state: AppState) -> None:
    """Another process on the same database (here: a second set of locks, which is what
    a separate process has) holds the source: syncs here are refused, not queued."""
    other = Locks(state.engine)
    async with other.hold(source_key("acme")) as held:
        assert held
        with pytest.raises(syncs.SyncAlreadyRunning):
            await state.syncs.sync_and_record("acme")
        with pytest.raises(syncs.SyncAlreadyRunning):
            await state.syncs.start_sync("acme")
    assert (await state.syncs.sync_and_record("acme")).status == "succeeded"


async def test_a_run_left_running_by_a_dead_process_is_marked_abandoned(
    state: AppState,
) -> None:
    await state.syncs.sync_and_record("acme")
    async with session_scope(state.sessionmaker) as session:
        run = (await session.scalars(select(SyncRunRow))).first()
        assert run is not None
        orphan = SyncRunRow(
            source_id=run.source_id,
            mode="incremental",
            status="running",
            started_at=run.started_at,
            warnings=[],
        )
        session.add(orphan)
    await state.syncs.sync_and_record("acme")
    async with session_scope(state.sessionmaker) as session:
        found = await session.get_one(SyncRunRow, orphan.id)
        assert (found.status, found.error) == (
            "abandoned",
            "the process running it stopped before it finished",
        )


async def test_an_unknown_source_is_named(state: AppState) -> None:
    with pytest.raises(syncs.UnknownSource, match="nope"):
        await state.syncs.sync_and_record("nope")
