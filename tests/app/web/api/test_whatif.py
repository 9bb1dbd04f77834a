"""The what-if API: before and after in the contract's shape, plain 422s, saved scenarios."""

from __future__ import annotations

import httpx

from tests.app.web.api.conftest import ADMIN, VIEWER


async def test_what_if_answers_before_and_after(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/programs/checkout/what-if",
        json={"remove_keys": ["WEB-1"], "add_items": 4, "pace_factor": 1.2},
        headers=VIEWER,
    )
    assert response.status_code == 200, response.text
    found = response.json()
    for side in ("before", "after"):
        figures = found[side]["program"]
        assert set(figures) >= {"p50", "p85", "p95", "probability_on_time"}
        assert set(found[side]["outcomes"]) == {"fast-pay", "web"}
    assert found["removed"] == ["WEB-1"]
    assert found["added"] == {"fast-pay": 2, "web": 2}
    assert found["summary"].startswith("If we defer WEB-1")


async def test_what_if_names_the_field_it_cannot_take(api: httpx.AsyncClient) -> None:
    bad = await api.post(
        "/api/programs/checkout/what-if",
        json={"targets": {"nope": "2027-01-01"}, "pace_factor": 0},
        headers=VIEWER,
    )
    assert bad.status_code == 422
    fields = {e["loc"][-1] for e in bad.json()["detail"]}
    assert fields == {"targets", "pace_factor"}
    missing = await api.post("/api/programs/nope/what-if", json={}, headers=VIEWER)
    assert missing.status_code == 404


async def test_scenarios_are_saved_listed_replaced_and_deleted(api: httpx.AsyncClient) -> None:
    body = {"name": 'Defer <web> "now"', "remove_keys": ["WEB-1"]}
    assert (
        await api.post("/api/programs/checkout/scenarios", json=body, headers=VIEWER)
    ).status_code == 403
    saved = await api.post("/api/programs/checkout/scenarios", json=body, headers=ADMIN)
    assert saved.status_code == 201, saved.text
    again = await api.post(
        "/api/programs/checkout/scenarios", json=body | {"add_items": 3}, headers=ADMIN
    )
    listed = (await api.get("/api/programs/checkout/scenarios", headers=VIEWER)).json()
    assert [s["name"] for s in listed["scenarios"]] == ['Defer <web> "now"']
    assert listed["scenarios"][0]["changes"]["add_items"] == 3
    assert listed["scenarios"][0]["result"]["summary"]
    scenario_id = again.json()["id"]
    gone = await api.delete(f"/api/programs/checkout/scenarios/{scenario_id}", headers=ADMIN)
    assert gone.status_code == 204
    assert (await api.get("/api/programs/checkout/scenarios", headers=VIEWER)).json() == {
        "scenarios": []
    }


async def test_a_team_s_pace_names_what_it_cannot_take(api: httpx.AsyncClient) -> None:
    bad = await api.post(
        "/api/programs/checkout/what-if",
        json={
            "pace_factor": {"nobody": 1.5, "web": -1},
            "add_teams": [
                {"name": "Like", "like": "nobody"},
                {"name": "Both", "like": "x", "pace_items_per_week": 3},
                {"name": "Slow", "pace_items_per_week": 0, "outcomes": ["nope"]},
            ],
        },
        headers=VIEWER,
    )
    assert bad.status_code == 422
    found = {".".join(map(str, e["loc"][1:])): e["msg"] for e in bad.json()["detail"]}
    assert set(found) == {
        "pace_factor",
        "add_teams.0.like",
        "add_teams.1",
        "add_teams.2.pace_items_per_week",
        "add_teams.2.outcomes",
    }
    assert "unknown team(s) or outcome(s) nobody" in bad.text
    assert "none configured" in bad.text


async def test_an_added_team_moves_the_forecast(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/programs/checkout/what-if",
        json={"add_teams": [{"name": "Contractors", "pace_items_per_week": 5}]},
        headers=VIEWER,
    )
    assert response.status_code == 200, response.text
    found = response.json()
    before, after = found["before"]["outcomes"]["fast-pay"], found["after"]["outcomes"]["fast-pay"]
    assert after["p85"] < before["p85"]
    assert "add a team of 5 items a week (Contractors)" in found["summary"]
