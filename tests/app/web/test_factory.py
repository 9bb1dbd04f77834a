"""The application: lifespan, operations endpoints, per-request transactions and tokens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy import select

from app.config import parse_config
from app.store import migrations
from app.store.engine import make_engine
from app.store.tables import ProgramRow
from app.web.deps import AdminDep, SessionDep, ViewerDep
from app.web.factory import create_app
from tests.app.conftest import make_settings


async def test_health_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_ready_when_database_is_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "reachable",
        "migrations": "migrations at head",
    }


async def test_not_ready_when_migrations_are_behind(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    await migrations.run(engine, "upgrade", "head")
    app = create_app(make_settings(url), config=parse_config("server: {auth: none}\n"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        await migrations.run(engine, "stamp", "base")
        response = await client.get("/readyz")
    await engine.dispose()
    assert response.status_code == 503
    assert "code expects" in response.json()["checks"]["migrations"]


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        'throughline_http_request_seconds_count{method="GET",route="/healthz",status="200"} 1.0'
        in response.text
    )


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    assert "/readyz" in (await client.get("/openapi.json")).json()["paths"]


async def test_programs_from_the_configuration_get_rows(
    client: httpx.AsyncClient, committed_engine
) -> None:  # type: ignore[no-untyped-def]
    async with committed_engine.connect() as connection:
        names = (await connection.execute(select(ProgramRow.key, ProgramRow.name))).all()
    assert [tuple(n) for n in names] == [("checkout", "Checkout v2")]


def _probe_router() -> APIRouter:
    router = APIRouter()

    @router.post("/probe/write")
    async def write(session: SessionDep, fail: bool = False) -> dict[str, bool]:
        program = await session.scalar(select(ProgramRow))
        assert program is not None
        program.name = "Renamed"
        if fail:
            raise RuntimeError("handler failed after writing")
        return {"ok": True}

    @router.get("/probe/viewer")
    async def viewer(principal: ViewerDep) -> dict[str, str]:
        return {"name": principal.name}

    @router.post("/probe/admin")
    async def admin(principal: AdminDep) -> dict[str, str]:
        return {"name": principal.name}

    return router


async def test_request_commits_on_success_and_rolls_back_on_error(
    app_factory: Callable[..., FastAPI],
    committed_engine,  # type: ignore[no-untyped-def]
) -> None:
    app = app_factory()
    app.include_router(_probe_router())
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        assert (await client.post("/probe/write", params={"fail": True})).status_code == 500
        async with committed_engine.connect() as connection:
            assert await connection.scalar(select(ProgramRow.name)) == "Checkout v2"
        assert (await client.post("/probe/write")).status_code == 200
        async with committed_engine.connect() as connection:
            assert await connection.scalar(select(ProgramRow.name)) == "Renamed"


TOKEN_CONFIG = """
server:
  auth: tokens
  tokens:
    - {name: pm-team, role: viewer, token_env: T_VIEWER}
    - {name: ops, role: admin, token_env: T_ADMIN}
"""


async def test_tokens_and_roles(
    app_factory: Callable[..., FastAPI],
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    app = app_factory(TOKEN_CONFIG)
    app.include_router(_probe_router())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):

        def bearer(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        missing = await client.get("/probe/viewer")
        assert missing.status_code == 401
        assert "API token is required" in missing.json()["detail"]
        assert (await client.get("/probe/viewer", headers=bearer("wrong"))).status_code == 401
        assert (await client.get("/probe/viewer", headers=bearer("viewer-secret"))).json() == {
            "name": "pm-team"
        }
        forbidden = await client.post("/probe/admin", headers=bearer("viewer-secret"))
        assert forbidden.status_code == 403
        assert "needs the admin role" in forbidden.json()["detail"]
        assert (
            await client.post("/probe/admin", headers=bearer("admin-secret"))
        ).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
