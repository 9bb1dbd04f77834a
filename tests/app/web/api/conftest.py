"""The service with the sample program stored and recomputed, and tokens of both roles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.recompute import recompute
from app.store.engine import make_sessionmaker, session_scope
from tests.app import rollup_data as data

TOKENS = """
server:
  auth: tokens
  tokens:
    - {name: pm-team, role: viewer, token_env: T_VIEWER}
    - {name: ops, role: admin, token_env: T_ADMIN}
"""
VIEWER = {"Authorization": "Bearer viewer-secret"}
ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture
async def api(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """The service with the sample program stored and recomputed once."""
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    config = data.CONFIG.replace("server: {auth: none}", TOKENS)
    app = app_factory(config)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        sessionmaker = make_sessionmaker(committed_engine)
        async with session_scope(sessionmaker) as session:
            await data.seed(session)
        await recompute(sessionmaker, app.state.throughline.config, now=data.NOW)
        yield client
