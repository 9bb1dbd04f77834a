"""One definition per figure: every page and the weekly report of a generated organisation
show each headline figure exactly as the API states it, and every count links to exactly
that many items (the items page and the CSV export agree).

The demo organisation gets the same check in ``tests/app/demo/test_demo_figures.py``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.reports import runs
from app.store.engine import make_sessionmaker
from tests.app import figures_check as check
from tests.app import generated_program as generated

HTML = {"Accept": "text/html"}


@pytest.fixture
async def organisation(
    app_factory: Callable[..., FastAPI], committed_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    cfg = generated.config()
    app = app_factory(cfg)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://test", headers=HTML
        ) as client,
    ):
        sessionmaker = make_sessionmaker(committed_engine)
        await generated.store_history(sessionmaker, cfg)
        for program in cfg.programs:
            outcome = await runs.weekly_report(
                sessionmaker, cfg, program.key, now=generated.REPORT_AT, environ={}
            )
            assert outcome.generated, program.key
        yield client


async def site_agrees_with_its_api(
    client: httpx.AsyncClient, week: str, *, report_is_today: bool
) -> dict[str, int]:
    """Check every page of every program and its weekly report of ``week`` against the API
    (and, when the report covers the day the status was computed, the report's figures
    against the status); counts of what was checked."""
    tally = {"figures": 0, "links": 0, "pages": 0}
    programs = (await client.get("/api/programs")).json()["programs"]
    statuses = {p["key"]: (await client.get(f"/api/programs/{p['key']}")).json() for p in programs}

    async def page(path: str, expected: dict[str | None, dict[str, str]]) -> str:
        response = await client.get(path)
        assert response.status_code == 200, path
        reader = check.read(response.text)
        tally["figures"] += check.check_figures(path, reader.figures, expected)
        tally["links"] += await check.check_count_links(client, path, reader)
        tally["pages"] += 1
        return response.text

    portfolio = check.read((await client.get("/")).text)
    by_program = [f for f in portfolio.figures if f.name == "progress"]
    assert [f.text for f in by_program] == [s["progress"]["text"] for s in statuses.values()]
    tally["links"] += await check.check_count_links(client, "/", portfolio)

    for key, status in statuses.items():
        outcomes = {o["key"]: check.expected_of(o, program=False) for o in status["outcomes"]}
        program = check.expected_of(status, program=True)
        await page(f"/programs/{key}", {None: program, **outcomes})
        for o in status["outcomes"]:
            await page(f"/programs/{key}/outcomes/{o['key']}", {None: outcomes[o["key"]]})
        await page(f"/programs/{key}/roadmap", outcomes)
        for path in ("resources", "dependencies", "risks", "calibration"):
            await page(f"/programs/{key}/{path}", {})
        report = (await client.get(f"/api/programs/{key}/reports/{week}")).json()
        await page(f"/programs/{key}/reports/{week}", {None: check.expected_of_report(report)})
        if report_is_today:
            # Written from the snapshot of the day the API's status was computed.
            explained = report["explained"]
            assert explained["progress"] == status["progress"]["text"]
            assert explained["on_time"] == status["forecast"]["on_time"]
            assert explained["movement"] == status["forecast"]["movement"]
            assert report["standing"]["forecast"]["p85"] == status["forecast"]["p85"]
        await _exports_agree(client, key, status)
        await _calibration_agrees(client, key, status)
        await _risk_counts_agree(client, key, status)
    return tally


async def _exports_agree(client: httpx.AsyncClient, key: str, status: dict[str, Any]) -> None:
    """The CSV export of the program's items holds exactly the units its progress counts."""
    for params, wanted in (
        ({"program": key}, status["progress"]["scope_count"]),
        ({"program": key, "status_category": "done"}, status["progress"]["done_count"]),
    ):
        body = (await client.get("/api/items.csv", params=params)).text
        assert len(list(csv.DictReader(io.StringIO(body)))) == wanted, params


async def _calibration_agrees(client: httpx.AsyncClient, key: str, status: dict[str, Any]) -> None:
    record = (await client.get(f"/api/programs/{key}/calibration")).json()
    assert record["program"]["text"] == status["forecast"]["calibration"]["text"]
    judged = {o["key"]: o["forecast"]["calibration"]["text"] for o in status["outcomes"]}
    assert {o["key"]: o["text"] for o in record["outcomes"]} == judged
    html = (await client.get(f"/programs/{key}/calibration")).text
    for text in judged.values():
        assert str(text) in html.replace("&#39;", "'")


async def _risk_counts_agree(client: httpx.AsyncClient, key: str, status: dict[str, Any]) -> None:
    risks = (await client.get(f"/api/programs/{key}/risks")).json()["risks"]
    assert status["risk_counts"]["open"] == len(risks)
    html = (await client.get(f"/programs/{key}")).text
    assert f'<a href="/programs/{key}/risks">{len(risks)}</a>' in html


async def test_every_page_and_the_report_show_each_figure_as_the_api_states_it(
    organisation: httpx.AsyncClient,
) -> None:
    week = generated.week_of(generated.REPORT_AT.date())
    tally = await site_agrees_with_its_api(organisation, week, report_is_today=True)
    assert tally["pages"] >= 20
    assert tally["figures"] >= 80, tally
    assert tally["links"] >= 30, tally


async def test_the_generated_organisation_has_every_kind_of_outcome(
    organisation: httpx.AsyncClient,
) -> None:
    """The check above is only as good as the cases it meets."""
    launch = (await organisation.get("/api/programs/launch")).json()
    by_key = {o["key"]: o for o in launch["outcomes"]}
    assert by_key["steady"]["forecast"]["basis"] == "monte_carlo"
    assert by_key["steady"]["forecast"]["movement"] is not None
    assert by_key["points"]["progress"]["basis"] == "estimate"
    assert by_key["shipped"]["forecast"]["basis"] == "done"
    assert not by_key["shipped"]["done_late"]
    assert by_key["shipped-late"]["done_late"]
    assert by_key["open-ended"]["target"] is None
    assert by_key["nothing"]["forecast"]["basis"] == "no_work"
    assert launch["forecast"]["on_time"]["meaning"] == "all_targets"
    left_out = {o["outcome"]: o["reason"] for o in launch["forecast"]["on_time"]["left_out"]}
    assert left_out["Shipped late"] == "done late"
    solo = (await organisation.get("/api/programs/solo")).json()
    assert solo["forecast"]["on_time"]["text"].endswith(
        "that The only outcome finishes by its target " + check.day_text(solo["target"])
    )


async def test_outcome_pages_explain_what_the_usual_figures_do_not(
    organisation: httpx.AsyncClient,
) -> None:
    async def text(outcome: str) -> str:
        html = (await organisation.get(f"/programs/launch/outcomes/{outcome}")).text
        return " ".join(html.replace("&#39;", "'").split())

    late = await text("shipped-late")
    assert "— done late. It is green because nothing is left to do" in late
    assert "no longer counts in the program's chance to be on time" in late
    assert "A finished outcome is green, whatever its scope did" in await text("shipped")
    assert "Nothing to judge: no work is selected" in await text("nothing")
    assert "It has no target date, so there is no chance to be on time" in await text("open-ended")
    steady = await text("steady")
    assert "Why the forecast moved" in steady
    assert "P85 moved" in steady


async def test_asana_projects_and_tasks_are_named_not_numbered(
    organisation: httpx.AsyncClient,
) -> None:
    project = generated.ASANA_PROJECT
    listed = (await organisation.get("/api/items?program=launch&outcome=mobile&limit=1")).json()
    assert listed["items"][0]["project_name"] == generated.ASANA_PROJECT_NAME
    for path in (
        "/items?program=launch&outcome=mobile",
        "/programs/launch/roadmap",
        "/programs/launch/resources",
        "/programs/launch/dependencies?level=project",
    ):
        html = (await organisation.get(path)).text
        assert generated.ASANA_PROJECT_NAME in html, path
        shown = html.replace(f"/{project}", "").replace(f"={project}", "")
        assert f">{project}" not in shown, path
        assert f"{project}<" not in shown, path
    items = (await organisation.get("/items?program=launch&outcome=mobile")).text
    assert ">1300000000000100</a>" not in items, "a task is linked by its title"
