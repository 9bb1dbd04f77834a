"""Reading a project's event stream: fresh tokens from 412s, paging on ``has_more``."""

from __future__ import annotations

import httpx
import pytest
import respx

from connectors.asana.events import read_changes
from connectors.base import ConnectorDataError
from connectors.http import TrackerClient

BASE = "https://asana.test/api/1.0"
EXPIRED = {"errors": [{"message": "Sync token invalid or too old."}], "sync": "fresh:1"}


def client() -> TrackerClient:
    return TrackerClient(httpx.AsyncClient(base_url=BASE), source="asana")


def event(action: str, gid: str, parent: dict[str, str] | None = None) -> dict[str, object]:
    return {
        "action": action,
        "resource": {"gid": gid, "resource_type": "task" if parent is None else "story"},
        "parent": parent,
        "created_at": "2026-06-02T08:01:00.123Z",
    }


@respx.mock(assert_all_mocked=True)
async def test_no_token_asks_for_one_and_says_the_project_must_be_read(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(f"{BASE}/events").mock(return_value=httpx.Response(412, json=EXPIRED))
    changes = await read_changes(client(), "9", None)
    assert (changes.token, changes.expired) == ("fresh:1", True)


@respx.mock(assert_all_mocked=True)
async def test_an_expired_token_gives_a_fresh_one(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{BASE}/events").mock(return_value=httpx.Response(412, json=EXPIRED))
    changes = await read_changes(client(), "9", "old:0")
    assert (changes.token, changes.expired) == ("fresh:1", True)
    assert route.calls.last.request.url.params["sync"] == "old:0"


@respx.mock(assert_all_mocked=True)
async def test_pages_are_followed_while_has_more_and_the_last_action_wins(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(f"{BASE}/events").side_effect = [
        httpx.Response(
            200,
            json={
                "data": [event("deleted", "1"), event("changed", "2")],
                "sync": "t2",
                "has_more": True,
            },
        ),
        httpx.Response(
            200,
            json={
                "data": [
                    event("undeleted", "1"),
                    event("added", "3", parent={"gid": "4", "resource_type": "task"}),
                    event("deleted", "5"),
                ],
                "sync": "t3",
                "has_more": False,
            },
        ),
    ]
    changes = await read_changes(client(), "9", "t1")
    assert (changes.token, changes.expired) == ("t3", False)
    assert changes.touched == {"1": "undeleted", "2": "changed", "4": "changed", "5": "deleted"}
    assert set(changes.deleted_at) == {"5"}


@respx.mock(assert_all_mocked=True)
async def test_a_412_without_a_token_is_a_data_error(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/events").mock(return_value=httpx.Response(412, json={"errors": []}))
    with pytest.raises(ConnectorDataError, match="without a sync token"):
        await read_changes(client(), "9", "old")
