"""The fake's control API (``/_fake/...``): change the site while a client reads it.

Unauthenticated on purpose: it is the test harness's door, not part of Jira's API.
"""

from __future__ import annotations

from collections import deque
from datetime import date
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from connectors.fake.jira.app import FakeJira

_DATES = ("due", "start")
_FAULTS = ("rate_limit", "burst", "error_rate", "hang_next", "hang_seconds", "search_lag")
_COUNTED = ("issue_errors", "left_out")
"""Issue id → how many more bulk answers the fault applies to."""
_SETS = ("unreadable", "unindexed")


def routes(fake: FakeJira) -> list[Route]:
    async def stats(request: Request) -> Response:
        return JSONResponse({"issues": len(fake.data), "requests": fake.requests})

    async def create(request: Request) -> Response:
        body = await request.json()
        issue = fake.add(body["project"], body.get("type", "Task"), body["summary"])
        return JSONResponse({"id": str(issue.id), "key": issue.key}, status_code=201)

    async def change(request: Request) -> Response:
        key = request.path_params["key"]
        if request.method == "DELETE":
            fake.delete(key)
            return Response(status_code=204)
        body = await request.json()
        changes = {k: date.fromisoformat(v) if k in _DATES and v else v for k, v in body.items()}
        fake.edit(key, **changes)
        return Response(status_code=204)

    async def move(request: Request) -> Response:
        body = await request.json()
        issue = fake.move(request.path_params["key"], body["project"])
        return JSONResponse({"id": str(issue.id), "key": issue.key})

    async def edit_random(request: Request) -> Response:
        body = await request.json()
        keys = fake.edit_random(int(body["count"]), seed=int(body.get("seed", 1)))
        return JSONResponse({"edited": keys})

    async def link(request: Request) -> Response:
        body = await request.json()
        fake.link(body["outward"], body["inward"], body.get("type", "Blocks"))
        return Response(status_code=201)

    async def faults(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        plan = fake.faults
        if "latency_ms" in body:
            plan.latency = float(body["latency_ms"]) / 1000
        if "fail_next" in body:
            plan.fail_next = deque(int(s) for s in body["fail_next"])
        for name in _FAULTS:
            if name in body:
                setattr(plan, name, body[name])
        for name in _COUNTED:
            if name in body:
                setattr(plan, name, {str(k): int(v) for k, v in body[name].items()})
        for name in _SETS:
            if name in body:
                setattr(plan, name, {str(v) for v in body[name]})
        return Response(status_code=204)

    async def render_ahead(request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"rendered": fake.render_ahead(request, body["fields"])})

    return [
        Route("/_fake/stats", stats),
        Route("/_fake/render-ahead", render_ahead, methods=["POST"]),
        Route("/_fake/issues", create, methods=["POST"]),
        Route("/_fake/issues/{key:str}", change, methods=["PATCH", "DELETE"]),
        Route("/_fake/issues/{key:str}/move", move, methods=["POST"]),
        Route("/_fake/links", link, methods=["POST"]),
        Route("/_fake/edit-random", edit_random, methods=["POST"]),
        Route("/_fake/faults", faults, methods=["POST"]),
    ]
