"""The connector against canned responses (respx), for paths the fake does not take."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from connectors.base import PaginationLoopError
from connectors.http import TrackerClient
from connectors.jira import JiraConnector

DATA = Path(__file__).parent / "data"
DC_BASE = "https://jira.example.com"
OAUTH_BASE = "https://api.atlassian.com/ex/jira/11223344-a1b2-3b33-c444-def123456789"
STATUSES = [{"id": "6", "name": "Closed", "statusCategory": {"key": "done"}}]
FIELDS = [
    {
        "id": "customfield_10014",
        "name": "Epic Link",
        "custom": True,
        "schema": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link"},
    },
    {
        "id": "customfield_10106",
        "name": "Story Points",
        "custom": True,
        "schema": {"type": "number"},
    },
]


def dc_issue() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((DATA / "dc_issue.json").read_text())
    return raw


def connector(base: str, **options: Any) -> JiraConnector:
    async def no_sleep(_: float) -> None:
        return None

    return JiraConnector(
        TrackerClient(httpx.AsyncClient(base_url=base), source="acme", sleep=no_sleep), **options
    )


def mock_site(
    router: respx.MockRouter, base: str, *, deployment: str, site_url: str | None = None
) -> None:
    router.get(f"{base}/rest/api/2/serverInfo").respond(
        json={"deploymentType": deployment, "baseUrl": site_url or base}
    )
    router.get(f"{base}/rest/api/2/field").respond(json=FIELDS)
    router.get(f"{base}/rest/api/2/status").respond(json=STATUSES)


@respx.mock(assert_all_mocked=True, assert_all_called=False)
async def test_a_malformed_issue_becomes_a_warning_and_the_page_goes_on(
    respx_mock: respx.MockRouter,
) -> None:
    mock_site(respx_mock, DC_BASE, deployment="DataCenter")
    broken = dc_issue() | {"id": "40011", "key": "CORE-18"}
    broken["fields"] = {k: v for k, v in broken["fields"].items() if k != "status"}
    respx_mock.post(f"{DC_BASE}/rest/api/2/search").respond(
        json={"startAt": 0, "maxResults": 50, "total": 2, "issues": [dc_issue(), broken]}
    )
    pages = [page async for page in connector(DC_BASE, projects=["CORE"]).fetch("CORE", None)]
    assert [i.key for p in pages for i in p.items] == ["CORE-17"]
    warnings = [w for p in pages for w in p.warnings]
    assert [(w.key, w.reason) for w in warnings] == [("CORE-18", "fields.status: Field required")]


@respx.mock(assert_all_mocked=True, assert_all_called=False)
async def test_data_center_refetches_an_issue_whose_embedded_history_was_cut(
    respx_mock: respx.MockRouter,
) -> None:
    mock_site(respx_mock, DC_BASE, deployment="DataCenter")
    cut = dc_issue()
    cut["changelog"] = {
        "startAt": 0,
        "maxResults": 1,
        "total": 3,
        "histories": cut["changelog"]["histories"][:1],
    }
    respx_mock.post(f"{DC_BASE}/rest/api/2/search").respond(
        json={"startAt": 0, "maxResults": 50, "total": 1, "issues": [cut]}
    )
    full = respx_mock.get(f"{DC_BASE}/rest/api/2/issue/40010").respond(json=dc_issue())
    pages = [page async for page in connector(DC_BASE, projects=["CORE"]).fetch("CORE", None)]
    assert full.called
    assert len(pages[0].items[0].transitions or ()) == 2


@respx.mock(assert_all_mocked=True, assert_all_called=False)
async def test_a_repeated_page_token_stops_the_sweep(respx_mock: respx.MockRouter) -> None:
    mock_site(respx_mock, OAUTH_BASE, deployment="Cloud")
    respx_mock.post(f"{OAUTH_BASE}/rest/api/3/search/jql").respond(
        json={"issues": [{"id": "1"}], "nextPageToken": "same", "isLast": False}
    )
    with pytest.raises(PaginationLoopError, match="repeated page token"):
        await connector(OAUTH_BASE).census("PAY")


@respx.mock(assert_all_mocked=True, assert_all_called=False)
async def test_oauth_base_urls_are_used_as_given_and_browse_links_use_the_site(
    respx_mock: respx.MockRouter,
) -> None:
    mock_site(respx_mock, OAUTH_BASE, deployment="Cloud", site_url="https://acme.atlassian.net")
    sweep = respx_mock.post(f"{OAUTH_BASE}/rest/api/3/search/jql").respond(
        json={"issues": [{"id": "11442"}], "isLast": True}
    )
    issue = json.loads((DATA / "cloud_issue.json").read_text())
    respx_mock.post(f"{OAUTH_BASE}/rest/api/3/issue/bulkfetch").respond(
        json={"issues": [issue], "issueErrors": []}
    )
    respx_mock.post(f"{OAUTH_BASE}/rest/api/3/changelog/bulkfetch").respond(
        json={"issueChangeLogs": []}
    )
    pages = [page async for page in connector(OAUTH_BASE).fetch("INDEV", None)]
    sent = json.loads(sweep.calls[0].request.content)
    assert sent == {
        "jql": 'project = "INDEV" ORDER BY id ASC',
        "fields": ["id"],
        "maxResults": 5000,
    }
    assert pages[0].items[0].url == "https://acme.atlassian.net/browse/INDEV-6"
    assert pages[0].items[0].transitions == ()
