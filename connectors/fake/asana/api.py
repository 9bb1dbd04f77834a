"""The Asana API endpoints the fake serves, under ``/api/1.0`` as Asana does."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.fake.asana import render, rendered
from connectors.fake.asana.envelope import ApiError, fields_of
from connectors.fake.asana.model import Task
from connectors.fake.asana.webhooks import HandshakeFailed, event_body
from connectors.fake.asana.world import ordered

if TYPE_CHECKING:
    from connectors.fake.asana.fake import FakeAsana

PREFIX = "/api/1.0"
SYNC_EXPIRED = (
    "Sync token invalid or too old. If you are attempting to keep resources in sync, you must "
    "fetch the full dataset for this query now and use the new sync token for the next sync."
)

Handler = Callable[["FakeAsana", Request], Any]


def routes(fake: FakeAsana) -> list[Route]:
    table: list[tuple[str, Handler, str]] = [
        ("/users/me", me, "GET"),
        ("/workspaces", workspaces, "GET"),
        ("/workspaces/{gid}/teams", teams, "GET"),
        ("/workspaces/{gid}/projects", workspace_projects, "GET"),
        ("/teams/{gid}/projects", team_projects, "GET"),
        ("/projects", projects, "GET"),
        ("/projects/{gid}", project, "GET"),
        ("/projects/{gid}/sections", sections, "GET"),
        ("/projects/{gid}/tasks", project_tasks, "GET"),
        ("/sections/{gid}/tasks", section_tasks, "GET"),
        ("/tasks", tasks, "GET"),
        ("/tasks/{gid}", task, "GET"),
        ("/tasks/{gid}/subtasks", subtasks, "GET"),
        ("/tasks/{gid}/stories", stories, "GET"),
        ("/tasks/{gid}/dependencies", dependencies, "GET"),
        ("/tasks/{gid}/dependents", dependents, "GET"),
        ("/portfolios", portfolios, "GET"),
        ("/portfolios/{gid}/items", portfolio_items, "GET"),
        ("/status_updates", status_updates, "GET"),
        ("/status_updates/{gid}", status_update, "GET"),
        ("/events", events, "GET"),
        ("/webhooks", create_webhook, "POST"),
        ("/webhooks", list_webhooks, "GET"),
        ("/webhooks/{gid}", delete_webhook, "DELETE"),
    ]
    return [
        Route(PREFIX + path, fake.endpoint(partial(handler, fake)), methods=[method])
        for path, handler, method in table
    ]


def _get(table: dict[str, Any], gid: str) -> Any:
    if gid not in table:
        raise ApiError(404, f"{gid}: Unknown object: {gid}")
    return table[gid]


def _when(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if value is None or value == "now":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{name}: Not a valid date-time: {value}") from None
    if moment.tzinfo is None:
        raise ApiError(400, f"{name}: A date-time needs a time zone: {value}")
    return moment


def _flag(request: Request, name: str) -> bool | None:
    """A boolean query parameter, in any case (the official SDK sends ``False``)."""
    value = request.query_params.get(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise ApiError(400, f"{name}: Not a boolean: {value}")
    return value.lower() == "true"


def _single(fake: FakeAsana, request: Request, record: dict[str, Any]) -> dict[str, Any]:
    return {"data": render.select(record, fields_of(request))}


def me(fake: FakeAsana, request: Request) -> dict[str, Any]:
    world = fake.world
    user = render.user(world, world.actor) or {}
    return _single(fake, request, {**user, "workspaces": [render.workspace(world)]})


def workspaces(fake: FakeAsana, request: Request) -> dict[str, Any]:
    return fake.page(request, [fake.world.workspace], lambda _: render.workspace(fake.world))


def teams(fake: FakeAsana, request: Request) -> dict[str, Any]:
    world = fake.world
    return fake.page(
        request,
        list(world.teams.values()),
        lambda t: {"gid": t.gid, "resource_type": "team", "name": t.name},
    )


def _projects(fake: FakeAsana, request: Request, keep: Callable[[Any], bool]) -> dict[str, Any]:
    archived = _flag(request, "archived")
    with fake.world.lock:
        chosen = [
            p
            for p in fake.world.projects.values()
            if keep(p) and (archived is None or p.archived == archived)
        ]
        return fake.page(request, chosen, lambda p: render.project(fake.world, p.gid))


def workspace_projects(fake: FakeAsana, request: Request) -> dict[str, Any]:
    return _projects(fake, request, lambda _: True)


def team_projects(fake: FakeAsana, request: Request) -> dict[str, Any]:
    team = request.path_params["gid"]
    _get(fake.world.teams, team)
    return _projects(fake, request, lambda p: p.team == team)


def projects(fake: FakeAsana, request: Request) -> dict[str, Any]:
    if "workspace" not in request.query_params and "team" not in request.query_params:
        raise ApiError(400, "workspace: Missing input")
    team = request.query_params.get("team")
    return _projects(fake, request, lambda p: team is None or p.team == team)


def project(fake: FakeAsana, request: Request) -> dict[str, Any]:
    gid = request.path_params["gid"]
    with fake.world.lock:
        _get(fake.world.projects, gid)
        return _single(fake, request, render.project(fake.world, gid))


def sections(fake: FakeAsana, request: Request) -> dict[str, Any]:
    with fake.world.lock:
        found = _get(fake.world.projects, request.path_params["gid"])
        return fake.page(request, found.sections, lambda s: render.section(fake.world, s))


def _task_listing(fake: FakeAsana, request: Request, gids: Iterable[str]) -> Response:
    """Tasks in order, filtered by ``modified_since`` and ``completed_since``."""
    modified_since = _when(request, "modified_since")
    completed_since = _when(request, "completed_since")
    only_open = request.query_params.get("completed_since") == "now"
    if fake.faults.edit_every:
        fake.stats["task_listings"] += 1
        if fake.stats["task_listings"] % fake.faults.edit_every == 0:
            fake.edit_some_task()
    world = fake.world
    with world.lock:
        chosen: list[Task] = []
        for found in ordered(gids, world.tasks):
            touched = found.touched_at or found.modified_at
            if modified_since is not None and touched < modified_since:
                continue
            if found.completed and (
                only_open
                or (
                    completed_since is not None
                    and (found.completed_at or touched) < completed_since
                )
            ):
                continue
            chosen.append(found)
        return fake.task_page(request, chosen)


def project_tasks(fake: FakeAsana, request: Request) -> Response:
    found = _get(fake.world.projects, request.path_params["gid"])
    return _task_listing(fake, request, list(found.tasks))


def section_tasks(fake: FakeAsana, request: Request) -> Response:
    gid = request.path_params["gid"]
    _get(fake.world.sections, gid)
    with fake.world.lock:
        return _task_listing(fake, request, fake.world.section_tasks(gid))


def tasks(fake: FakeAsana, request: Request) -> Response:
    params = request.query_params
    world = fake.world
    with world.lock:
        if "project" in params:
            gids = list(_get(world.projects, params["project"]).tasks)
        elif "section" in params:
            _get(world.sections, params["section"])
            gids = world.section_tasks(params["section"])
        elif "assignee" in params and "workspace" in params:
            gids = [t.gid for t in world.tasks.values() if t.assignee == params["assignee"]]
        else:
            raise ApiError(400, "workspace: Missing input")
        return _task_listing(fake, request, gids)


def task(fake: FakeAsana, request: Request) -> Response:
    """One task: the complete record, or exactly the ``opt_fields`` asked for."""
    with fake.world.lock:
        found = _get(fake.world.tasks, request.path_params["gid"])
        fields = request.query_params.get("opt_fields") or rendered.FULL
        return rendered.single_response(fake.rendered.task(found, fields))


def _related(fake: FakeAsana, request: Request, pick: Callable[[Task], list[str]]) -> Response:
    world = fake.world
    with world.lock:
        found = _get(world.tasks, request.path_params["gid"])
        return fake.task_page(request, ordered(pick(found), world.tasks))


def subtasks(fake: FakeAsana, request: Request) -> Response:
    return _related(fake, request, lambda t: t.subtasks)


def stories(fake: FakeAsana, request: Request) -> dict[str, Any]:
    """A task's stories, oldest first: comments and the changes Asana wrote down."""
    gid = request.path_params["gid"]
    world = fake.world
    fake.stats["story_listings"] += 1
    if gid in fake.faults.story_errors:
        raise ApiError(500, "Server Error")
    with world.lock:
        found = _get(world.tasks, gid)
        chosen = [world.stories[s] for s in found.stories]
        return fake.page(request, chosen, lambda s: render.story(world, s))


def dependencies(fake: FakeAsana, request: Request) -> Response:
    return _related(fake, request, lambda t: t.dependencies)


def dependents(fake: FakeAsana, request: Request) -> Response:
    return _related(fake, request, lambda t: t.dependents)


def _portfolio(fake: FakeAsana, gid: str) -> dict[str, Any]:
    found = fake.world.portfolios[gid]
    return {"gid": gid, "resource_type": "portfolio", "name": found.name}


def portfolios(fake: FakeAsana, request: Request) -> dict[str, Any]:
    if "workspace" not in request.query_params:
        raise ApiError(400, "workspace: Missing input")
    asked = request.query_params.get("owner", "me")
    owner = fake.world.actor if asked == "me" else asked
    # Regular users see only the portfolios they own.
    owned = [p.gid for p in fake.world.portfolios.values() if p.owner == owner]
    return fake.page(request, owned, lambda g: _portfolio(fake, g))


def portfolio_items(fake: FakeAsana, request: Request) -> dict[str, Any]:
    world = fake.world
    with world.lock:
        found = _get(world.portfolios, request.path_params["gid"])
        items = [g for g in found.items if g in world.projects or g in world.portfolios]
        return fake.page(
            request,
            items,
            lambda g: render.project(world, g) if g in world.projects else _portfolio(fake, g),
        )


def status_updates(fake: FakeAsana, request: Request) -> dict[str, Any]:
    parent = request.query_params.get("parent")
    if parent is None:
        raise ApiError(400, "parent: Missing input")
    since = _when(request, "created_since")
    world = fake.world
    with world.lock:
        found = _get(world.projects, parent)
        updates = [
            world.status_updates[g]
            for g in reversed(found.status_updates)
            if since is None or world.status_updates[g].created_at >= since
        ]
        return fake.page(request, updates, lambda u: render.status_update(world, u))


def status_update(fake: FakeAsana, request: Request) -> dict[str, Any]:
    with fake.world.lock:
        found = _get(fake.world.status_updates, request.path_params["gid"])
        return _single(fake, request, render.status_update(fake.world, found))


def events(fake: FakeAsana, request: Request) -> dict[str, Any]:
    """The Events API: 412 with a fresh token when the token is missing or too old."""
    resource = request.query_params.get("resource")
    if not resource:
        raise ApiError(400, "resource: Missing input")
    world = fake.world
    with world.lock:
        if resource not in world.projects and resource not in world.tasks:
            raise ApiError(404, f"resource: Unknown object: {resource}")
        position = fake.sync_position(resource, request.query_params.get("sync"))
        if position is None:
            fresh = fake.issue_sync_token(resource, len(world.events))
            raise ApiError(412, SYNC_EXPIRED, sync=fresh)
        found, more = world.events_after(resource, position, 100)
        upto = found[-1].seq if more else len(world.events)
        return {
            "data": [event_body(e) for e in found],
            "sync": fake.issue_sync_token(resource, upto),
            "has_more": more,
        }


async def create_webhook(fake: FakeAsana, request: Request) -> Response:
    try:
        body = await request.json()
        data = body["data"]
        resource, target = str(data["resource"]), str(data["target"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "data: Missing input (resource and target)") from None
    filters = data.get("filters") or []
    if resource not in fake.world.projects and resource not in fake.world.tasks:
        raise ApiError(404, f"resource: Unknown object: {resource}")
    fake.start_deliveries()
    try:
        hook = await fake.webhooks.establish(resource, target, filters)
    except HandshakeFailed as exc:
        raise ApiError(400, f"target: The handshake did not complete: {exc}") from None
    fake.send_heartbeats()
    return JSONResponse(
        {"data": hook.describe(fake.world), "X-Hook-Secret": hook.secret}, status_code=201
    )


def list_webhooks(fake: FakeAsana, request: Request) -> dict[str, Any]:
    if "workspace" not in request.query_params:
        raise ApiError(400, "workspace: Missing input")
    resource = request.query_params.get("resource")
    hooks = [h for h in fake.webhooks.webhooks.values() if resource in (None, h.resource)]
    return fake.page(request, hooks, lambda h: h.describe(fake.world))


def delete_webhook(fake: FakeAsana, request: Request) -> dict[str, Any]:
    _get(fake.webhooks.webhooks, request.path_params["gid"])
    del fake.webhooks.webhooks[request.path_params["gid"]]
    return {"data": {}}
