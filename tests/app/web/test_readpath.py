"""A program's status and pages answered again while what they show is unchanged
(``app.web.readpath``): the same answers the app builds, never one older than the store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs import lookup, risks
from app.programs.recompute import recompute
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import ItemRow, SourceRow, SyncRunRow
from app.web import readpath
from tests.app import rollup_data as data
from tests.app.web.api.conftest import ADMIN, TOKENS, VIEWER
from vocabulary import RunMode, RunStatus

PATHS = (
    "/api/programs/checkout",
    "/programs/checkout",
    "/programs/checkout/resources",
    "/programs/checkout/dependencies",
    "/programs/checkout/roadmap",
    "/programs/checkout/dependencies?level=project&sort=blocked",
)


@pytest.fixture
def make_site(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Any]:
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")

    def build(**server: Any) -> Any:
        app = app_factory(
            data.CONFIG.replace("server: {auth: none}", TOKENS),
            server={"cache_seconds": 0, **server},
        )
        return _site(app, committed_engine)

    return build


class _site:
    def __init__(self, app: FastAPI, engine: AsyncEngine) -> None:
        self.app, self.engine = app, engine

    async def __aenter__(self) -> httpx.AsyncClient:
        self._life = self.app.router.lifespan_context(self.app)
        await self._life.__aenter__()
        # Seeded and recomputed once the lifespan has applied the configuration.
        sessionmaker = make_sessionmaker(self.engine)
        async with session_scope(sessionmaker) as session:
            if not await session.scalar(select(func.count(ItemRow.id))):
                await data.seed(session)
        await recompute(sessionmaker, self.app.state.throughline.config, now=data.NOW)
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(self.app), base_url="http://test"
        )
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()
        await self._life.__aexit__(None, None, None)


def _without_ages(found: Any) -> Any:
    if isinstance(found, dict):
        return {k: _without_ages(v) for k, v in found.items() if k != "age_seconds"}
    if isinstance(found, list):
        return [_without_ages(v) for v in found]
    return found


async def test_the_answers_are_those_the_app_builds(make_site: Callable[..., Any]) -> None:
    """The first answer is the app's (nothing kept yet), the second is served from what was
    kept; without ``reuse_answers`` every answer is the app's."""
    for reuse in (True, False):
        async with make_site(reuse_answers=reuse) as client:
            for path in PATHS:
                built = await client.get(path, headers=VIEWER)
                again = await client.get(path, headers=VIEWER)
                assert built.status_code == again.status_code == 200, path
                assert again.headers["x-request-id"] != built.headers["x-request-id"]
                assert "set-cookie" not in again.headers
                assert {k: v for k, v in built.headers.items() if k not in _PER_ANSWER} == {
                    k: v for k, v in again.headers.items() if k not in _PER_ANSWER
                }
                assert again.headers["content-security-policy"]
                if path.startswith("/api/"):
                    assert _without_ages(built.json()) == _without_ages(again.json())
                else:
                    assert built.text == again.text, path


_PER_ANSWER = ("x-request-id", "date")


@pytest.mark.parametrize("cache_seconds", [0, 60])
async def test_a_risk_written_elsewhere_shows_at_once(
    make_site: Callable[..., Any], committed_engine: AsyncEngine, cache_seconds: int
) -> None:
    """As written by another replica: nothing in this process is told of it (and the
    response cache, on or off, answers nothing older than the store)."""
    async with make_site(cache_seconds=cache_seconds) as client:
        before = (await client.get("/api/programs/checkout", headers=VIEWER)).json()
        page = (await client.get("/programs/checkout", headers=VIEWER)).text
        assert "Vendor contract lapses" not in page
        async with session_scope(make_sessionmaker(committed_engine)) as session:
            program = await lookup.get_program(session, data.config(), "checkout")
            await risks.create(
                session,
                program.id,
                risks.NewRisk(title="Vendor contract lapses", probability=5, impact=5),
                now=data.NOW,
                by="elsewhere",
            )
        after = (await client.get("/api/programs/checkout", headers=VIEWER)).json()
        page = (await client.get("/programs/checkout", headers=VIEWER)).text
    assert after["risk_counts"]["open"] == before["risk_counts"]["open"] + 1
    assert "Vendor contract lapses" in page


async def test_a_recompute_and_a_sync_show_at_once(
    make_site: Callable[..., Any], committed_engine: AsyncEngine
) -> None:
    sessionmaker = make_sessionmaker(committed_engine)
    async with make_site() as client:
        before = {p: await client.get(p, headers=VIEWER) for p in PATHS}
        async with session_scope(sessionmaker) as session:
            await data.seed_more(session, data.NOW + timedelta(minutes=1))
        await recompute(sessionmaker, data.config(), now=data.NOW + timedelta(minutes=2))
        after = {p: await client.get(p, headers=VIEWER) for p in PATHS}
        async with session_scope(sessionmaker) as session:
            jira = await session.scalar(select(SourceRow.id).where(SourceRow.name == "jira"))
            session.add(
                SyncRunRow(
                    source_id=jira,
                    mode=RunMode.FULL,
                    status=RunStatus.FAILED,
                    started_at=data.NOW,
                    finished_at=data.NOW,
                )
            )
        failed = await client.get("/programs/checkout", headers=VIEWER)
    status_before, status_after = before[PATHS[0]].json(), after[PATHS[0]].json()
    assert status_after["progress"] != status_before["progress"]
    assert status_after["freshness"]["computed_at"] != status_before["freshness"]["computed_at"]
    assert after["/programs/checkout"].text != before["/programs/checkout"].text
    assert "last run failed" in failed.text
    assert "last run failed" not in after["/programs/checkout"].text


async def test_readers_arriving_together_share_one_build(
    make_site: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = []
    read = lookup.read_dependencies

    async def counted(*args: Any, **kwargs: Any) -> Any:
        builds.append(args[2])
        await asyncio.sleep(0.05)  # long enough for the others to arrive
        return await read(*args, **kwargs)

    async with make_site() as client:
        monkeypatch.setattr(lookup, "read_dependencies", counted)
        answers = await asyncio.gather(
            *(client.get("/programs/checkout/dependencies", headers=VIEWER) for _ in range(8))
        )
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.text for a in answers}) == 1
    assert builds == ["checkout"]


async def test_who_may_not_read_is_answered_by_the_app(make_site: Callable[..., Any]) -> None:
    async with make_site() as client:
        await client.get("/programs/checkout", headers=VIEWER)  # kept for the viewer
        await client.get("/api/programs/checkout", headers=VIEWER)
        nobody = await client.get("/api/programs/checkout")
        wrong = await client.get("/api/programs/checkout", headers={"Authorization": "Bearer x"})
        page = await client.get("/programs/checkout", headers={"Accept": "text/html"})
        unknown = await client.get("/programs/nothing-here", headers=VIEWER)
        admin = await client.get("/programs/checkout", headers=ADMIN)
    assert nobody.status_code == wrong.status_code == 401
    assert page.status_code == 303
    assert page.headers["location"].startswith("/sign-in")
    assert unknown.status_code == 404
    assert admin.status_code == 200
    assert "ops" in admin.text


async def test_requests_wait_for_a_look_that_began_after_they_arrived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request arriving while a look is on its way is answered by the next one."""
    started: list[asyncio.Event] = []
    release: list[asyncio.Event] = []

    async def read_stamp(state: Any, before: Any = None) -> Any:
        go = asyncio.Event()
        started.append(asyncio.Event())
        release.append(go)
        started[-1].set()
        await go.wait()
        return readpath.Stamp({}, (), {}, len(release))

    monkeypatch.setattr(readpath, "read_stamp", read_stamp)

    class State:
        class settings:
            database_url = "postgresql+psycopg://nowhere/none"

        class config:
            programs = ()

    async def turns() -> None:
        for _ in range(10):
            await asyncio.sleep(0)

    looks = readpath.Looks(State())  # type: ignore[arg-type]
    first: asyncio.Future[Any] = asyncio.ensure_future(looks.current())
    await turns()
    assert len(started) == 1
    late: list[asyncio.Future[Any]] = [asyncio.ensure_future(looks.current()) for _ in range(3)]
    await turns()
    assert len(started) == 1  # they wait: one look at a time
    release[0].set()
    assert (await first).of_store == 1
    await turns()
    assert len(started) == 2
    assert not any(t.done() for t in late)
    release[1].set()
    assert [s.of_store for s in await asyncio.gather(*late)] == [
        2,
        2,
        2,
    ]  # one look served them all


async def test_sqlite_looks_again_only_after_a_commit(
    app_factory: Callable[..., FastAPI], committed_engine: AsyncEngine, database_url: str
) -> None:
    """SQLite says whether anything was committed since; PostgreSQL looks every time."""
    app = app_factory(data.CONFIG)
    async with app.router.lifespan_context(app):
        looks = readpath.Looks(app.state.throughline)
        first = await looks.current()
        assert (await looks.current() is first) == database_url.startswith("sqlite")
        async with session_scope(make_sessionmaker(committed_engine)) as session:
            await data.seed(session)
        assert await looks.current() is not first
        looks.close()
