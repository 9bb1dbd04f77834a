"""The flow API: the contract's fields, one outcome, CSV tables and plain 404s."""

from __future__ import annotations

import csv
import io

import httpx

from tests.app.web.api.conftest import VIEWER


async def test_flow_has_the_contract_fields(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/programs/checkout/flow", headers=VIEWER)
    assert response.status_code == 200
    found = response.json()
    assert set(found["cycle_time"]) == {"p50", "p85", "p95", "count"}
    for name in ("throughput_weekly", "wip_daily", "cfd_daily", "aging", "net_flow_weekly"):
        assert isinstance(found[name], list), name
    assert len(found["throughput_weekly"]) == 12
    assert len(found["cfd_daily"]) == 84
    assert found["cycle_time"]["count"] == len(found["cycle_times"]) > 0
    assert found["definitions"]
    for row in found["aging"]:
        assert set(row) >= {"key", "age_days", "percentile"}


async def test_flow_of_one_outcome_is_a_part_of_the_program(api: httpx.AsyncClient) -> None:
    whole = (await api.get("/api/programs/checkout/flow", headers=VIEWER)).json()
    part = (await api.get("/api/programs/checkout/flow?outcome=fast-pay", headers=VIEWER)).json()
    assert part["outcome"] == "fast-pay"
    assert 0 < part["cycle_time"]["count"] <= whole["cycle_time"]["count"]
    assert part["cfd_daily"][-1]["done"] <= whole["cfd_daily"][-1]["done"]


async def test_flow_tables_export_as_csv(api: httpx.AsyncClient) -> None:
    whole = (await api.get("/api/programs/checkout/flow", headers=VIEWER)).json()
    response = await api.get(
        "/api/programs/checkout/flow.csv", params={"table": "cycle_times"}, headers=VIEWER
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["key", "title", "started_on", "finished_on", "days"]
    assert [r[0] for r in rows[1:]] == [c["key"] for c in whole["cycle_times"]]
    cfd = await api.get("/api/programs/checkout/flow.csv", params={"table": "cfd"}, headers=VIEWER)
    assert len(list(csv.reader(io.StringIO(cfd.text)))) == 85
    by_status = await api.get(
        "/api/programs/checkout/flow.csv", params={"table": "cfd_status"}, headers=VIEWER
    )
    rows = list(csv.reader(io.StringIO(by_status.text)))
    assert rows[0] == ["on", "status", "category", "items"]
    assert len(rows) == 1 + 84 * len(whole["cfd_statuses"])
    last = whole["cfd_status_daily"][-1]
    assert [int(r[3]) for r in rows[-len(last["counts"]) :]] == last["counts"]
    assert [r[1] for r in rows[-len(last["counts"]) :]] == [
        s["name"] for s in whole["cfd_statuses"]
    ]


async def test_flow_by_status_is_documented_with_an_example(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/openapi.json")).json()
    fields = schema["components"]["schemas"]["FlowDocument"]["properties"]
    assert fields["cfd_status_daily"]["examples"][0][0]["counts"]
    assert fields["cfd_statuses"]["examples"][0][0]["name"]
    found = (await api.get("/api/programs/checkout/flow", headers=VIEWER)).json()
    assert found["cfd_status_note"] is None
    assert len(found["cfd_status_daily"]) == 84
    assert all(len(d["counts"]) == len(found["cfd_statuses"]) for d in found["cfd_status_daily"])


async def test_unknown_program_or_outcome_is_404(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/programs/nope/flow", headers=VIEWER)).status_code == 404
    missing = await api.get("/api/programs/checkout/flow?outcome=nope", headers=VIEWER)
    assert missing.status_code == 404
    assert "nope" in missing.json()["detail"]


async def test_flow_needs_a_viewer(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/programs/checkout/flow")).status_code == 401
