"""Risks a program manager can manage: a person's scores, owner, mitigation and ROAM on a
derived risk, shown as an override beside the data's and holding while the signal lasts;
every change to any risk kept with who made it and when."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.recompute import recompute
from app.store import records
from app.store.engine import make_sessionmaker, session_scope
from app.store.tables import RiskChangeRow
from connectors.base import Page
from tests.app import rollup_data as data
from tests.app.web.api.conftest import ADMIN, VIEWER
from tests.builders import make_item
from vocabulary import ItemKind, StatusCategory

RISKS = "/api/programs/checkout/risks"


async def _derived(api: httpx.AsyncClient, state: str = "open") -> dict[str, Any]:
    (risk,) = [
        r
        for r in (await api.get(f"{RISKS}?state={state}", headers=VIEWER)).json()["risks"]
        if r["origin"] == "derived"
    ]
    return risk


async def test_a_derived_risk_takes_a_persons_scores_beside_the_datas(
    api: httpx.AsyncClient,
) -> None:
    risk = await _derived(api)
    assert (risk["probability"], risk["impact"], risk["severity"]) == (5, 4, "critical")
    assert risk["override"] is None
    answer = await api.patch(
        f"{RISKS}/{risk['id']}",
        headers=ADMIN,
        json={"probability": 2, "impact": 2, "owner": "ana", "mitigation": "ship it dark"},
    )
    assert answer.status_code == 200, answer.text
    decided = answer.json()
    assert (decided["probability"], decided["impact"], decided["score"]) == (2, 2, 4)
    assert decided["severity"] == "low"
    assert decided["data"] == {"probability": 5, "impact": 4, "severity": "critical"}
    override = decided["override"]
    assert override["fields"] == ["probability", "impact", "owner", "mitigation"]
    assert (override["probability"], override["impact"], override["by"]) == (2, 2, "ops")
    (change,) = decided["history"]
    assert (change["by"], change["action"]) == ("ops", "changed")
    assert {c["field"]: (c["from"], c["to"]) for c in change["changes"]} == {
        "probability": (5, 2),
        "impact": (4, 2),
        "owner": (None, "ana"),
        "mitigation": (None, "ship it dark"),
    }
    counts = (await api.get("/api/programs/checkout", headers=VIEWER)).json()["risk_counts"]
    assert (counts["critical"], counts["low"]) == (0, 1)

    back = await api.patch(f"{RISKS}/{risk['id']}", headers=ADMIN, json={"probability": None})
    assert (back.json()["probability"], back.json()["severity"]) == (5, "high")


async def test_decisions_hold_while_the_signal_lasts_and_lapse_when_it_clears(
    api: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    risk = await _derived(api)
    path = f"{RISKS}/{risk['id']}"
    await api.patch(path, headers=ADMIN, json={"impact": 1, "roam": "accepted"})
    sessionmaker = make_sessionmaker(committed_engine)
    later = data.NOW + timedelta(hours=2)
    await recompute(sessionmaker, data.config(), now=later)
    kept = (await api.get(path, headers=VIEWER)).json()
    assert (kept["impact"], kept["roam"], kept["severity"]) == (1, "accepted", "medium")
    assert kept["closed_at"] is None

    # The milestone is done: the signal clears, the risk closes, the decisions lapse.
    done = make_item(
        "PAY-7",
        kind=ItemKind.MILESTONE,
        parent_key="PAY-1",
        due_on=data.TODAY - timedelta(days=2),
        status="Done",
        status_category=StatusCategory.DONE,
        updated_at=later + timedelta(hours=1),
    )
    async with session_scope(sessionmaker) as session:
        source = await records.get_source(session, "jira")
        assert source is not None
        await records.save_page(session, source.id, Page("PAY", [done]), now=later)
    await recompute(sessionmaker, data.config(), now=later + timedelta(hours=2))
    closed = (await api.get(path, headers=VIEWER)).json()
    assert closed["closed_at"] is not None
    assert closed["override"] is None
    assert (closed["impact"], closed["roam"]) == (4, None)
    lapsed = closed["history"][-1]
    assert (lapsed["by"], lapsed["action"]) == ("throughline", "lapsed")
    assert {c["field"]: c["to"] for c in lapsed["changes"]} == {"impact": None, "roam": None}


async def test_every_register_change_is_kept_with_who_and_when(
    api: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    created = (
        await api.post(
            RISKS, headers=ADMIN, json={"title": "Vendor SDK late", "probability": 3, "impact": 3}
        )
    ).json()
    path = f"{RISKS}/{created['id']}"
    await api.patch(path, headers=ADMIN, json={"impact": 5, "owner": "bo"})
    await api.patch(path, headers=ADMIN, json={"impact": 5})  # no change, nothing kept
    found = (await api.get(path, headers=VIEWER)).json()
    assert [(h["action"], h["by"]) for h in found["history"]] == [
        ("created", "ops"),
        ("changed", "ops"),
    ]
    assert {c["field"] for c in found["history"][0]["changes"]} == {
        "title",
        "probability",
        "impact",
    }
    assert found["history"][1]["at"].endswith("+01:00"), "in the program's zone"

    assert (await api.delete(path, headers=ADMIN)).status_code == 204
    async with session_scope(make_sessionmaker(committed_engine)) as session:
        kept = list(await session.scalars(select(RiskChangeRow).order_by(RiskChangeRow.id)))
    assert [(k.action, k.by, k.risk_id, k.title) for k in kept][-1] == (
        "removed",
        "ops",
        None,
        "Vendor SDK late",
    )
