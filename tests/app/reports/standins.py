"""Local stand-ins for the services reports, digests and alerts are delivered to.

``Confluence`` keeps pages in memory and answers like Confluence Cloud's v2 pages API
(``/wiki/api/v2/spaces``, ``/wiki/api/v2/pages``) and the v1 content API
(``/wiki/rest/api/content``); with ``v2=False`` it answers 404 under ``/api/v2`` as Data
Center does. ``fail_next`` makes the next requests answer those statuses. Mount it on a
respx router (``mount``) so a channel's own HTTP client reaches it. ``Receiver`` records
what a Slack incoming webhook or a generic webhook receives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

WIKI = "https://acme.atlassian.test/wiki"
SPACE_ID = "98304"


@dataclass
class StoredPage:
    id: str
    title: str
    space_key: str
    parent_id: str | None
    body: str
    version: int = 1


@dataclass
class Confluence:
    v2: bool = True
    space_key: str = "PM"
    pages: dict[str, StoredPage] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/wiki/api/v2/spaces", self._spaces),
                Route("/wiki/api/v2/pages", self._v2_pages, methods=["GET", "POST"]),
                Route("/wiki/api/v2/pages/{id}", self._v2_page, methods=["PUT"]),
                Route("/wiki/rest/api/content", self._v1_content, methods=["GET", "POST"]),
                Route("/wiki/rest/api/content/{id}", self._v1_page, methods=["PUT"]),
            ]
        )

    def mount(self, router: respx.MockRouter) -> None:
        router.route(host="acme.atlassian.test").mock(side_effect=respx.ASGIHandler(self.app()))

    def _page_out(self, page: StoredPage, *, v2: bool) -> dict[str, Any]:
        common = {
            "id": page.id,
            "title": page.title,
            "status": "current",
            "version": {"number": page.version},
            "_links": {"webui": f"/spaces/{page.space_key}/pages/{page.id}", "base": WIKI},
        }
        return common | ({"spaceId": SPACE_ID, "parentId": page.parent_id} if v2 else {})

    async def _guard(self, request: Request) -> Response | None:
        self.calls.append((request.method, request.url.path))
        self.auth.append(request.headers.get("authorization", ""))
        if self.fail_next:
            return PlainTextResponse("busy", status_code=self.fail_next.pop(0))
        if request.url.path.startswith("/wiki/api/v2") and not self.v2:
            return PlainTextResponse("Not Found", status_code=404)
        return None

    async def _spaces(self, request: Request) -> Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        keys = request.query_params.get("keys", "").split(",")
        found = [{"id": SPACE_ID, "key": self.space_key}] if self.space_key in keys else []
        return JSONResponse({"results": found, "_links": {"base": WIKI}})

    def _new(self, title: str, space_key: str, parent: str | None, body: str) -> StoredPage:
        page = StoredPage(str(700 + len(self.pages)), title, space_key, parent, body)
        self.pages[page.id] = page
        return page

    def _titled(self, title: str | None) -> list[StoredPage]:
        return [p for p in self.pages.values() if p.title == title]

    async def _v2_pages(self, request: Request) -> Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        if request.method == "GET":
            assert request.query_params.get("space-id") == SPACE_ID
            found = self._titled(request.query_params.get("title"))
            return JSONResponse({"results": [self._page_out(p, v2=True) for p in found]})
        data = json.loads(await request.body())
        assert data["spaceId"] == SPACE_ID
        assert data["status"] == "current"
        assert data["body"]["representation"] == "storage"
        page = self._new(data["title"], self.space_key, data.get("parentId"), data["body"]["value"])
        return JSONResponse(self._page_out(page, v2=True))

    async def _v2_page(self, request: Request) -> Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        return self._update(request.path_params["id"], json.loads(await request.body()), v2=True)

    def _update(self, page_id: str, data: dict[str, Any], *, v2: bool) -> Response:
        page = self.pages[page_id]
        if data["version"]["number"] != page.version + 1:
            return JSONResponse({"message": "Version must be incremented"}, status_code=409)
        page.version += 1
        page.title = data["title"]
        page.body = data["body"]["value"] if v2 else data["body"]["storage"]["value"]
        return JSONResponse(self._page_out(page, v2=v2))

    async def _v1_content(self, request: Request) -> Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        if request.method == "GET":
            found = self._titled(request.query_params.get("title"))
            return JSONResponse({"results": [self._page_out(p, v2=False) for p in found]})
        data = json.loads(await request.body())
        parent = (data.get("ancestors") or [{}])[0].get("id")
        page = self._new(
            data["title"], data["space"]["key"], parent, data["body"]["storage"]["value"]
        )
        return JSONResponse(self._page_out(page, v2=False))

    async def _v1_page(self, request: Request) -> Response:
        if (refused := await self._guard(request)) is not None:
            return refused
        return self._update(request.path_params["id"], json.loads(await request.body()), v2=False)


@dataclass
class Receiver:
    """What a Slack incoming webhook or a generic webhook receiver is sent."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[httpx.Headers] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        self.headers.append(request.headers)
        status = self.answers.pop(0) if self.answers else 200
        return httpx.Response(status, text="ok" if status == 200 else "failed")
