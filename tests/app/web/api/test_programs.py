"""The programs API over HTTP: the contract's field names, roles, the register, 404s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs import lookup, risks
from app.programs.recompute import recompute
from app.store.engine import make_sessionmaker, session_scope
from tests.app import rollup_data as data
from tests.app.web.api.conftest import ADMIN, TOKENS, VIEWER


async def test_program_list_summarises_every_program(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/programs", headers=VIEWER)).json()
    assert [p["key"] for p in body["programs"]] == ["checkout", "mobile"]
    assert set(body["programs"][0]) == {
        "schema_version",
        "key",
        "name",
        "timezone",
        "rag",
        "progress",
        "target",
        "forecast",
        "risk_counts",
        "freshness",
    }


async def test_program_status_has_the_contract_fields(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/programs/checkout", headers=VIEWER)).json()
    assert {
        "key",
        "name",
        "rag",
        "progress",
        "target",
        "forecast",
        "outcomes",
        "risk_counts",
        "data_quality",
        "freshness",
    } <= set(body)
    assert set(body["rag"]) >= {"color", "reasons"}
    assert set(body["rag"]["reasons"][0]) == {"rule", "detail", "items"}
    assert {"done", "total", "percent", "basis", "unestimated"} <= set(body["progress"])
    assert {"p50", "p85", "p95", "probability_on_time", "basis"} <= set(body["forecast"])
    assert body["rag"]["color"] == "red"
    assert body["rag"]["reasons"][0] == {
        "rule": "overdue_milestone",
        "detail": "1 milestone(s) are past due",
        "items": ["PAY-7"],
    }
    assert body["risk_counts"]["critical"] == 1
    assert [o["key"] for o in body["outcomes"]] == ["fast-pay", "web"]
    assert body["outcomes"][0]["explain"] is None


async def test_outcome_explains_every_contributor(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/programs/checkout/outcomes/fast-pay", headers=VIEWER)).json()
    contributors = body["explain"]["contributors"]
    assert len(contributors) == body["progress"]["scope_count"] == 41
    assert set(contributors[0]) >= {"key", "share", "status", "url", "title"}
    assert sum(c["share"] for c in contributors) == pytest.approx(1.0, abs=1e-4)
    assert body["forecast"]["basis"] == "monte_carlo"
    assert body["forecast"]["probability_on_time"] == 1.0


async def test_dependencies_use_the_contract_field_names(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/programs/checkout/dependencies", headers=VIEWER)).json()
    assert set(body) >= {"nodes", "edges", "cycles", "critical_path"}
    edges = {(e["from"], e["to"]): e for e in body["edges"]}
    assert set(edges) == {("PAY-3", "PAY-4"), ("WEB-1", "PAY-4")}
    assert set(edges[("WEB-1", "PAY-4")]) >= {
        "from",
        "to",
        "cross_project",
        "cross_tracker",
        "late",
        "reason",
    }
    assert edges[("WEB-1", "PAY-4")]["cross_project"] is True
    assert body["rollups"]["project"] == [
        {"from": "jira/WEB", "to": "jira/PAY", "count": 1, "late": 0}
    ]


async def test_risks_list_derived_risks_with_their_evidence(api: httpx.AsyncClient) -> None:
    (risk,) = (await api.get("/api/programs/checkout/risks", headers=VIEWER)).json()["risks"]
    assert {k: risk[k] for k in ("origin", "rule", "severity", "items", "closed_at")} == {
        "origin": "derived",
        "rule": "overdue_milestone",
        "severity": "critical",
        "items": ["PAY-7"],
        "closed_at": None,
    }
    assert risk["evidence"][0]["key"] == "PAY-7"
    assert risk["opened_at"].endswith("+01:00")


async def test_register_risk_lifecycle(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/api/programs/checkout/risks",
        headers=ADMIN,
        json={
            "title": "Vendor SDK late",
            "probability": 4,
            "impact": 5,
            "owner": "ana",
            "items": ["PAY-4"],
            "outcome": "fast-pay",
        },
    )
    assert created.status_code == 201
    risk = created.json()
    assert (risk["origin"], risk["severity"], risk["score"], risk["roam"]) == (
        "register",
        "critical",
        20,
        None,
    )
    path = f"/api/programs/checkout/risks/{risk['id']}"
    patched = (await api.patch(path, headers=ADMIN, json={"roam": "resolved", "impact": 2})).json()
    assert (patched["roam"], patched["severity"]) == ("resolved", "medium")
    assert patched["closed_at"] is not None
    listed = (await api.get("/api/programs/checkout/risks?state=all", headers=VIEWER)).json()
    assert risk["id"] in [r["id"] for r in listed["risks"]]
    assert (await api.delete(path, headers=ADMIN)).status_code == 204
    assert (await api.delete(path, headers=ADMIN)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            {"title": "x", "probability": 6, "impact": 1}, "probability", id="probability"
        ),
        pytest.param({"title": "x", "probability": 1, "impact": 0}, "impact", id="impact"),
        pytest.param({"title": "", "probability": 1, "impact": 1}, "title", id="title"),
        pytest.param(
            {"title": "x", "probability": 1, "impact": 1, "roam": "ignored"}, "roam", id="roam"
        ),
        pytest.param(
            {"title": "x", "probability": 1, "impact": 1, "outcome": "nope"},
            "outcome",
            id="outcome",
        ),
        pytest.param(
            {"title": "x", "probability": 1, "impact": 1, "colour": "red"}, "colour", id="unknown"
        ),
        pytest.param({"probability": 1, "impact": 1}, "title", id="missing"),
    ],
)
async def test_register_validation_names_the_field(
    api: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await api.post("/api/programs/checkout/risks", headers=ADMIN, json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


async def test_derived_risks_take_only_what_people_decide(api: httpx.AsyncClient) -> None:
    (risk,) = (await api.get("/api/programs/checkout/risks", headers=VIEWER)).json()["risks"]
    path = f"/api/programs/checkout/risks/{risk['id']}"
    renamed = await api.patch(path, headers=ADMIN, json={"title": "mine now"})
    assert renamed.status_code == 422
    assert renamed.json()["detail"][0]["loc"] == ["body", "title"]
    owned = (await api.patch(path, headers=ADMIN, json={"roam": "owned", "owner": "ana"})).json()
    assert (owned["roam"], owned["owner"], owned["closed_at"]) == ("owned", "ana", None)
    refused = await api.delete(path, headers=ADMIN)
    assert refused.status_code == 409
    assert "closes by itself" in refused.json()["detail"]


async def test_changes_since_a_day(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/programs/checkout/changes?since=2026-11-13", headers=VIEWER)).json()
    assert (body["since"], body["base_on"], body["until"]) == (
        "2026-11-13",
        "2026-11-20",
        "2026-11-20",
    )
    bad = await api.get("/api/programs/checkout/changes?since=yesterday", headers=VIEWER)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "since"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/programs/nope", "There is no program 'nope'."),
        ("/api/programs/checkout/outcomes/nope", "Program 'checkout' has no outcome 'nope'."),
        ("/api/programs/nope/dependencies", "There is no program 'nope'."),
        ("/api/programs/nope/risks", "There is no program 'nope'."),
        ("/api/programs/nope/changes?since=2026-11-13", "There is no program 'nope'."),
    ],
)
async def test_unknown_things_are_404_with_a_plain_message(
    api: httpx.AsyncClient, path: str, message: str
) -> None:
    response = await api.get(path, headers=VIEWER)
    assert response.status_code == 404
    assert response.json() == {"detail": message}


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/api/programs", {}, 401),
        ("GET", "/api/programs/checkout", {"Authorization": "Bearer wrong"}, 401),
        ("POST", "/api/programs/checkout/risks", VIEWER, 403),
        ("PATCH", "/api/programs/checkout/risks/1", VIEWER, 403),
        ("DELETE", "/api/programs/checkout/risks/1", VIEWER, 403),
    ],
)
async def test_reads_need_a_viewer_and_the_register_an_admin(
    api: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    response = await api.request(
        method, path, headers=headers, json={"title": "x", "probability": 1, "impact": 1}
    )
    assert response.status_code == status


async def test_status_reads_do_not_recompute(
    api: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    sessionmaker = make_sessionmaker(committed_engine)
    later = data.NOW + timedelta(days=1)
    before = (await api.get("/api/programs/checkout", headers=VIEWER)).json()
    async with session_scope(sessionmaker) as session:
        await data.seed_more(session, later)
    after = (await api.get("/api/programs/checkout", headers=VIEWER)).json()
    assert after["progress"] == before["progress"]


async def test_openapi_documents_every_route_with_examples(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/programs",
        "/api/programs/{key}",
        "/api/programs/{key}/outcomes/{outcome}",
        "/api/programs/{key}/dependencies",
        "/api/programs/{key}/risks",
        "/api/programs/{key}/risks/{risk_id}",
        "/api/programs/{key}/changes",
        "/api/programs/{key}/roadmap",
        "/api/programs/{key}/resources",
        "/api/programs/{key}/flow",
        "/api/programs/{key}/what-if",
        "/api/programs/{key}/scenarios",
    ):
        assert path in paths
    schemas = spec["components"]["schemas"]
    for name in (
        "ProgramList",
        "ProgramStatus",
        "OutcomeStatus",
        "Dependencies",
        "RiskList",
        "Changes",
        "Roadmap",
        "Resources",
    ):
        assert schemas[name].get("examples"), name


async def test_top_open_risks_follow_the_lists_order(
    api: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    for title, p, i in (("low one", 1, 2), ("worst", 5, 5), ("middling", 3, 3)):
        body = {"title": title, "probability": p, "impact": i}
        await api.post("/api/programs/checkout/risks", headers=ADMIN, json=body)
    listed = (await api.get("/api/programs/checkout/risks", headers=VIEWER)).json()["risks"]
    async with session_scope(make_sessionmaker(committed_engine)) as session:
        program_id = (await lookup.get_program(session, data.config(), "checkout")).id
        top = await risks.top_open(session, program_id, 3)
    assert [r.id for r in top] == [r["id"] for r in listed[:3]]


async def test_a_cached_status_shows_a_recompute_at_once(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    app = app_factory(
        data.CONFIG.replace("server: {auth: none}", TOKENS), server={"cache_seconds": 60}
    )
    sessionmaker = make_sessionmaker(committed_engine)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        async with session_scope(sessionmaker) as session:
            await data.seed(session)
        config = app.state.throughline.config
        await recompute(sessionmaker, config, now=data.NOW)
        before = (await client.get("/api/programs/checkout", headers=VIEWER)).json()
        page_before = (await client.get("/programs/checkout", headers=VIEWER)).text
        async with session_scope(sessionmaker) as session:
            await data.seed_more(session, data.NOW + timedelta(minutes=1))
        later = data.NOW + timedelta(minutes=2)
        await recompute(sessionmaker, config, now=later)
        after = (await client.get("/api/programs/checkout", headers=VIEWER)).json()
        page_after = (await client.get("/programs/checkout", headers=VIEWER)).text
    assert after["progress"] != before["progress"]
    assert after["freshness"]["computed_at"] != before["freshness"]["computed_at"]
    assert page_after != page_before
