"""The fake Asana keeps the promises of the reference: envelopes, paging, fields, limits,
events and webhooks. In-process over ``httpx.ASGITransport``; nothing leaves the test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.asana.webhook import is_signed_by
from connectors.fake.asana import FakeAsana, generate

API = "http://asana.test/api/1.0"


@pytest.fixture
def fake() -> FakeAsana:
    return FakeAsana(generate(300, seed=3, projects=2), seed=3)


@pytest.fixture
async def http(fake: FakeAsana) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(fake)
    headers = {"Authorization": "Bearer t"}
    async with httpx.AsyncClient(transport=transport, base_url=API, headers=headers) as client:
        yield client
    await fake.aclose()


def first_project(fake: FakeAsana) -> str:
    return next(iter(fake.world.projects))


async def test_lists_are_paged_with_next_page_until_null(
    fake: FakeAsana, http: httpx.AsyncClient
) -> None:
    project = first_project(fake)
    params: dict[str, Any] = {"project": project, "limit": 40}
    seen: list[str] = []
    while True:
        body = (await http.get("/tasks", params=params)).json()
        seen += [t["gid"] for t in body["data"]]
        if body["next_page"] is None:
            break
        assert body["next_page"]["path"].startswith("/tasks?")
        assert body["next_page"]["uri"].startswith(API)
        params["offset"] = body["next_page"]["offset"]
    assert seen == fake.world.projects[project].tasks


async def test_without_limit_there_is_no_next_page_and_big_results_are_refused(
    fake: FakeAsana, http: httpx.AsyncClient
) -> None:
    small = (await http.get("/projects/" + first_project(fake) + "/sections")).json()
    assert "next_page" not in small
    many = generate(1_100, seed=1, projects=1)
    big = FakeAsana(many)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(big), base_url=API) as client:
        answer = await client.get(
            "/tasks",
            params={"project": next(iter(many.projects))},
            headers={"Authorization": "Bearer t"},
        )
    assert answer.status_code == 400
    assert "too large" in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize("limit", [0, 101])
async def test_limit_outside_1_to_100_is_a_400(
    fake: FakeAsana, http: httpx.AsyncClient, limit: int
) -> None:
    answer = await http.get("/tasks", params={"project": first_project(fake), "limit": limit})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["message"]


async def test_compact_by_default_and_exactly_the_fields_asked_for(
    fake: FakeAsana, http: httpx.AsyncClient
) -> None:
    params = {"project": first_project(fake), "limit": 5}
    compact = (await http.get("/tasks", params=params)).json()["data"][0]
    assert set(compact) == {"gid", "resource_type", "name", "resource_subtype"}
    asked = {**params, "opt_fields": "name,assignee.email,memberships.section.name"}
    task = (await http.get("/tasks", params=asked)).json()["data"][0]
    assert set(task) == {"gid", "name", "assignee", "memberships"}
    assert set(task["memberships"][0]) == {"section"}
    assert set(task["memberships"][0]["section"]) == {"gid", "name"}
    wrong = await http.get("/tasks", params={**params, "opt_fields": "nmae"})
    assert wrong.status_code == 400
    assert "nmae" in wrong.json()["errors"][0]["message"]


async def test_offsets_expire(fake: FakeAsana, http: httpx.AsyncClient) -> None:
    params: dict[str, Any] = {"project": first_project(fake), "limit": 10}
    offset = (await http.get("/tasks", params=params)).json()["next_page"]["offset"]
    fake.world.clock.advance(fake.faults.offset_ttl + 1)
    answer = await http.get("/tasks", params={**params, "offset": offset})
    assert answer.status_code == 400
    assert "expired" in answer.json()["errors"][0]["message"]


async def test_modified_since_sees_edits_and_moves_but_not_older_tasks(
    fake: FakeAsana, http: httpx.AsyncClient
) -> None:
    one, two = list(fake.world.projects)
    since = fake.world.clock.now().isoformat().replace("+00:00", "Z")
    edited = fake.world.projects[one].tasks[0]
    moved = fake.world.projects[one].tasks[1]
    fake.edit_task(edited, name="changed")
    modified_before = fake.world.tasks[moved].modified_at
    fake.move_task(moved, two, from_project=one)
    assert fake.world.tasks[moved].modified_at == modified_before
    params = {"modified_since": since, "limit": 100}
    in_one = (await http.get("/tasks", params={**params, "project": one})).json()["data"]
    in_two = (await http.get("/tasks", params={**params, "project": two})).json()["data"]
    assert [t["gid"] for t in in_one] == [edited]
    assert moved in [t["gid"] for t in in_two]


async def test_events_start_with_412_then_stream_changes_in_pages(
    fake: FakeAsana, http: httpx.AsyncClient
) -> None:
    project = first_project(fake)
    first = await http.get("/events", params={"resource": project})
    assert first.status_code == 412
    token = first.json()["sync"]
    tasks = list(fake.world.projects[project].tasks)
    for gid in tasks[:60]:
        fake.edit_task(gid, name="a", notes="b")
    fake.delete_task(tasks[70])
    page = (await http.get("/events", params={"resource": project, "sync": token})).json()
    assert (len(page["data"]), page["has_more"]) == (100, True)
    rest = (await http.get("/events", params={"resource": project, "sync": page["sync"]})).json()
    assert rest["has_more"] is False
    assert rest["data"][-1]["action"] == "deleted"
    assert rest["data"][-1]["resource"] == {"gid": tasks[70], "resource_type": "task"}
    fake.expire_sync_tokens()
    stale = await http.get("/events", params={"resource": project, "sync": rest["sync"]})
    assert stale.status_code == 412
    assert "Sync token invalid" in stale.json()["errors"][0]["message"]


async def test_quota_answers_429_with_retry_after_and_counts_rejections(
    fake: FakeAsana, http: httpx.AsyncClient
) -> None:
    fake.faults.requests_per_minute = 3
    statuses = [(await http.get("/workspaces")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = await http.get("/workspaces")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "rate limit" in limited.json()["errors"][0]["message"]


async def test_missing_or_unknown_tokens_are_401(fake: FakeAsana, http: httpx.AsyncClient) -> None:
    assert (await http.get("/workspaces", headers={"Authorization": ""})).status_code == 401
    fake.tokens = frozenset({"good"})
    answer = await http.get("/workspaces")
    assert (answer.status_code, answer.json()["errors"][0]["message"]) == (401, "Not Authorized")


async def test_webhooks_need_the_handshake_then_deliver_signed_batches(
    fake: FakeAsana,
) -> None:
    received: list[tuple[bytes, str | None]] = []
    secrets: list[str] = []

    async def target(request: Request) -> Response:
        secret = request.headers.get("X-Hook-Secret")
        if secret:
            secrets.append(secret)
            return Response(status_code=204, headers={"X-Hook-Secret": secret})
        received.append((await request.body(), request.headers.get("X-Hook-Signature")))
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/hook", target, methods=["POST"])])
    hooked = FakeAsana(fake.world, delivery_transport=httpx.ASGITransport(receiver))
    project = first_project(fake)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(hooked), base_url=API, headers={"Authorization": "Bearer t"}
    ) as http:
        created = await http.post(
            "/webhooks", json={"data": {"resource": project, "target": "http://me.test/hook"}}
        )
        assert created.status_code == 201
        secret = created.json()["X-Hook-Secret"]
        assert secrets == [secret]
        await delivered(received, 1)
        fake.edit_task(fake.world.projects[project].tasks[0], name="webhooked")
        await delivered(received, 2)
    await hooked.aclose()
    bodies = [json.loads(body) for body, _ in received]
    assert bodies[0] == {"events": []}, "the first delivery is a heartbeat"
    assert bodies[1]["events"][0]["action"] == "changed"
    assert all(is_signed_by(secret, body, signature) for body, signature in received)


async def delivered(received: list[Any], count: int) -> None:
    """Wait (a bounded while) for the fake's delivery loop to have posted ``count`` times."""
    for _ in range(200):
        if len(received) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {len(received)} of {count} deliveries arrived")


async def test_a_target_that_does_not_echo_the_secret_gets_no_webhook(
    fake: FakeAsana, http: httpx.AsyncClient
) -> None:
    silent = Starlette(routes=[Route("/hook", lambda r: Response(), methods=["POST"])])
    fake.webhooks._transport = httpx.ASGITransport(silent)
    answer = await http.post(
        "/webhooks",
        json={"data": {"resource": first_project(fake), "target": "http://x.test/hook"}},
    )
    assert answer.status_code == 400
    assert fake.webhooks.webhooks == {}


async def test_control_api_changes_the_world(fake: FakeAsana) -> None:
    project = first_project(fake)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(fake), base_url="http://asana.test"
    ) as control:
        gid = (
            await control.post("/_fake/tasks", json={"name": "Via HTTP", "project": project})
        ).json()["gid"]
        await control.patch(f"/_fake/tasks/{gid}", json={"name": "Renamed via HTTP"})
        await control.post("/_fake/faults", json={"latency": 0.0, "error_rate": 0.0})
        assert fake.world.tasks[gid].name == "Renamed via HTTP"
        await control.delete(f"/_fake/tasks/{gid}")
        bad = await control.post("/_fake/faults", json={"nonsense": 1})
    assert gid not in fake.world.tasks
    assert bad.status_code == 400


def test_the_same_seed_builds_the_same_workspace() -> None:
    one, two = generate(500, seed=9), generate(500, seed=9)
    assert [(t.gid, t.name, t.modified_at) for t in one.tasks.values()] == [
        (t.gid, t.name, t.modified_at) for t in two.tasks.values()
    ]
    assert generate(500, seed=10).tasks.keys() != one.tasks.keys() or [
        t.name for t in generate(500, seed=10).tasks.values()
    ] != [t.name for t in one.tasks.values()]


async def test_tasks_are_rendered_once_per_change_and_every_change_shows(
    fake: FakeAsana, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listings are put together from task JSON rendered once; a change of any kind (a
    method of the world, a record assigned to directly, a deletion) is served at once."""
    from connectors.fake.asana import render

    rendered: list[str] = []
    real = render.task

    def counted(world: Any, task: Any) -> dict[str, Any]:
        rendered.append(task.gid)
        return real(world, task)

    monkeypatch.setattr(render, "task", counted)
    project = first_project(fake)
    params: dict[str, str | int] = {
        "project": project,
        "limit": 100,
        "opt_fields": "name,num_subtasks,assignee.name",
    }

    async def listing() -> bytes:
        response = await http.get("/tasks", params=params)
        assert response.status_code == 200
        return response.content

    first = await listing()
    assert len(rendered) == len(json.loads(first)["data"])
    again = await listing()
    assert again.split(b',"next_page"')[0] == first.split(b',"next_page"')[0]
    assert len(rendered) == len(json.loads(first)["data"]), "nothing rendered again"

    world = fake.world
    one, two = fake.world.projects[project].tasks[:2]
    world.edit_task(one, name="Renamed by a method")
    world.tasks[two].name = "Renamed directly"
    parent = next(t for t in world.tasks.values() if t.subtasks and project in t.projects)
    world.delete_task(parent.subtasks[0])
    body = {t["gid"]: t for t in json.loads(await listing())["data"]}
    assert body[one]["name"] == "Renamed by a method"
    assert body[two]["name"] == "Renamed directly"
    assert body[parent.gid]["num_subtasks"] == len(parent.subtasks)
    single = (await http.get(f"/tasks/{one}")).json()["data"]
    assert single["name"] == "Renamed by a method"
    assert "custom_fields" in single


async def test_a_tasks_stories_are_paged_compact_by_default_and_cut_to_the_fields_asked(
    fake: FakeAsana, http: httpx.AsyncClient
) -> None:
    world = fake.world
    project = world.projects[first_project(fake)]
    gid = next(g for g in project.tasks if world.tasks[g].memberships[0][1] == project.sections[-1])
    for n in range(7):
        fake.comment(gid, f"note {n}")
    path = f"/tasks/{gid}/stories"
    compact = (await http.get(path)).json()["data"]
    assert [s["gid"] for s in compact] == world.tasks[gid].stories  # oldest first
    assert set(compact[0]) == {
        "gid", "resource_type", "created_at", "created_by", "resource_subtype", "text"
    }  # fmt: skip
    fields = "resource_subtype,created_at,old_section.name,new_section.name,project"
    params: dict[str, Any] = {"opt_fields": fields, "limit": 4}
    seen: list[dict[str, Any]] = []
    while True:
        body = (await http.get(path, params=params)).json()
        seen += body["data"]
        if body["next_page"] is None:
            break
        params["offset"] = body["next_page"]["offset"]
    assert [s["gid"] for s in seen] == world.tasks[gid].stories
    moves = [s for s in seen if s["resource_subtype"] == "section_changed"]
    assert moves
    assert set(moves[0]) == {"gid", "resource_subtype", "created_at", "old_section", "new_section"}
    assert set(moves[0]["new_section"]) == {"gid", "name"}
    comment = next(s for s in seen if s["resource_subtype"] == "comment_added")
    assert "new_section" not in comment  # conditional: only on the stories that have it
    assert [s["resource_subtype"] for s in seen][-7:] == ["comment_added"] * 7
    assert (await http.get("/tasks/1/stories")).status_code == 404
    assert (await http.get(path, params={"opt_fields": "nwe_section"})).status_code == 400
    fake.faults.story_errors = [gid]
    assert (await http.get(path)).status_code == 500
