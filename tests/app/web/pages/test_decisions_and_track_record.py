"""The risks page shows a person's decision on a derived risk as an override with its
history; the track record page says how past forecasts fared."""

from __future__ import annotations

import httpx

from tests.app.web.pages.test_access import _csrf


async def test_a_decision_on_a_derived_risk_shows_as_an_override_with_its_history(
    site: httpx.AsyncClient,
) -> None:
    (risk,) = (await site.get("/api/programs/checkout/risks")).json()["risks"]
    edit = await site.get(f"/programs/checkout/risks/{risk['id']}/edit")
    assert "as the data says (5)" in edit.text, "the data's probability is one choice"
    saved = await site.post(
        f"/programs/checkout/risks/{risk['id']}",
        data={"csrf_token": _csrf(edit), "probability": "2", "impact": "", "owner": "ana"},
    )
    assert saved.status_code == 303
    html = (await site.get("/programs/checkout/risks")).text
    assert "Decided by anonymous (auth: none)" in html
    assert "probability, owner — holds while the signal lasts" in html
    assert "2 × 4" in html
    assert "data: 5 × 4" in html
    assert "History (1 change)" in html
    assert "probability 5 → 2; owner — → ana" in html
    edited = await site.get(f"/programs/checkout/risks/{risk['id']}/edit")
    assert '<option value="2" selected>' in edited.text


async def test_the_track_record_page_and_api_say_how_past_forecasts_fared(
    site: httpx.AsyncClient,
) -> None:
    record = (await site.get("/api/programs/checkout/calibration")).json()
    assert set(record) == {"key", "name", "as_of", "program", "outcomes"}
    assert record["program"]["key"] is None
    assert [o["key"] for o in record["outcomes"]] == ["fast-pay", "web"]
    html = (await site.get("/programs/checkout/calibration")).text
    assert "Forecast track record" in html
    assert record["outcomes"][0]["text"] in html
    program = (await site.get("/programs/checkout")).text
    assert 'href="/programs/checkout/calibration"' in program
