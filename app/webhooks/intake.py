"""Taking a delivery: size, signature and shape checked, then stored before the answer.

Order matters. The source must exist (404) and a slot be free: at most
``max_concurrent_uploads`` bodies are read at once, more are answered 503 with
``Retry-After`` (trackers deliver again), so slow senders cannot pile up memory. The body
is read as a stream into a bounded buffer (413 past the limit) within a deadline (408),
its HMAC fed chunk by chunk (``bodies``). Then authenticity: a delivery that is not signed
with the source's secret is refused (401) before anything is stored. Only then is the
body parsed; a signed body that is not the tracker's JSON is kept, as ``rejected``, for
an operator to inspect, and answered 400. Everything else is stored, deduplicated, in a
transaction of intake alone (deliveries arriving together share one, see ``commits``)
that is committed before the answer: applying it is the worker's job.

A signed Jira delivery is known by the digest of its body, not by the
``X-Atlassian-Webhook-Identifier`` its sender chose: a captured body sent again under a new
identifier is a duplicate, and an unsigned delivery (kept under its own name) can never
shadow a signed one. An unsigned delivery, where an operator allows them, is a hint:
only the ids it names are kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from app.config import AsanaSourceConfig, JiraSourceConfig, ThroughlineConfig, resolve_secret
from app.store import records
from app.store.engine import session_scope
from app.telemetry.metrics import Metrics
from app.webhooks import bodies, inbox, subscriptions
from app.webhooks.commits import GroupCommitter
from app.webhooks.sealing import Sealer, SealError
from connectors import text
from connectors.asana import webhook as asana_webhook
from connectors.jira import webhook as jira_webhook
from vocabulary import EventState

log = logging.getLogger(__name__)

KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "x-atlassian-webhook-identifier",
    "x-atlassian-webhook-retry",
    "x-atlassian-webhook-flow",
)
"""Headers stored with an event for inspection; signatures are not among them."""
_MAX_DELIVERY_ID = 128
RETRY_AFTER_SECONDS = 5
_OUTCOMES = {408: "timed_out", 413: "too_large"}
UNREAD = {"Connection": "close"}
"""An answer sent before the body was read closes the connection: the rest of the body
is not waited for."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _detail(status: int, message: str, **headers: str) -> Answer:
    return Answer(status, {"detail": message}, headers)


class Intake:
    """The process's webhook intake; the worker waits on ``wakeup`` for new events."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        config: ThroughlineConfig,
        *,
        sealer: Sealer,
        max_body_bytes: int,
        environ: Mapping[str, str],
        metrics: Metrics | None = None,
        max_uploads: int = 64,
        body_seconds: float = 20.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._config = config
        self._sealer = sealer
        self._limit = max_body_bytes
        self._metrics = metrics
        self._max_uploads = max_uploads
        self._uploads = 0
        self._body_seconds = body_seconds
        self._source_ids: dict[str, int] = {}
        self._jira_secrets = {
            s.name: _jira_secret(s, environ)
            for s in config.sources
            if isinstance(s, JiraSourceConfig)
        }
        self._asana_secrets: dict[tuple[str, str], str] = {}
        self.wakeup = asyncio.Event()
        self._committer = GroupCommitter(sessionmaker)
        self._last_delivery = 0.0

    def busy(self, within: float = 0.25) -> bool:
        """Whether deliveries are streaming in (one arrived within ``within`` seconds)."""
        return time.monotonic() - self._last_delivery < within

    async def receive(self, kind: str, name: str, request: Request) -> Answer:
        self._last_delivery = time.monotonic()
        source = self._config.source(name)
        if source is None or source.kind != kind:
            return self._count(name, "unknown", _detail(404, f"No {kind} source named {name!r}."))
        if self._uploads >= self._max_uploads:
            answer = _detail(
                503,
                "Too many deliveries are being received at once; deliver it again shortly.",
                **{"Retry-After": str(RETRY_AFTER_SECONDS)},
                **UNREAD,
            )
            return self._count(name, "busy", answer)
        self._uploads += 1
        try:
            if isinstance(source, JiraSourceConfig):
                answer = await self._jira(source, request)
            else:
                answer = await self._asana(source, request)
        except bodies.BodyTooLarge:
            answer = _detail(413, f"The body is over {self._limit} bytes.", **UNREAD)
        except bodies.BodyTimedOut:
            answer = _detail(
                408, f"The body did not arrive within {self._body_seconds:g} seconds.", **UNREAD
            )
        finally:
            self._uploads -= 1
        outcome = _OUTCOMES.get(answer.status) or str(answer.body.get("status", answer.status))
        return self._count(name, outcome, answer)

    def _count(self, name: str, outcome: str, answer: Answer) -> Answer:
        if self._metrics is not None and self._config.source(name) is not None:
            self._metrics.webhook_deliveries.labels(name, outcome).inc()
        return answer

    async def _read(self, request: Request, *macs: hmac.HMAC) -> bytes:
        return await bodies.read(request, limit=self._limit, deadline=self._body_seconds, macs=macs)

    # Jira ---------------------------------------------------------------------------

    async def _jira(self, source: JiraSourceConfig, request: Request) -> Answer:
        secret = self._jira_secrets.get(source.name)
        claimed = request.headers.get("x-hub-signature")
        allow_unsigned = source.webhook is not None and source.webhook.allow_unsigned
        if secret is not None and claimed is not None:
            mac = jira_webhook.signer(secret)
            body = await self._read(request, mac)
            if not jira_webhook.matches(mac, claimed):
                return _detail(401, "The X-Hub-Signature does not match the body.")
            return await self._jira_signed(source, request, body)
        if allow_unsigned:
            # The operator opted in: the delivery only names issues to read back.
            return await self._jira_hint(source, request, await self._read(request))
        return _detail(
            401, "Deliveries to this source must carry a valid X-Hub-Signature.", **UNREAD
        )

    async def _jira_signed(self, source: JiraSourceConfig, request: Request, body: bytes) -> Answer:
        payload, problem = bodies.decode(body)
        if problem is None and not jira_webhook.is_payload(payload):
            problem = "The body is JSON but not a Jira webhook (no webhookEvent)."
        event_type = text.clean(str(payload["webhookEvent"]))[:64] if problem is None else None
        return await self._store(
            source.name, request, _text(body), _digest(body), event_type, True, problem
        )

    async def _jira_hint(self, source: JiraSourceConfig, request: Request, body: bytes) -> Answer:
        payload, problem = bodies.decode(body)
        if problem is None and not jira_webhook.is_payload(payload):
            problem = "The body is JSON but not a Jira webhook (no webhookEvent)."
        if problem is None:
            try:
                hint = _hint(payload)
            except jira_webhook.PayloadError as exc:
                problem = f"The delivery names no issue to read back: {exc}."
        if problem is not None:
            # Anyone may send an unsigned body: it is refused, never kept.
            return Answer(400, {"detail": problem, "status": "refused"})
        kept = json.dumps(hint, separators=(",", ":"))
        identifier = request.headers.get("x-atlassian-webhook-identifier", "")
        if not (0 < len(identifier) <= 100 and identifier.isprintable()):
            identifier = hashlib.sha256(kept.encode()).hexdigest()
        delivery_id = "unsigned:" + identifier
        return await self._store(
            source.name,
            request,
            kept,
            delivery_id[:_MAX_DELIVERY_ID],
            hint["webhookEvent"],
            False,
            None,
        )

    # Asana --------------------------------------------------------------------------

    async def _asana(self, source: AsanaSourceConfig, request: Request) -> Answer:
        resource = request.query_params.get("resource", "")[:64]
        handshake = request.headers.get("x-hook-secret")
        if handshake is not None:
            return await self._handshake(source, resource, handshake)
        secret = await self._asana_secret(source.name, resource)
        if secret is None:
            secret = await self._asana_secret(source.name, resource, reload=True)
        if secret is None:
            return _detail(401, "No webhook of this source signs with a known secret.", **UNREAD)
        claimed = request.headers.get("x-hook-signature")
        mac = asana_webhook.signer(secret)
        body = await self._read(request, mac)
        if not asana_webhook.matches(mac, claimed):
            # The secret may have changed in a registration another process took.
            fresh = await self._asana_secret(source.name, resource, reload=True)
            if fresh in (None, secret) or not asana_webhook.is_signed_by(fresh, body, claimed):
                return _detail(401, "The X-Hook-Signature does not match the body.")
        payload, problem = bodies.decode(body)
        if problem is None and not asana_webhook.is_payload(payload):
            problem = "The body is JSON but not an Asana delivery (no events list)."
        if problem is None and not payload["events"]:
            async with session_scope(self._sessionmaker) as session:
                source_id = await self._source_id(session, source.name)
                await subscriptions.record_heartbeat(session, source_id, now=_now())
            return Answer(200, {"status": "heartbeat"})
        event_type = f"events:{len(payload['events'])}" if problem is None else None
        return await self._store(
            source.name, request, _text(body), _digest(body), event_type, True, problem
        )

    async def _handshake(self, source: AsanaSourceConfig, resource: str, secret: str) -> Answer:
        name = source.name
        if not secret or len(secret) > 512 or not secret.isascii():
            return _detail(400, "The X-Hook-Secret is empty, too long or not plain text.")
        if not self._sealer.enabled:
            log.error("Asana handshake for %s refused: no THROUGHLINE_WEBHOOKS__SECRET_KEY", name)
            return _detail(503, "This server has no key to keep webhook secrets with.")
        if not resource or (source.projects and resource not in source.projects):
            return _detail(403, f"No configured project of {name} is named {resource!r}.")
        async with session_scope(self._sessionmaker) as session:
            source_id = await self._source_id(session, name)
            refused = await subscriptions.store_secret(
                session, source_id, resource, self._sealer.seal(secret), now=_now()
            )
        if refused is not None:
            log.warning("Asana handshake for %s (resource %s) refused: %s", name, resource, refused)
            return _detail(403, f"Handshake refused: {refused}.")
        self._asana_secrets[(name, resource)] = secret
        log.info("Asana webhook handshake for %s (resource %s) completed", name, resource)
        return Answer(200, {"status": "handshake"}, {"X-Hook-Secret": secret})

    async def _asana_secret(self, name: str, resource: str, *, reload: bool = False) -> str | None:
        key = (name, resource)
        if key in self._asana_secrets and not reload:
            return self._asana_secrets[key]
        async with session_scope(self._sessionmaker) as session:
            row = await subscriptions.get(session, await self._source_id(session, name))
        sealed = row.secrets.get(resource) if row is not None else None
        if sealed is None:
            return None
        try:
            self._asana_secrets[key] = self._sealer.open(sealed)
        except SealError as exc:
            log.error("webhooks of %s: %s", name, exc)
            return None
        return self._asana_secrets[key]

    # Storing --------------------------------------------------------------------------

    async def _store(
        self,
        name: str,
        request: Request,
        body: str,
        delivery_id: str,
        event_type: str | None,
        trusted: bool,
        problem: str | None,
    ) -> Answer:
        headers = {
            h: text.clean(request.headers[h][:256]) for h in KEPT_HEADERS if h in request.headers
        }
        if problem is not None:
            delivery_id = "rejected:" + delivery_id.removeprefix("sha256:")
        if name not in self._source_ids:
            async with session_scope(self._sessionmaker) as session:
                await self._source_id(session, name)
        new = await self._committer.store(
            inbox.event_row(
                source_id=self._source_ids[name],
                delivery_id=delivery_id,
                event_type=event_type,
                body=body,
                headers=headers,
                trusted=trusted,
                now=_now(),
                state=EventState.REJECTED if problem else EventState.PENDING,
                error=problem,
            )
        )
        if problem is not None:
            return Answer(400, {"detail": problem, "status": "rejected"})
        if new:
            self.wakeup.set()
        return Answer(200, {"status": "stored" if new else "duplicate"})

    async def _source_id(self, session: AsyncSession, name: str) -> int:
        found = self._source_ids.get(name)
        if found is None:
            row = await records.get_source(session, name)
            if row is None:
                raise LookupError(f"source {name!r} has no row: was the configuration applied?")
            found = self._source_ids[name] = row.id
        return found


def _jira_secret(source: JiraSourceConfig, environ: Mapping[str, str]) -> str | None:
    if source.webhook is None or not source.webhook.secret_env:
        return None
    return resolve_secret(source.webhook.secret_env, environ).get_secret_value()


def _hint(payload: dict[str, Any]) -> dict[str, Any]:
    """What an unsigned Jira delivery is worth keeping: its event, its time and the issue
    ids it names (``read_delivery`` finds the same ids in it), never its data."""
    delivery = jira_webhook.read_delivery(payload)
    kept: dict[str, Any] = {"webhookEvent": text.clean(delivery.event)[:64]}
    if delivery.at is not None:
        kept["timestamp"] = payload["timestamp"]
    if delivery.issue_id is not None:
        kept["issue"] = {"id": delivery.issue_id}
    if delivery.refetch:
        kept["issueLink"] = dict(
            zip(("sourceIssueId", "destinationIssueId"), delivery.refetch, strict=False)
        )
    return kept


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _text(body: bytes) -> str:
    # PostgreSQL text holds no NUL; a rejected body is kept for reading, not byte-exact.
    return body.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _now() -> datetime:
    return datetime.now(UTC)
