"""The roadmap and resources over HTTP: field names, people and teams from the config,
the baseline of a chosen day, roles and 404s (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs import documents
from app.programs.documents import plan_examples
from app.programs.recompute import recompute
from app.store.engine import make_sessionmaker, session_scope
from tests.app import rollup_data as data
from tests.app.web.api.conftest import TOKENS, VIEWER

PEOPLE = """
people:
  - {name: Ana Lima, aliases: [ana], emails: [ana@acme.example]}
teams:
  - {key: payments, name: Payments, members: [Ana Lima]}
resources: {wip_limit: 1, throughput_weeks: 4}
"""
EARLIER = data.NOW - timedelta(days=14)


@pytest.fixture
async def api(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """The sample program recomputed twice, two weeks apart, with people configured."""
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    app = app_factory(data.CONFIG.replace("server: {auth: none}", TOKENS) + PEOPLE)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        sessionmaker = make_sessionmaker(committed_engine)
        async with session_scope(sessionmaker) as session:
            await data.seed(session)
        config = app.state.throughline.config
        await recompute(sessionmaker, config, now=EARLIER)
        await recompute(sessionmaker, config, now=data.NOW)
        yield client


async def test_roadmap_has_bars_milestones_and_outcomes(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/programs/checkout/roadmap", headers=VIEWER)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(plan_examples.ROADMAP)
    assert body["as_of"] == data.TODAY.isoformat()
    assert [o["key"] for o in body["outcomes"]] == ["fast-pay", "web"]
    bars = {b["id"]: b for b in body["bars"]}
    assert set(bars) == {"jira:PAY-1", "jira/WEB"}
    epic = bars["jira:PAY-1"]
    assert set(epic) == set(plan_examples.ROADMAP["bars"][0])
    assert epic["outcome"] == "fast-pay"
    assert epic["start_basis"] == "earliest_work"
    assert epic["forecast_basis"] in {"own_history", "outcome"}
    assert epic["p50"] is not None
    assert [m["key"] for m in body["milestones"]] == ["PAY-7"]
    assert body["milestones"][0]["bar"] == "jira:PAY-1"
    assert body["links"] == [{"from": "jira/WEB", "to": "jira:PAY-1", "count": 1, "late": 0}]
    teams = body["outcomes"][0]["teams"]
    assert teams["deciding"] == "payments"
    assert [s["key"] for s in teams["shares"]] == ["payments"]


async def test_the_baseline_is_the_snapshot_of_the_day_asked_for(api: httpx.AsyncClient) -> None:
    asked = EARLIER.date() + timedelta(days=3)
    body = (
        await api.get(f"/api/programs/checkout/roadmap?baseline={asked}", headers=VIEWER)
    ).json()
    assert body["baseline"] == {
        "on": EARLIER.date().isoformat(),
        "asked": asked.isoformat(),
        "origin": "chosen",
        "bars": 2,
    }
    epic = next(b for b in body["bars"] if b["id"] == "jira:PAY-1")
    assert epic["baseline"] is not None
    assert epic["slip_days"] is not None
    assert body["outcomes"][0]["baseline"]["p85"] is not None


async def test_without_a_date_the_first_snapshot_is_the_baseline(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/programs/checkout/roadmap", headers=VIEWER)).json()
    assert body["baseline"]["origin"] == "first_snapshot"
    assert body["baseline"]["on"] == EARLIER.date().isoformat()


async def test_a_day_before_any_snapshot_has_no_baseline(api: httpx.AsyncClient) -> None:
    body = (
        await api.get("/api/programs/checkout/roadmap?baseline=2020-01-01", headers=VIEWER)
    ).json()
    assert body["baseline"]["on"] is None
    assert all(b["baseline"] is None for b in body["bars"])


async def test_resources_per_person_and_team(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/programs/checkout/resources", headers=VIEWER)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(plan_examples.RESOURCES)
    (ana,) = body["people"]
    assert set(ana) == set(plan_examples.WORKLOAD)
    assert ana["name"] == "Ana Lima"
    assert ana["team"] == "payments"
    assert ana["wip_items"] == ["PAY-2", "PAY-3"]
    assert ana["remaining"] == 5
    assert sum(ana["throughput"]) > 0
    assert len(ana["throughput"]) == len(body["week_starts"]) == 4
    assert [f["rule"] for f in ana["flags"]] == ["wip_over_limit"]
    (team,) = body["teams"]
    assert team["members"] == [ana["id"]]
    assert [f["rule"] for f in team["flags"]] == ["members_over_allocated"]
    web = next(u for u in body["unassigned"] if u["outcome"] == "web")
    assert web["items"] == ["WEB-1"]
    assert [f["outcome"] for f in body["forecasts"]] == ["fast-pay", "web"]


async def test_plans_need_a_token_and_a_known_program(api: httpx.AsyncClient) -> None:
    for path in ("roadmap", "resources"):
        assert (await api.get(f"/api/programs/checkout/{path}")).status_code == 401
        missing = await api.get(f"/api/programs/nope/{path}", headers=VIEWER)
        assert missing.status_code == 404
    bad = await api.get("/api/programs/checkout/roadmap?baseline=someday", headers=VIEWER)
    assert bad.status_code == 422


async def test_before_any_recomputation_the_documents_are_empty(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(data.CONFIG)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        roadmap = (await client.get("/api/programs/checkout/roadmap")).json()
        assert roadmap["bars"] == []
        assert [o["forecast_basis"] for o in roadmap["outcomes"]] == ["not_computed"] * 2
        resources = (await client.get("/api/programs/checkout/resources")).json()
        assert resources["people"] == []


@pytest.mark.parametrize(
    ("model", "example"),
    [
        (documents.Roadmap, plan_examples.ROADMAP),
        (documents.Resources, plan_examples.RESOURCES),
        (documents.Workload, plan_examples.WORKLOAD),
        (documents.TeamForecast, plan_examples.TEAM_FORECAST),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_examples_are_valid_and_complete(model: type, example: dict[str, object]) -> None:
    parsed = model.model_validate(example)  # type: ignore[attr-defined]
    assert parsed.model_dump(mode="json", by_alias=True).keys() == example.keys()
