"""The portfolio over HTTP: goals, dependencies and people across programs as JSON and as
CSV, behind a viewer token (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.documents import portfolio as out
from app.programs.recompute import recompute
from app.store import catalog
from app.store.engine import make_sessionmaker, session_scope
from tests.app import portfolio_data as data
from tests.app.web.api.conftest import TOKENS, VIEWER


@pytest.fixture
async def api(
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """The scripted organisation stored and recomputed once, behind tokens."""
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    app = app_factory(data.CONFIG.replace("server: {auth: none}", TOKENS))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        sessionmaker = make_sessionmaker(committed_engine)
        config = app.state.throughline.config
        async with session_scope(sessionmaker) as session:
            await catalog.apply_config(session, config, now=data.NOW)
            await data.seed(session)
        await recompute(sessionmaker, config, now=data.NOW)
        yield client


def rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_the_portfolio_lists_goals_programs_and_tallies(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/portfolio", headers=VIEWER)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(out.Portfolio.model_fields)
    revenue = body["goals"][0]
    assert set(revenue) == set(out.GoalStatus.model_fields)
    assert revenue["period"] == {"label": "2027-Q1", "start": "2027-01-01", "end": "2027-03-31"}
    assert revenue["rag"]["color"] in {"green", "amber", "red"}
    assert [c["ref"] for c in revenue["contributors"]] == ["checkout", "platform/vault"]
    assert revenue["confidence"]["meaning"] == "period_end"
    assert [k["key"] for k in revenue["key_results"]] == ["progress", "confidence"]
    assert [p["key"] for p in body["programs"]] == ["checkout", "platform", "mobile"]
    assert body["programs"][1]["owner"] == "Bo Chen"
    assert body["dependencies"] == {"count": 1, "late": 1}
    assert body["people"] == {"shared": 1, "over_allocated": 1}


async def test_a_goal_is_served_on_its_own(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/goals/mobile-first", headers=VIEWER)
    assert response.status_code == 200
    body = response.json()
    assert body["owner"] == "Gus Hill"
    assert [c["ref"] for c in body["contributors"]] == ["mobile", "checkout/web"]
    assert body["key_results"][0]["metric"] == "outcomes_done"
    missing = await api.get("/api/goals/nope", headers=VIEWER)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "There is no goal 'nope'."}


async def test_dependencies_between_programs_name_both_ends(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/portfolio/dependencies", headers=VIEWER)).json()
    (dep,) = body["dependencies"]
    assert (dep["from"]["key"], dep["from"]["programs"]) == ("PLAT-2", ["platform"])
    assert (dep["to"]["key"], dep["to"]["programs"]) == ("PAY-3", ["checkout"])
    assert (dep["late"], dep["reason"], dep["critical"]) == (True, "due_after_needed", True)
    (link,) = body["outcome_links"]
    assert (link["from"]["outcome"], link["to"]["outcome"], link["late"]) == (
        "fast-pay",
        "app",
        True,
    )
    assert {(e["from"], e["to"]) for e in body["edges"]} == {
        ("platform", "checkout"),
        ("checkout", "mobile"),
    }


@pytest.mark.parametrize(
    ("program", "dependencies", "links"),
    [("platform", 1, 0), ("mobile", 0, 1), ("checkout", 1, 1)],
)
async def test_dependencies_of_one_program(
    api: httpx.AsyncClient, program: str, dependencies: int, links: int
) -> None:
    body = (await api.get(f"/api/portfolio/dependencies?program={program}", headers=VIEWER)).json()
    assert (len(body["dependencies"]), len(body["outcome_links"])) == (dependencies, links)


async def test_people_across_programs_flag_the_over_allocated(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/portfolio/people", headers=VIEWER)
    assert "dee@acme.example" not in response.text, "e-mails are matched, never returned"
    body = response.json()
    dee = next(p for p in body["people"] if p["name"] == "Dee Evans")
    assert (dee["programs"], dee["wip"], dee["remaining"], dee["over_allocated"]) == (3, 4, 5, True)
    assert [s["program"] for s in dee["shares"]] == ["checkout", "platform", "mobile"]
    assert dee["shares"][0]["wip_items"] == ["PAY-2", "PAY-3"]
    only = (await api.get("/api/portfolio/people?program=platform", headers=VIEWER)).json()
    assert [p["name"] for p in only["people"]] == ["Dee Evans", "Pia Platt"]


@pytest.mark.parametrize(
    ("path", "first_column", "expected"),
    [
        ("/api/portfolio.csv", "key", ["revenue", "mobile-first"]),
        ("/api/portfolio/programs.csv", "key", ["checkout", "platform", "mobile"]),
        ("/api/goals/revenue.csv", "ref", ["checkout", "platform/vault"]),
        ("/api/portfolio/dependencies.csv", "from", ["jira:PLAT-2", "checkout/fast-pay"]),
        ("/api/portfolio/people.csv", "name", ["Dee Evans"]),
    ],
)
async def test_every_table_is_also_csv(
    api: httpx.AsyncClient, path: str, first_column: str, expected: list[str]
) -> None:
    response = await api.get(path, headers=VIEWER)
    assert response.status_code == 200
    found = [r[first_column] for r in rows(response)]
    assert found[: len(expected)] == expected


@pytest.mark.parametrize(
    "path",
    [
        "/api/portfolio",
        "/api/goals/revenue",
        "/api/portfolio/dependencies",
        "/api/portfolio/people",
    ],
)
async def test_csv_is_also_served_for_accept_text_csv(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(path, headers={**VIEWER, "Accept": "text/csv"})
    assert response.status_code == 200
    assert rows(response)


async def test_csv_cells_never_start_a_formula(api: httpx.AsyncClient) -> None:
    text = (await api.get("/api/portfolio/dependencies.csv", headers=VIEWER)).text
    assert "Vault API <img src=x onerror=alert(1)>" in text
    assert "\n=" not in text
    assert ",=" not in text


@pytest.mark.parametrize(
    "path",
    [
        "/api/portfolio",
        "/api/portfolio.csv",
        "/api/goals/revenue",
        "/api/portfolio/dependencies",
        "/api/portfolio/people.csv",
    ],
)
async def test_the_portfolio_needs_a_token(api: httpx.AsyncClient, path: str) -> None:
    assert (await api.get(path)).status_code == 401


async def test_the_openapi_document_has_examples_for_the_portfolio(api: httpx.AsyncClient) -> None:
    schemas = (await api.get("/openapi.json")).json()["components"]["schemas"]
    for name in ("Portfolio", "GoalStatus", "PortfolioDependencies", "PortfolioPeople"):
        assert schemas[name].get("examples"), name
