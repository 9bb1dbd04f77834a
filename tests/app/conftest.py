from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import ThroughlineConfig, parse_config
from app.config.settings import ServerSettings, Settings
from app.web.factory import create_app

OPEN_CONFIG = "server: {auth: none}\nprograms:\n  - {key: checkout, name: Checkout v2}\n"


TEST_HOSTS = ("test", "127.0.0.1", "localhost")
"""The names test clients address the app by (httpx's base URL, loopback servers)."""


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: the given overrides, and the test hosts allowed unless a test says."""
    server = overrides.pop("server", {})
    if isinstance(server, ServerSettings):
        server = server.model_dump(exclude_unset=True)
    server = {"allowed_hosts": TEST_HOSTS, **server}
    return Settings(_env_file=None, database_url=database_url, server=server, **overrides)


@pytest.fixture
def app_factory(database_url: str, committed_engine: AsyncEngine) -> Callable[..., FastAPI]:
    """Builds apps on the test database; rows they commit are removed after the test."""

    def build(config: ThroughlineConfig | str = OPEN_CONFIG, **settings: Any) -> FastAPI:
        if isinstance(config, str):
            config = parse_config(config)
        return create_app(make_settings(database_url, **settings), config=config)

    return build


@pytest.fixture
async def client(app_factory: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = app_factory()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        yield client
