"""``FakeJira``: an ASGI Jira, Cloud or Data Center, faithful to the API reference.

Cloud serves ``/search/jql`` (token paging, ids by default, 5,000 ids or 100 issues a
page), ``/issue/bulkfetch`` and ``/changelog/bulkfetch``, and answers the removed
``/search`` with 410 Gone. Data Center serves ``/rest/api/2/search`` (startAt/total,
default 50, cap 1,000, nothing past 10,000). Both check basic or bearer credentials, and
both take faults from a ``Faults`` plan. ``/_fake/...`` is the control API the demo, the
benchmarks and the webhook work use to change the site while a client reads it, and
``/browse/KEY`` the read-only page an issue's link opens (``pages``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from connectors.fake.jira import control, hooks_api, pages, search
from connectors.fake.jira.data import generate
from connectors.fake.jira.faults import Faults, rate_limited_headers
from connectors.fake.jira.jql import JqlError, Query, parse
from connectors.fake.jira.model import Issue, JiraData
from connectors.fake.jira.render import Renderer, requested_fields
from connectors.fake.jira.rendered import RenderedCache
from connectors.fake.jira.webhooks import Emitter
from connectors.fake.jira.wire import (
    ApiError,
    error,
)

RESULT_CACHE = 64


class FakeJira:
    """A Jira site in memory. Call it as an ASGI app; change it through its methods."""

    def __init__(
        self,
        data: JiraData,
        *,
        deployment: Literal["cloud", "datacenter"] = "cloud",
        email: str = "pm@example.com",
        token: str = "fake-token",  # noqa: S107 (a fake's credential)
        time_zone: str = "Pacific/Auckland",
        faults: Faults | None = None,
        site_url: str | None = None,
        dc_page_cap: int = search.DC_CAP,
        narrow_bulkfetch: bool = False,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        hidden_projects: Iterable[str] = (),
        hidden_issues: Iterable[str] = (),
    ) -> None:
        self.data = data
        self.cloud = deployment == "cloud"
        self.email, self.token = email, token
        self.zone = ZoneInfo(time_zone)
        self.faults = faults or Faults()
        self.site_url = site_url
        self.dc_page_cap = dc_page_cap
        self.narrow_bulkfetch = narrow_bulkfetch
        """Allow 1,000-issue bulk fetches of narrow field lists, as some newer sites do; by
        default the documented 100 holds."""
        self.hidden_projects = set(hidden_projects)
        """Projects the API user may not browse: absent from listings, unknown to JQL."""
        self.hidden_issues = {int(i) for i in hidden_issues}
        """Issues (by id) under issue-level security: never searched, 404 by id."""
        self.requests: dict[str, int] = {}
        self._hooks: list[tuple[int, Callable[[FakeJira], None]]] = []
        self._results: dict[str, tuple[int, list[tuple[int, ...]], list[Issue]]] = {}
        self._rendered = RenderedCache(data)
        self.changelog_orders: dict[tuple[str, frozenset[str]], tuple[int, list[Any]]] = {}
        """The histories a ``/changelog/bulkfetch`` chain pages through, in page order, by
        the ids asked for: its later pages are a bisection, not a re-sort."""
        self.webhooks = Emitter(self, transport=webhook_transport)
        self._app = Starlette(
            routes=self._routes()
            + hooks_api.routes(self, self._guard)
            + control.routes(self)
            + pages.routes(self)
        )

    @classmethod
    def generated(
        cls, n_issues: int, *, seed: int = 1, anchor: datetime | None = None, **options: Any
    ) -> FakeJira:
        """A site of ``n_issues`` generated issues whose history ends at ``anchor``.

        The default anchor is today's midnight UTC: the same seed gives the same site all
        day, and its dates stay recent.
        """
        when = anchor or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(generate(n_issues, seed=seed, anchor=when), **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())

    def after_requests(self, count: int, action: Callable[[FakeJira], None]) -> None:
        """Run ``action`` once the site has answered ``count`` more API requests."""
        self._hooks.append((self.request_count + count, action))

    # Changing the site, as its people would -------------------------------------------

    def issue_named(self, key: str) -> Issue:
        issue = self.data.get(key)
        if issue is None:
            raise KeyError(f"no issue {key!r} on the fake site")
        return issue

    def add(self, project: str, type_name: str, summary: str, **values: object) -> Issue:
        issue = self.data.add(project, type_name, summary, at=self.data.now(), **values)
        self.webhooks.issue_event("jira:issue_created", issue)
        return issue

    def edit(self, key: str, **changes: object) -> Issue:
        issue = self.issue_named(key)
        self.data.edit(issue, changes)
        self.webhooks.issue_event("jira:issue_updated", issue)
        return issue

    def edit_random(self, count: int, *, seed: int = 1) -> list[str]:
        """Retitle ``count`` issues chosen by ``seed``, a third of them also moving status."""
        rng = random.Random(seed)
        chosen = rng.sample(sorted(self.data.issues), min(count, len(self.data)))
        keys = []
        for n, issue_id in enumerate(chosen):
            issue = self.data.issues[issue_id]
            changes: dict[str, object] = {"summary": f"{issue.summary} (revised)"}
            if n % 3 == 0:
                changes["status"] = "In Progress" if issue.status.category == "new" else "Done"
            self.data.edit(issue, changes)
            self.webhooks.issue_event("jira:issue_updated", issue)
            keys.append(issue.key)
        return keys

    def delete(self, key: str) -> None:
        issue = self.issue_named(key)
        links = self.data.links_of(issue)
        self.webhooks.issue_event("jira:issue_deleted", issue)
        self.data.delete(issue)
        for link in links:
            self.webhooks.link_event("issuelink_deleted", link)

    def move(self, key: str, project: str) -> Issue:
        issue = self.issue_named(key)
        self.data.move(issue, project)
        self.webhooks.issue_event("jira:issue_updated", issue)
        return issue

    def link(self, outward: str, inward: str, type_name: str = "Blocks") -> None:
        ends = self.issue_named(outward), self.issue_named(inward)
        link = self.data.link(type_name, *ends, at=self.data.now())
        self.webhooks.link_event("issuelink_created", link)
        if self.cloud:
            # Jira Cloud also sends jira:issue_updated for both ends (dynamic webhooks,
            # which cannot subscribe to link events, see links through these).
            for end in ends:
                self.webhooks.issue_event("jira:issue_updated", end)

    def render_ahead(self, request: Request, fields: Iterable[str]) -> int:
        """Render every visible issue, as a bulk fetch of ``fields`` shows it and as an
        id sweep of ``/search/jql`` does, and every history, so that a client reading the
        site is served bytes rendered beforehand (as a real site's cost is not its
        client's); return how many issues were rendered."""
        renderer = self.renderer(request, version="3" if self.cloud else "2")
        wanted = requested_fields(list(fields), ["*navigable"])
        issues = [i for i in self.data.issues.values() if self.visible(i)]
        ids = frozenset({"id"})
        for issue in issues:
            renderer.issue_json(issue, wanted, changelog_cap=search.BULK_CHANGELOG_CAP)
            renderer.issue_json(issue, ids, changelog_cap=search.SEARCH_CHANGELOG_CAP)
            for history in issue.histories:
                renderer.history_json(history)
        return len(issues)

    def visible(self, issue: Issue) -> bool:
        """Whether the API user may see the issue (project permission, issue security)."""
        return issue.project.key not in self.hidden_projects and issue.id not in self.hidden_issues

    def _routes(self) -> list[Route]:
        api = "/rest/api/{version:str}"
        return [
            Route(f"{api}/serverInfo", self._guard(self.server_info)),
            Route(f"{api}/myself", self._guard(self.myself)),
            Route(f"{api}/field", self._guard(self.fields)),
            Route(f"{api}/status", self._guard(self.statuses)),
            Route(f"{api}/project", self._guard(self.projects)),
            Route(f"{api}/project/search", self._guard(self.project_search)),
            Route(
                f"{api}/search/jql",
                self._guard(partial(search.search_jql, self)),
                methods=["GET", "POST"],
            ),
            Route(
                f"{api}/search", self._guard(partial(search.search, self)), methods=["GET", "POST"]
            ),
            Route(
                f"{api}/issue/bulkfetch",
                self._guard(partial(search.bulkfetch, self)),
                methods=["POST"],
            ),
            Route(
                f"{api}/changelog/bulkfetch",
                self._guard(partial(search.changelogs, self)),
                methods=["POST"],
            ),
            Route(f"{api}/issue/{{key:str}}", self._guard(partial(search.issue, self))),
            Route(
                f"{api}/issue/{{key:str}}/changelog",
                self._guard(partial(search.issue_changelog, self)),
            ),
            Route(f"{api}/project/{{key:str}}", self._guard(self.project)),
        ]

    # The gate every API request passes: count, hooks, latency, auth, faults. ---------

    def _guard(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            name = request.url.path.split("/rest/api/", 1)[-1].split("/", 1)[-1]
            self.requests[name] = self.requests.get(name, 0) + 1
            self._run_hooks()
            if not self.cloud and request.path_params.get("version") == "3":
                return error(404, "null for uri: " + request.url.path)
            if self.faults.latency:
                await asyncio.sleep(self.faults.latency)
            try:
                self._authenticate(request)
                refusal = await self._fault()
                if refusal is not None:
                    return refusal
                answer = await handler(request)
                return answer if isinstance(answer, Response) else JSONResponse(answer)
            except ApiError as exc:
                return error(exc.status, *exc.messages, headers=exc.headers)
            except JqlError as exc:
                return error(400, str(exc))

        return endpoint

    def _run_hooks(self) -> None:
        due = [h for h in self._hooks if h[0] <= self.request_count]
        self._hooks = [h for h in self._hooks if h[0] > self.request_count]
        for _, action in due:
            action(self)

    def _authenticate(self, request: Request) -> None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value == self.token:
            return
        if scheme.lower() == "basic" and self.cloud:
            try:
                user, _, secret = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user = secret = ""
            if user == self.email and secret == self.token:
                return
        raise ApiError(401, "Client must be authenticated to access this resource.")

    async def _fault(self) -> Response | None:
        faults = self.faults
        if faults.hang_next > 0:
            faults.hang_next -= 1
            await asyncio.sleep(faults.hang_seconds)
        if faults.fail_next:
            status = faults.fail_next.popleft()
            headers = {"Retry-After": "1"} if status == 429 else {}
            return error(status, "Injected failure.", headers=headers)
        if faults.random_failure():
            return error(503, "Service Unavailable")
        bucket = faults.bucket()
        if bucket is not None:
            wait = bucket.take()
            if wait > 0:
                headers = rate_limited_headers(wait, bucket.rate)
                return error(429, "Rate limit exceeded.", headers=headers)
        return None

    def renderer(self, request: Request, *, version: str | None = None) -> Renderer:
        version = version or request.path_params.get("version", "2")
        api = "3" if self.cloud and version == "3" else "2"
        base = str(request.base_url).rstrip("/")
        view = (frozenset(self.hidden_projects), frozenset(self.hidden_issues))
        return Renderer(
            self.data, base, self.cloud, api, self.zone, self.visible, self._rendered, view
        )

    # Endpoints ------------------------------------------------------------------------

    async def server_info(self, request: Request) -> dict[str, Any]:
        return {
            "baseUrl": self.site_url or str(request.base_url).rstrip("/"),
            "version": "1001.0.0-SNAPSHOT" if self.cloud else "9.12.2",
            "versionNumbers": [1001, 0, 0] if self.cloud else [9, 12, 2],
            "deploymentType": "Cloud" if self.cloud else "DataCenter",
            "buildNumber": 100_000,
            "serverTime": datetime.now(self.zone).isoformat(timespec="milliseconds"),
            "serverTitle": "Jira",
        }

    async def myself(self, request: Request) -> dict[str, Any]:
        return {
            "accountId": "5b10a2844c20165700ede21g",
            "emailAddress": self.email,
            "displayName": "Program Manager",
            "active": True,
            "timeZone": self.zone.key,
            "locale": "en_US",
        }

    async def fields(self, request: Request) -> list[dict[str, Any]]:
        return self.renderer(request).field_catalogue()

    async def statuses(self, request: Request) -> list[dict[str, Any]]:
        return self.renderer(request).status_catalogue()

    async def projects(self, request: Request) -> list[dict[str, Any]]:
        return [
            {"id": p.id, "key": p.key, "name": p.name}
            for p in self.data.projects.values()
            if p.key not in self.hidden_projects
        ]

    async def project(self, request: Request) -> dict[str, Any]:
        asked = request.path_params["key"]
        found = next(
            (
                p
                for p in self.data.projects.values()
                if asked in (p.id, p.key) and p.key not in self.hidden_projects
            ),
            None,
        )
        if found is None:
            raise ApiError(404, f"No project could be found with key '{asked}'.")
        base = str(request.base_url).rstrip("/")
        version = request.path_params.get("version", "2")
        return {
            "self": f"{base}/rest/api/{version}/project/{found.id}",
            "id": found.id,
            "key": found.key,
            "name": found.name,
            "projectTypeKey": "software",
            "simplified": False,
            "style": "classic",
            "isPrivate": False,
            "components": [
                {"id": str(10_000 + n), "name": name} for n, name in enumerate(found.components)
            ],
            "issueTypes": self.renderer(request).issue_types(),
        }

    async def project_search(self, request: Request) -> dict[str, Any]:
        start = int(request.query_params.get("startAt", 0))
        size = min(int(request.query_params.get("maxResults", 50)), 100)
        everything = await self.projects(request)
        values = everything[start : start + size]
        return {
            "startAt": start,
            "maxResults": size,
            "total": len(everything),
            "isLast": start + size >= len(everything),
            "values": values,
        }

    def parse(self, text: str) -> Query:
        return parse(text, data=self.data, zone=self.zone, now=datetime.now(UTC))

    def stamp(self) -> int:
        """What a cached answer depends on: the site's version and what the user sees."""
        return hash((self.data.version, *sorted(self.hidden_projects), -1, *self.hidden_issues))

    def evaluate(self, text: str) -> tuple[list[tuple[int, ...]], list[Issue]]:
        """The sorted matches of a query and their sort keys, cached until the site changes.

        Paging a query page by page then costs a bisection, not a re-evaluation: without
        it a 100,000-issue site spends its time re-sorting rather than answering.
        """
        stamp = self.stamp()
        cached = self._results.get(text)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        query = self.parse(text)
        projects = sorted(query.projects) if query.projects is not None else None
        for key in sorted(set(projects or ()) & self.hidden_projects):
            raise JqlError(f"The value '{key}' does not exist for the field 'project'.")
        sort_key = query.sort_key(self.data)
        keyed = sorted(
            (
                (sort_key(i), i)
                for i in self.data.in_projects(projects)
                if query.predicate(i) and self.visible(i)
            ),
            key=lambda pair: pair[0],
        )
        keys, issues = [k for k, _ in keyed], [i for _, i in keyed]
        if len(self._results) >= RESULT_CACHE:
            self._results.pop(next(iter(self._results)))
        self._results[text] = (stamp, keys, issues)
        return keys, issues
