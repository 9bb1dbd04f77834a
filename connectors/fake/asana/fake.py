"""``FakeAsana``: the ASGI app, its request guard, paging and tokens, and the Python controls.

Every API request passes one guard — bearer auth, scripted failures, the per-minute quota
(429 + ``Retry-After``), the concurrent-read limit, random server errors, latency — before
its handler reads the world under the world's lock. Offsets and sync tokens are opaque
strings the fake remembers with the time it issued them, so both can expire.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from connectors.fake.asana import api, control, pages, rendered
from connectors.fake.asana.data import generate
from connectors.fake.asana.envelope import ApiError, fields_of
from connectors.fake.asana.faults import Faults, QuotaWindow
from connectors.fake.asana.model import Task
from connectors.fake.asana.render import UnknownField, select
from connectors.fake.asana.webhooks import Deliverer
from connectors.fake.asana.world import World

TOO_LARGE = (
    "The result is too large. You should use pagination (may require specifying a workspace)!"
)
# The wording of these two is not documented (see shared/reference/asana-api.md §3); what
# is known is the status (400) and, for truncation, that the message says so.
TRUNCATED = (
    "The result is too large to serve in full and was truncated; split the query "
    "(for example by section)."
)
EXPIRED_OFFSET = "offset: Your pagination token has expired; start again without an offset."
RATE_LIMITED = (
    "You've made too many requests and hit a rate limit. Please retry after the time in "
    "the Retry-After header."
)
UNPAGINATED_MAX = 1_000


class FakeAsana:
    """A faithful in-memory Asana: serve it (it is an ASGI app) and change it from Python."""

    def __init__(
        self,
        world: World | None = None,
        *,
        tokens: Iterable[str] | None = None,
        seed: int = 1,
        delivery_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.world = world or generate(seed=seed)
        self.faults = Faults()
        self.tokens = frozenset(tokens) if tokens is not None else None
        self.stats: Counter[str] = Counter()
        self.webhooks = Deliverer(self.world, transport=delivery_transport)
        self._rng = random.Random(seed)
        self._quota = QuotaWindow()
        self._in_flight = 0
        self._offsets: dict[str, tuple[str, int, float]] = {}
        self._sync_tokens: dict[str, tuple[str, int, float]] = {}
        self._issued = 0
        self._delivery: asyncio.Task[None] | None = None
        self._app = Starlette(
            routes=[*api.routes(self), *control.routes(self), *pages.routes(self)]
        )
        self.world.keep_event = self._keep_event
        self.rendered = rendered.RenderedTasks(self.world)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    def start_deliveries(self) -> None:
        """Deliver webhook events from the serving loop (started with the first webhook)."""
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.get_running_loop().create_task(self.webhooks.run())

    async def aclose(self) -> None:
        """Stop delivering and close the delivery client."""
        if self._delivery is not None:
            self._delivery.cancel()
            await asyncio.gather(self._delivery, return_exceptions=True)
        await self.webhooks.aclose()

    # The guard and the envelope ------------------------------------------------------

    def endpoint(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        """Wrap a handler in the guard and turn ``ApiError`` into Asana's error envelope."""

        async def guarded(request: Request) -> Response:
            self.stats["requests"] += 1
            try:
                self._authenticate(request)
                headers = self._admit(request)
                if headers is not None:
                    return ApiError(429, RATE_LIMITED).response(headers)
                self._in_flight += 1
                try:
                    if self.faults.latency:
                        await asyncio.sleep(self.faults.latency)
                    result = handler(request)
                    if asyncio.iscoroutine(result):
                        result = await result
                finally:
                    self._in_flight -= 1
            except ApiError as exc:
                return exc.response()
            except UnknownField as exc:
                return ApiError(400, str(exc)).response()
            return result if isinstance(result, Response) else JSONResponse(result)

        return guarded

    def _authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if (
            scheme.lower() != "bearer"
            or not token
            or (self.tokens is not None and token not in self.tokens)
        ):
            self.stats["unauthorized"] += 1
            raise ApiError(401, "Not Authorized")

    def _admit(self, request: Request) -> dict[str, str] | None:
        """Scripted failures, quota and concurrency; the headers of a 429, else None."""
        faults = self.faults
        if faults.fail_next:
            status = faults.fail_next.pop(0)
            if status == 429:
                self.stats["rate_limited"] += 1
                scripted = 1 if faults.retry_after is None else faults.retry_after
                return {"Retry-After": str(scripted)}
            raise ApiError(status, "Server Error" if status >= 500 else "Scripted failure")
        quota_wait = self._quota.admit(faults.requests_per_minute)
        if quota_wait is not None:
            self.stats["rate_limited"] += 1
            return {"Retry-After": str(quota_wait)}
        if request.method == "GET" and self._in_flight >= faults.max_concurrent_reads:
            self.stats["rate_limited"] += 1
            return {"Retry-After": "1"}
        if faults.error_rate and self._rng.random() < faults.error_rate:
            self.stats["errors"] += 1
            raise ApiError(faults.error_status, "Server Error")
        return None

    def _keep_event(self) -> bool:
        if self.faults.drop_events > 0:
            self.faults.drop_events -= 1
            self.stats["events_dropped"] += 1
            return False
        return True

    # Paging ----------------------------------------------------------------------------

    def page(
        self, request: Request, records: Sequence[Any], render: Callable[[Any], dict[str, Any]]
    ) -> dict[str, Any]:
        """One page of a listing with ``next_page``, or all of it when no limit was sent."""
        tree = fields_of(request)
        chosen, after = self._paged(request, records)
        return {"data": [select(render(r), tree) for r in chosen], **after}

    def task_page(self, request: Request, tasks: Sequence[Task]) -> Response:
        """``page`` of tasks, from their pre-rendered JSON (``rendered``)."""
        fields = request.query_params.get("opt_fields") or None
        chosen, after = self._paged(request, tasks)
        return rendered.data_response((self.rendered.task(t, fields) for t in chosen), **after)

    def _paged(
        self, request: Request, records: Sequence[Any]
    ) -> tuple[Sequence[Any], dict[str, Any]]:
        """The records of the page asked for, and what follows ``data`` in its answer."""
        params = request.query_params
        if "limit" not in params:
            if len(records) > UNPAGINATED_MAX:
                raise ApiError(400, TOO_LARGE)
            return records, {}
        limit = _int(params["limit"], "limit")
        if not 1 <= limit <= 100:
            raise ApiError(400, "limit: Must be between 1 and 100")
        listing = _listing_key(request)
        start = self._offset_start(params.get("offset"), listing)
        end = start + limit
        cap = self.faults.too_large
        if cap is not None and len(records) > cap and end > cap:
            raise ApiError(400, TRUNCATED)
        following = self._next_page(request, listing, end) if end < len(records) else None
        return records[start:end], {"next_page": following}

    def _offset_start(self, offset: str | None, listing: str) -> int:
        if offset is None:
            return 0
        issued = self._offsets.get(offset)
        if issued is None or issued[0] != listing:
            raise ApiError(400, "offset: Invalid offset")
        if self.world.clock.now().timestamp() - issued[2] > self.faults.offset_ttl:
            raise ApiError(400, EXPIRED_OFFSET)
        return issued[1]

    def _next_page(self, request: Request, listing: str, start: int) -> dict[str, str]:
        self._issued += 1
        claims = json.dumps({"i": start, "n": self._issued}).encode()
        token = base64.urlsafe_b64encode(claims).decode().rstrip("=")
        self._offsets[token] = (listing, start, self.world.clock.now().timestamp())
        query = httpx.QueryParams({k: v for k, v in request.query_params.items() if k != "offset"})
        path = f"{request.url.path.removeprefix(api.PREFIX)}?{query.set('offset', token)}"
        return {"offset": token, "path": path, "uri": f"{_base_url(request)}{path}"}

    # Sync tokens -----------------------------------------------------------------------

    def issue_sync_token(self, resource: str, seq: int) -> str:
        self._issued += 1
        token = f"{self._issued:x}{self._rng.getrandbits(64):016x}:{seq}"
        self._sync_tokens[token] = (resource, seq, self.world.clock.now().timestamp())
        return token

    def sync_position(self, resource: str, token: str | None) -> int | None:
        """The event sequence a token stands for, or None when it is missing or too old."""
        issued = self._sync_tokens.get(token or "")
        if issued is None or issued[0] != resource:
            return None
        if self.world.clock.now().timestamp() - issued[2] > self.faults.sync_token_ttl:
            return None
        return issued[1]

    # Python controls (the demo, the tests and the webhook feature use these) -----------

    def expire_offsets(self) -> None:
        self._offsets.clear()

    def expire_sync_tokens(self) -> None:
        self._sync_tokens.clear()

    def send_heartbeats(self) -> None:
        self.webhooks.heartbeat_due = True

    def add_task(self, name: str, **values: Any) -> str:
        return self.world.add_task(name, **values)

    def edit_task(self, gid: str, **changes: Any) -> None:
        self.world.edit_task(gid, **changes)

    def delete_task(self, gid: str, *, quiet: bool = False) -> None:
        self.world.delete_task(gid, quiet=quiet)

    def comment(self, gid: str, text: str) -> str:
        return self.world.add_story(gid, text)

    def move_task(self, gid: str, to_project: str, *, from_project: str | None = None) -> None:
        self.world.move_task(gid, to_project, from_project=from_project)

    def edit_some_task(self) -> str:
        """Rename a random top-level task (edit-while-syncing); returns its gid."""
        with self.world.lock:
            project = self._rng.choice(list(self.world.projects.values()))
            if not project.tasks:
                return ""
            gid = self._rng.choice(project.tasks)
            self.world.edit_task(
                gid, name=self.world.tasks[gid].name.split(" (edited")[0] + " (edited)"
            )
            return gid


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"{name}: Not a valid integer") from None


def _listing_key(request: Request) -> str:
    """What an offset belongs to: the path and every filter except paging itself."""
    query = sorted((k, v) for k, v in request.query_params.items() if k not in ("offset", "limit"))
    return f"{request.url.path}?{query}"


def _base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{api.PREFIX}"
