"""The site with the sample programs stored and recomputed: open, or behind tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.recompute import recompute
from app.store.engine import make_sessionmaker, session_scope
from tests.app import rollup_data as data
from tests.app.web.api.conftest import TOKENS

HTML = {"Accept": "text/html"}


async def _serve(app: FastAPI, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://test", headers=HTML
        ) as client,
    ):
        sessionmaker = make_sessionmaker(engine)
        async with session_scope(sessionmaker) as session:
            await data.seed(session)
        await recompute(sessionmaker, app.state.throughline.config, now=data.NOW)
        yield client


@pytest.fixture
async def site(
    app_factory: Callable[..., FastAPI], committed_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """The pages with ``auth: none``, as the demo runs them."""
    async for client in _serve(app_factory(data.CONFIG), committed_engine):
        yield client


@pytest.fixture
async def secure_site(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """The pages behind tokens (viewer-secret, admin-secret)."""
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    app = app_factory(data.CONFIG.replace("server: {auth: none}", TOKENS))
    async for client in _serve(app, committed_engine):
        yield client
