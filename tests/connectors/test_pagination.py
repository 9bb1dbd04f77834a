"""Paginators and the paging loop: stop on the tracker's word, never loop, never overrun."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from connectors.base import PaginationLoopError
from connectors.http import TrackerClient
from connectors.pagination import (
    OffsetPaginator,
    StartAtPaginator,
    TokenPaginator,
    decode_json,
    iter_pages,
)

BASE = "https://tracker.test"


def client() -> TrackerClient:
    return TrackerClient(httpx.AsyncClient(base_url=BASE), source="acme")


async def collect(**kwargs: object) -> list[dict[str, object]]:
    pages = iter_pages(client(), "/search", decode=decode_json, **kwargs)  # type: ignore[arg-type]
    return [page async for page in pages]


@respx.mock(assert_all_mocked=True)
async def test_token_paging_goes_on_past_a_short_page(respx_mock: respx.MockRouter) -> None:
    pages = [
        {"issues": [1], "nextPageToken": "a", "isLast": False},  # short, but not last
        {"issues": [2, 3], "nextPageToken": "b"},
        {"issues": [4], "isLast": True},
    ]
    route = respx_mock.post(f"{BASE}/search").side_effect = [
        httpx.Response(200, json=p) for p in pages
    ]
    got = await collect(
        paginator=TokenPaginator(), method="POST", json={"jql": "x", "maxResults": 3}
    )
    assert [p["issues"] for p in got] == [[1], [2, 3], [4]]
    bodies = [json.loads(c.request.content) for c in respx_mock.calls]
    assert [b.get("nextPageToken") for b in bodies] == [None, "a", "b"]
    assert route


@respx.mock(assert_all_mocked=True)
async def test_repeated_token_is_refused(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/search").mock(
        return_value=httpx.Response(200, json={"issues": [], "nextPageToken": "same"})
    )
    with pytest.raises(PaginationLoopError, match="repeated page token"):
        await collect(paginator=TokenPaginator())


@respx.mock(assert_all_mocked=True)
async def test_page_budget_stops_an_endless_listing(respx_mock: respx.MockRouter) -> None:
    counter = iter(range(1000))
    respx_mock.get(f"{BASE}/search").mock(
        side_effect=lambda _: httpx.Response(
            200, json={"issues": [], "nextPageToken": str(next(counter))}
        )
    )
    with pytest.raises(PaginationLoopError, match="past 3 pages"):
        await collect(paginator=TokenPaginator(), max_pages=3)


@respx.mock(assert_all_mocked=True)
async def test_start_at_advances_by_what_was_returned(respx_mock: respx.MockRouter) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("startAt", 0))
        # The server caps pages at 2 whatever maxResults asks for.
        issues = list(range(start, min(start + 2, 5)))
        return httpx.Response(
            200, json={"startAt": start, "maxResults": 2, "total": 5, "issues": issues}
        )

    respx_mock.get(f"{BASE}/search").mock(side_effect=answer)
    got = await collect(paginator=StartAtPaginator(), params={"maxResults": 50})
    assert [i for p in got for i in p["issues"]] == [0, 1, 2, 3, 4]


@respx.mock(assert_all_mocked=True)
async def test_offset_paging_stops_on_null_next_page(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/search").side_effect = [
        httpx.Response(
            200, json={"data": [1], "next_page": {"offset": "o1", "path": "/x", "uri": "u"}}
        ),
        httpx.Response(200, json={"data": [2], "next_page": None}),
    ]
    got = await collect(paginator=OffsetPaginator(), params={"limit": 100})
    assert [p["data"] for p in got] == [[1], [2]]
    assert respx_mock.calls[1].request.url.params["offset"] == "o1"
