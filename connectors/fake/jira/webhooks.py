"""Webhooks as Jira Cloud sends them: registrations, signed deliveries, retries.

Two kinds of registration, as on a real site:

- **Admin webhooks** (System → WebHooks, here ``/_fake/webhooks``): live until deleted,
  and signed when saved with a secret: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the
  raw body>``.
- **Dynamic webhooks** (``POST /rest/api/3/webhook``, OAuth 2.0 and Connect apps only —
  this fake takes a Bearer token for an app's and refuses basic auth with 403): expire
  30 days after creation or the last ``PUT /rest/api/3/webhook/refresh``, carry
  ``matchedWebhookIds`` and are not signed.

Every delivery carries ``X-Atlassian-Webhook-Identifier``, unchanged across retries, and
``X-Atlassian-Webhook-Retry`` from the first retry on. A 408/409/425/429/5xx answer or a
failed connection is retried with backoff; other answers end the delivery. Issue events
embed the issue as it was at the time of the event (on deletion, its last state); link
events name the two issues by id only. For tests, ``duplicate_rate`` sends some deliveries
twice and ``shuffle`` sends queued deliveries out of order — both happen on real sites.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from connectors.fake.jira.model import Issue, IssueLink
from connectors.fake.jira.render import ALL, Renderer

if TYPE_CHECKING:
    from connectors.fake.jira.app import FakeJira


def signature(secret: str, body: bytes) -> str:
    """Jira's ``X-Hub-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the raw body
    under the webhook's secret (Atlassian, "Webhooks: securing admin webhooks"). Written
    here, not borrowed from the connector, so that the two readings check each other."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


RETRIED = frozenset({408, 409, 425, 429}) | frozenset(range(500, 600))
DYNAMIC_LIFETIME = timedelta(days=30)
MAX_TRIES = 8
ISSUE_EVENT_TYPES = {
    "jira:issue_created": "issue_created",
    "jira:issue_updated": "issue_generic",
    "jira:issue_deleted": "issue_deleted",
}


@dataclass(slots=True)
class Registration:
    id: int
    url: str
    events: frozenset[str]
    secret: str | None = None
    jql: str | None = None
    dynamic: bool = False
    expires_at: datetime | None = None

    def describe(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "jqlFilter": self.jql,
            "events": sorted(self.events),
        }
        if self.expires_at is not None:
            body["expirationDate"] = int(self.expires_at.timestamp() * 1000)
        return body


@dataclass(slots=True)
class Delivery:
    hook: Registration
    identifier: str
    body: bytes
    tries: int = 0
    not_before: float = 0.0
    answers: list[int] = field(default_factory=list)


class Emitter:
    """Queues an event per matching registration and posts the queue to the targets."""

    def __init__(
        self,
        fake: FakeJira,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 16,
        seed: int = 11,
    ) -> None:
        self.fake = fake
        self.registrations: dict[int, Registration] = {}
        self.queue: list[Delivery] = []
        self.delivered: list[Delivery] = []
        self.dropped: list[Delivery] = []
        self.duplicate_rate = 0.0
        self.shuffle = False
        self.paused = False
        self.in_flight = 0
        self._queries: dict[str, Any] = {}
        self._rng = random.Random(seed)
        self._next_id = 10_000
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(concurrency) if concurrency else None
        self._task: asyncio.Task[None] | None = None
        # Tests change the site from their own thread while the server's loop delivers.
        self._lock = threading.Lock()

    # Registrations ---------------------------------------------------------------------

    def register(
        self,
        url: str,
        events: list[str],
        *,
        secret: str | None = None,
        jql: str | None = None,
        dynamic: bool = False,
    ) -> Registration:
        hook = Registration(self._next_id, url, frozenset(events), secret, jql, dynamic)
        if dynamic:
            hook.expires_at = self.fake.data.now() + DYNAMIC_LIFETIME
        self._next_id += 1
        self.registrations[hook.id] = hook
        return hook

    def refresh(self, ids: list[int]) -> datetime:
        expires = self.fake.data.now() + DYNAMIC_LIFETIME
        for hook_id in ids:
            hook = self.registrations.get(hook_id)
            if hook is not None and hook.dynamic:
                hook.expires_at = expires
        return expires

    def _live(self, event: str, issue: Issue | None) -> list[Registration]:
        now = self.fake.data.now()
        hooks = []
        for hook in self.registrations.values():
            if event not in hook.events or (hook.expires_at and hook.expires_at <= now):
                continue
            if hook.jql and issue is not None and not self._matches(hook.jql, issue):
                continue
            hooks.append(hook)
        return hooks

    def _matches(self, jql: str, issue: Issue) -> bool:
        query = self._queries.get(jql)
        if query is None:
            query = self._queries[jql] = self.fake.parse(jql)
        return bool(query.predicate(issue))

    # Events ------------------------------------------------------------------------------

    def issue_event(self, event: str, issue: Issue) -> None:
        """Queue an issue event, rendering the issue now (as it is at the event)."""
        hooks = self._live(event, issue)
        if not hooks:
            return
        renderer = Renderer(self.fake.data, self._base(), self.fake.cloud, "2", self.fake.zone)
        payload: dict[str, Any] = {
            "timestamp": self._millis(),
            "webhookEvent": event,
            "issue_event_type_name": ISSUE_EVENT_TYPES[event],
            "user": renderer.user(issue.assignee) if issue.assignee else None,
            "issue": renderer.issue(issue, ALL),
        }
        if event == "jira:issue_updated" and issue.histories:
            last = issue.histories[-1]
            payload["changelog"] = {
                "id": str(last.id),
                "items": [
                    {
                        "field": last.field,
                        "fromString": last.from_string,
                        "toString": last.to_string,
                    }
                ],
            }
        self._queue(hooks, payload)

    def link_event(self, event: str, link: IssueLink) -> None:
        hooks = self._live(event, None)
        payload = {
            "timestamp": self._millis(),
            "webhookEvent": event,
            "issueLink": {
                "id": link.id,
                "sourceIssueId": link.outward_id,
                "destinationIssueId": link.inward_id,
                "issueLinkType": {
                    "id": link.type.id,
                    "name": link.type.name,
                    "outwardName": link.type.outward,
                    "inwardName": link.type.inward,
                    "isSubTaskLinkType": False,
                    "isSystemLinkType": False,
                },
                "systemLink": False,
            },
        }
        self._queue(hooks, payload)

    def _queue(self, hooks: list[Registration], payload: dict[str, Any]) -> None:
        for hook in hooks:
            body = dict(payload)
            if hook.dynamic:
                body["matchedWebhookIds"] = [hook.id]
            delivery = Delivery(hook, str(uuid.uuid4()), json.dumps(body).encode())
            with self._lock:
                self.queue.append(delivery)

    # Delivering ----------------------------------------------------------------------------

    def start(self, interval: float = 0.02) -> None:
        """Deliver from the serving loop until ``aclose``."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(interval))

    async def _run(self, interval: float) -> None:
        while True:
            if not self.paused:
                await self.deliver_once()
            await asyncio.sleep(interval)

    async def deliver_once(self) -> int:
        """Post every delivery that is due; return how many were attempted."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        with self._lock:
            due = [d for d in self.queue if d.not_before <= now]
            self.queue = [d for d in self.queue if d.not_before > now]
        if not due:
            return 0
        self.in_flight += len(due)
        if self.shuffle:
            self._rng.shuffle(due)
        sends = list(due)
        if self.duplicate_rate:
            sends += [d for d in due if self._rng.random() < self.duplicate_rate]
            if self.shuffle:
                self._rng.shuffle(sends)
        await asyncio.gather(*(self._post(d) for d in sends))
        for delivery in due:
            if delivery.answers and delivery.answers[-1] < 300:
                self.delivered.append(delivery)
            elif delivery.tries >= MAX_TRIES or (
                delivery.answers and delivery.answers[-1] not in RETRIED
            ):
                self.dropped.append(delivery)
            else:
                delivery.not_before = loop.time() + min(30.0, 0.05 * 2**delivery.tries)
                with self._lock:
                    self.queue.append(delivery)
        self.in_flight -= len(due)
        return len(sends)

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being posted."""
        return not self.queue and not self.in_flight

    async def _post(self, delivery: Delivery) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": delivery.identifier,
            "X-Atlassian-Webhook-Flow": "Primary",
        }
        if delivery.tries:
            headers["X-Atlassian-Webhook-Retry"] = str(delivery.tries)
        if delivery.hook.secret:
            headers["X-Hub-Signature"] = signature(delivery.hook.secret, delivery.body)
        delivery.tries += 1
        try:
            if self._slots is not None:
                async with self._slots:
                    answer = await self._http().post(
                        delivery.hook.url, content=delivery.body, headers=headers
                    )
            else:
                answer = await self._http().post(
                    delivery.hook.url, content=delivery.body, headers=headers
                )
            delivery.answers.append(answer.status_code)
        except httpx.HTTPError:
            delivery.answers.append(599)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=20.0)
        return self._client

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _base(self) -> str:
        return (self.fake.site_url or "https://fake.atlassian.net").rstrip("/")

    def _millis(self) -> int:
        return int(self.fake.data.now().timestamp() * 1000)
