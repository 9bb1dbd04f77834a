"""The items API: filters, stable cursor paging, CSV export, one item's page, and access."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.programs.recompute import recompute
from app.store import records
from app.store.engine import make_sessionmaker, session_scope
from connectors.base import Page
from tests.app import rollup_data as data
from tests.app.web.api.conftest import ADMIN, VIEWER
from tests.builders import make_item

FAST_PAY = "/api/items?program=checkout&outcome=fast-pay"


async def _all_pages(api: httpx.AsyncClient, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params = {"program": "checkout", "outcome": "fast-pay", "limit": str(limit)}
        body = (
            await api.get("/api/items", params=params | {"cursor": cursor or ""}, headers=VIEWER)
        ).json()
        pages.append([i["key"] for i in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_pages_cover_an_outcome_once_in_a_stable_order(api: httpx.AsyncClient) -> None:
    pages = await _all_pages(api, limit=10)
    keys = [k for page in pages for k in page]
    assert [len(p) for p in pages] == [10, 10, 10, 10, 1]
    assert len(set(keys)) == len(keys) == 41, "every unit of work of the outcome, once"
    assert not {"PAY-1", "PAY-7"} & set(keys), "epics and milestones are no units"
    assert keys == [k for page in await _all_pages(api, limit=41) for k in page]


async def test_item_has_the_contract_fields_in_the_programs_zone(api: httpx.AsyncClient) -> None:
    body = (await api.get(FAST_PAY + "&q=PAY-4", headers=VIEWER)).json()
    (item,) = body["items"]
    assert set(item) == {
        "source",
        "key",
        "url",
        "title",
        "kind",
        "status",
        "status_category",
        "project",
        "project_name",
        "parent_key",
        "assignee",
        "estimate",
        "start_on",
        "due_on",
        "created_at",
        "updated_at",
        "resolved_at",
        "labels",
        "deleted",
    }
    assert (item["source"], item["parent_key"], item["deleted"]) == ("jira", "PAY-1", False)
    assert item["updated_at"].endswith("+01:00"), "Europe/Berlin in November"
    plain = (await api.get("/api/items?q=PAY-4", headers=VIEWER)).json()["items"][0]
    assert plain["updated_at"].endswith("Z") or plain["updated_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("query", "count"),
    [
        pytest.param("program=checkout", 43, id="program: every outcome's units"),
        pytest.param("program=checkout&outcome=web", 2, id="outcome"),
        pytest.param("program=checkout&status_category=done", 37, id="done"),
        pytest.param("program=checkout&outcome=fast-pay&status_category=todo", 3, id="todo"),
        pytest.param("program=checkout&check=done_without_date", 1, id="quality check"),
        pytest.param("source=jira&q=title of pay-10", 10, id="text, any case"),
        pytest.param("q=%25", 0, id="like wildcards are literal"),
        pytest.param("key=PAY-2&key=WEB-1", 2, id="keys"),
        pytest.param("program=mobile", 0, id="program without work"),
    ],
)
async def test_filters(api: httpx.AsyncClient, query: str, count: int) -> None:
    body = (await api.get(f"/api/items?{query}&limit=500", headers=VIEWER)).json()
    assert len(body["items"]) == count
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("outcome=fast-pay", 422, "outcome"),
        ("program=checkout&outcome=nope", 422, "outcome"),
        ("source=nope", 422, "source"),
        ("status_category=blocked", 422, "status_category"),
        ("cursor=not-a-cursor", 422, "cursor"),
        ("limit=0", 422, "limit"),
        ("program=nope", 404, None),
    ],
)
async def test_bad_queries_name_the_parameter(
    api: httpx.AsyncClient, query: str, status: int, field: str | None
) -> None:
    response = await api.get(f"/api/items?{query}", headers=VIEWER)
    assert response.status_code == status
    if field is not None:
        assert response.json()["detail"][0]["loc"] == ["query", field]


async def test_a_cursor_only_continues_the_list_it_came_from(api: httpx.AsyncClient) -> None:
    cursor = (await api.get(FAST_PAY + "&limit=5", headers=VIEWER)).json()["next_cursor"]
    other = await api.get(
        "/api/items?program=checkout&outcome=web", params={"cursor": cursor}, headers=VIEWER
    )
    assert other.status_code == 422
    assert "other filters" in other.json()["detail"][0]["msg"]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_export_by_accept_header_or_suffix(api: httpx.AsyncClient) -> None:
    by_accept = await api.get(FAST_PAY, headers={**VIEWER, "Accept": "text/csv"})
    by_suffix = await api.get("/api/items.csv?program=checkout&outcome=fast-pay", headers=VIEWER)
    for response in (by_accept, by_suffix):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = _rows(response.text)
        assert len(rows) == 41, "every item, not one page"
        assert rows[0]["source"] == "jira"
    assert by_accept.text == by_suffix.text
    assert (await api.get("/api/items.csv?program=nope", headers=VIEWER)).status_code == 404


async def test_csv_cells_never_start_a_formula(
    api: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    sessionmaker = make_sessionmaker(committed_engine)
    async with session_scope(sessionmaker) as session:
        source = await records.get_source(session, "jira")
        assert source is not None
        hostile = [
            make_item("PAY-900", title='=HYPERLINK("http://evil.test","x")', parent_key="PAY-1"),
            make_item("PAY-901", title="+1 and -1", assignee="@ana", parent_key="PAY-1"),
        ]
        await records.save_page(session, source.id, Page("PAY", hostile), now=data.NOW)
    await recompute(sessionmaker, api._transport.app.state.throughline.config, now=data.NOW)  # type: ignore[attr-defined]
    rows = {
        r["key"]: r
        for r in _rows((await api.get("/api/items.csv?source=jira", headers=VIEWER)).text)
    }
    assert rows["PAY-900"]["title"] == '\'=HYPERLINK("http://evil.test","x")'
    assert (rows["PAY-901"]["title"], rows["PAY-901"]["assignee"]) == ("'+1 and -1", "'@ana")


async def test_risks_export_as_csv(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/programs/checkout/risks.csv", headers=VIEWER)
    assert response.headers["content-type"].startswith("text/csv")
    (row,) = _rows(response.text)
    assert (row["rule"], row["severity"], row["items"]) == (
        "overdue_milestone",
        "critical",
        "PAY-7",
    )
    negotiated = await api.get(
        "/api/programs/checkout/risks", headers={**VIEWER, "Accept": "text/csv"}
    )
    assert negotiated.text == response.text


async def test_item_page_has_links_history_and_outcomes(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/items/jira/PAY-4", headers=VIEWER)).json()
    assert body["item"]["key"] == "PAY-4"
    assert body["timezone"] == "Europe/Berlin", "it feeds only checkout"
    assert {(link["direction"], link["key"]) for link in body["links"]} == {
        ("blocked_by", "PAY-3"),
        ("blocked_by", "WEB-1"),
    }
    assert body["feeds"] == [
        {
            "program": "checkout",
            "program_name": "Checkout v2",
            "outcome": "fast-pay",
            "outcome_name": "Pay in one click",
        }
    ]
    finished = (await api.get("/api/items/jira/PAY-100", headers=VIEWER)).json()
    assert [h["to"] for h in finished["history"]] == ["In Progress", "Done"]
    assert finished["history"][0]["at"].endswith("+01:00")
    missing = await api.get("/api/items/jira/NOPE-1", headers=VIEWER)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "There is no item 'NOPE-1' in source 'jira'."}


@pytest.mark.parametrize(
    "path",
    ["/api/items", "/api/items.csv", "/api/items/jira/PAY-4", "/api/programs/checkout/risks.csv"],
)
async def test_items_need_a_token(api: httpx.AsyncClient, path: str) -> None:
    assert (await api.get(path)).status_code == 401


async def test_openapi_documents_items_and_csv_with_examples(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in ("/api/items", "/api/items.csv", "/api/items/{source}/{key}"):
        assert path in paths
    listed = paths["/api/items"]["get"]["responses"]["200"]["content"]
    assert set(listed) == {"application/json", "text/csv"}
    assert listed["text/csv"]["example"].startswith("source,key,url,title")
    risks = paths["/api/programs/{key}/risks.csv"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in risks
    schemas = spec["components"]["schemas"]
    for name in ("Item", "ItemPage", "ItemDetail"):
        assert schemas[name].get("examples"), name
    assert "late" in schemas["ProgramStatus"]["properties"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/items?q=a%00b", None, 400),
        ("GET", "/api/programs/check%00out", None, 400),
        (
            "POST",
            "/api/programs/checkout/risks",
            {"title": "a\x00b", "probability": 1, "impact": 1},
            422,
        ),
        (
            "POST",
            "/api/programs/checkout/risks",
            {"title": "a\ud800", "probability": 1, "impact": 1},
            422,
        ),
        (
            "POST",
            "/api/programs/checkout/risks",
            {"title": "x", "probability": 1, "impact": 1, "items": ["\x00"]},
            422,
        ),
    ],
)
async def test_text_that_cannot_be_stored_is_refused_plainly(
    api: httpx.AsyncClient, method: str, path: str, body: object, status: int
) -> None:
    content = json.dumps(body).encode() if body is not None else None
    response = await api.request(
        method, path, content=content, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == status
    if status == 422:
        assert response.json()["detail"][0]["loc"][:2] == [
            "body",
            "items" if "items" in str(body) else "title",
        ]
