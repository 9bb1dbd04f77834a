"""The fake's control API under ``/_fake``: faults, clock, expiry and edits over HTTP.

The benchmark and the demo serve the fake in another process; these routes let them change
it there as the Python methods do in-process. No auth: the fake listens on loopback only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from connectors.fake.asana.fake import FakeAsana

Handler = Callable[["FakeAsana", Request, dict[str, Any]], Any]


def routes(fake: FakeAsana) -> list[Route]:
    table: list[tuple[str, Handler, str]] = [
        ("/_fake/faults", set_faults, "POST"),
        ("/_fake/stats", stats, "GET"),
        ("/_fake/expire", expire, "POST"),
        ("/_fake/clock", advance_clock, "POST"),
        ("/_fake/heartbeats", heartbeats, "POST"),
        ("/_fake/tasks", add_task, "POST"),
        ("/_fake/tasks/{gid}", edit_task, "PATCH"),
        ("/_fake/tasks/{gid}", delete_task, "DELETE"),
        ("/_fake/tasks/{gid}/move", move_task, "POST"),
        ("/_fake/status_updates", add_status_update, "POST"),
    ]
    return [Route(path, _json(fake, handler), methods=[method]) for path, handler, method in table]


def _json(fake: FakeAsana, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        body = await request.json() if await request.body() else {}
        try:
            result = handler(fake, request, body if isinstance(body, dict) else {})
        except (KeyError, ValueError, TypeError) as exc:
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)
        return JSONResponse(result if result is not None else {"ok": True})

    return endpoint


def set_faults(fake: FakeAsana, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    fake.faults.update(body)
    return {"faults": {k: getattr(fake.faults, k) for k in body}}


def stats(fake: FakeAsana, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    return {"stats": dict(fake.stats), "tasks": len(fake.world.tasks)}


def expire(fake: FakeAsana, request: Request, body: dict[str, Any]) -> None:
    if body.get("offsets", True):
        fake.expire_offsets()
    if body.get("sync_tokens", True):
        fake.expire_sync_tokens()


def advance_clock(fake: FakeAsana, request: Request, body: dict[str, Any]) -> None:
    fake.world.clock.advance(float(body["seconds"]))


def heartbeats(fake: FakeAsana, request: Request, body: dict[str, Any]) -> None:
    fake.send_heartbeats()


def add_task(fake: FakeAsana, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    name = str(body.pop("name"))
    return {"gid": fake.add_task(name, **body)}


def edit_task(fake: FakeAsana, request: Request, body: dict[str, Any]) -> None:
    fake.edit_task(request.path_params["gid"], **body)


def delete_task(fake: FakeAsana, request: Request, body: dict[str, Any]) -> None:
    fake.delete_task(request.path_params["gid"])


def move_task(fake: FakeAsana, request: Request, body: dict[str, Any]) -> None:
    fake.move_task(
        request.path_params["gid"], str(body["to_project"]), from_project=body.get("from_project")
    )


def add_status_update(fake: FakeAsana, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    author = body.get("author") or fake.world.actor or ""
    gid = fake.world.add_status_update(
        str(body["project"]),
        str(body["status_type"]),
        str(body.get("text", "")),
        title=str(body.get("title", "")),
        author=author,
    )
    return {"gid": gid}
