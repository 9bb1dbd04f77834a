"""Webhooks as Asana runs them: a handshake before creation, then signed batched deliveries.

Creating a webhook POSTs to its target with ``X-Hook-Secret`` and waits for the target to
echo it (200/204); only then is the webhook created (201). Events on the webhook's
resource are queued and delivered in batches — ``{"events": [...]}`` signed with
``X-Hook-Signature`` (hex HMAC-SHA256 of the raw body) — and retried with backoff while
the target fails. Heartbeats are empty deliveries.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from connectors.fake.asana.model import Event
from connectors.fake.asana.render import when
from connectors.fake.asana.world import World

log = logging.getLogger(__name__)


def signature(secret: str, body: bytes) -> str:
    """Asana's ``X-Hook-Signature``: the hex HMAC-SHA256 of the raw body under the secret
    the handshake agreed (Asana's webhooks guide, "Security"). Written here, not borrowed
    from the connector, so that the two readings of the documentation check each other."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


MAX_BATCH = 100
HANDSHAKE_TIMEOUT = 10.0


class HandshakeFailed(Exception):
    """The target did not echo ``X-Hook-Secret``."""


@dataclass(slots=True)
class Webhook:
    gid: str
    resource: str
    target: str
    secret: str
    created_at: datetime
    filters: list[dict[str, Any]] = field(default_factory=list)
    active: bool = True
    pending: list[Event] = field(default_factory=list)
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure_content: str = ""
    delivery_retry_count: int = 0
    next_attempt_at: float = 0.0

    def wants(self, event: Event) -> bool:
        if self.resource not in event.projects and self.resource != event.resource:
            return False
        if not self.filters:
            return True
        return any(
            f.get("resource_type") in (None, event.resource_type)
            and f.get("action") in (None, event.action)
            and (not f.get("fields") or event.field in f["fields"])
            for f in self.filters
        )

    def describe(self, world: World) -> dict[str, Any]:
        return {
            "gid": self.gid,
            "resource_type": "webhook",
            "active": self.active,
            "resource": {"gid": self.resource, "resource_type": _kind(world, self.resource)},
            "target": self.target,
            "filters": self.filters,
            "created_at": when(self.created_at),
            # Timestamps of what has not happened yet are left out (the document's are
            # non-nullable strings).
            **{
                name: when(value)
                for name, value in (
                    ("last_success_at", self.last_success_at),
                    ("last_failure_at", self.last_failure_at),
                )
                if value is not None
            },
            "last_failure_content": self.last_failure_content,
            "delivery_retry_count": self.delivery_retry_count,
        }


def _kind(world: World, gid: str) -> str:
    return "project" if gid in world.projects else "task" if gid in world.tasks else "workspace"


def event_body(event: Event) -> dict[str, Any]:
    """An event as a delivery carries it: ids only, never the task's data."""
    body: dict[str, Any] = {
        "action": event.action,
        "resource": {"gid": event.resource, "resource_type": event.resource_type},
        "parent": (
            {"gid": event.parent, "resource_type": event.parent_type} if event.parent else None
        ),
        "created_at": when(event.created_at),
        "user": {"gid": event.user, "resource_type": "user"} if event.user else None,
    }
    if event.action == "changed" and event.field:
        body["change"] = {"field": event.field, "action": "changed"}
    return body


class Deliverer:
    """Holds the webhooks and pushes their queued events to the targets."""

    def __init__(self, world: World, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.world = world
        self.webhooks: dict[str, Webhook] = {}
        self.rng = random.Random(7)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self.heartbeat_due = False
        world.listeners.append(self._queue)

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=HANDSHAKE_TIMEOUT)
        return self._client

    def _queue(self, event: Event) -> None:
        for hook in self.webhooks.values():
            if hook.active and hook.wants(event):
                hook.pending.append(event)

    async def establish(self, resource: str, target: str, filters: list[dict[str, Any]]) -> Webhook:
        secret = f"{self.rng.getrandbits(128):032x}"
        try:
            answer = await self.client().post(target, headers={"X-Hook-Secret": secret})
        except httpx.HTTPError as exc:
            raise HandshakeFailed(f"could not reach {target}: {exc!r}") from exc
        if answer.status_code not in (200, 204) or answer.headers.get("X-Hook-Secret") != secret:
            raise HandshakeFailed(f"{target} answered {answer.status_code} without the secret")
        with self.world.lock:
            hook = Webhook(self.world.new_gid(), resource, target, secret, self.world.clock.now())
            hook.filters = filters
            self.webhooks[hook.gid] = hook
        return hook

    async def run(self, interval: float = 0.05, heartbeat_every: float = 8 * 3600) -> None:
        """Deliver queued events, and a heartbeat every ``heartbeat_every``, until cancelled."""
        loop = asyncio.get_running_loop()
        last_heartbeat = loop.time()
        while True:
            if loop.time() - last_heartbeat >= heartbeat_every:
                self.heartbeat_due, last_heartbeat = True, loop.time()
            await self.deliver_once()
            await asyncio.sleep(interval)

    async def deliver_once(self) -> None:
        loop = asyncio.get_running_loop()
        heartbeat, self.heartbeat_due = self.heartbeat_due, False
        for hook in list(self.webhooks.values()):
            if not hook.active or loop.time() < hook.next_attempt_at:
                continue
            with self.world.lock:
                batch = hook.pending[:MAX_BATCH]
            if batch or heartbeat:
                await self._post(hook, batch)

    async def _post(self, hook: Webhook, batch: list[Event]) -> None:
        raw = json.dumps({"events": [event_body(e) for e in batch]}).encode()
        headers = {
            "X-Hook-Signature": signature(hook.secret, raw),
            "Content-Type": "application/json",
        }
        try:
            answer = await self.client().post(hook.target, content=raw, headers=headers)
            ok, detail = answer.status_code in (200, 204), f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            ok, detail = False, repr(exc)
        with self.world.lock:
            if ok:
                del hook.pending[: len(batch)]
                hook.last_success_at = self.world.clock.now()
                hook.delivery_retry_count = 0
                return
            hook.last_failure_at = self.world.clock.now()
            hook.last_failure_content = detail[:500]
            hook.delivery_retry_count += 1
            backoff = min(60.0, 0.1 * 2**hook.delivery_retry_count)
            hook.next_attempt_at = asyncio.get_running_loop().time() + backoff

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
