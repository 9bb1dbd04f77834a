"""Taking a delivery: size, signature and shape checked, then stored before the answer.

Order matters. The source must exist (404) and the body fit the limit (413, read as a
stream so an endless body costs no memory). Then authenticity: a delivery that is not
signed with the source's secret is refused (401) before anything is stored. Only then
is the body parsed; a signed body that is not the tracker's JSON is kept, as
``rejected``, for an operator to inspect, and answered 400. Everything else is stored,
deduplicated, in a transaction of intake alone (deliveries arriving together share one,
see ``commits``) that is committed before the answer: applying it is the worker's job.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from app.config import AsanaSourceConfig, JiraSourceConfig, ThroughlineConfig, resolve_secret
from app.store import records
from app.store.engine import session_scope
from app.telemetry.metrics import Metrics
from app.webhooks import inbox, subscriptions
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


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused (``BodyTooLarge``) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _detail(status: int, message: str) -> Answer:
    return Answer(status, {"detail": message})


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
        handshake_window: timedelta = timedelta(minutes=2),
    ) -> None:
        self._sessionmaker = sessionmaker
        self._config = config
        self._sealer = sealer
        self._limit = max_body_bytes
        self._metrics = metrics
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
        try:
            body = await read_limited(request, self._limit)
        except BodyTooLarge:
            return self._count(
                name, "too_large", _detail(413, f"The body is over {self._limit} bytes.")
            )
        if isinstance(source, JiraSourceConfig):
            answer = await self._jira(source, request, body)
        else:
            answer = await self._asana(source, request, body)
        return self._count(name, str(answer.body.get("status", answer.status)), answer)

    def _count(self, name: str, outcome: str, answer: Answer) -> Answer:
        if self._metrics is not None and self._config.source(name) is not None:
            self._metrics.webhook_deliveries.labels(name, outcome).inc()
        return answer

    # Jira ---------------------------------------------------------------------------

    async def _jira(self, source: JiraSourceConfig, request: Request, body: bytes) -> Answer:
        secret = self._jira_secrets.get(source.name)
        claimed = request.headers.get("x-hub-signature")
        allow_unsigned = source.webhook is not None and source.webhook.allow_unsigned
        if secret is not None and claimed is not None:
            if not jira_webhook.is_signed_by(secret, body, claimed):
                return _detail(401, "The X-Hub-Signature does not match the body.")
            trusted = True
        elif allow_unsigned:
            # The operator opted in: the delivery only names issues to read back.
            trusted = False
        else:
            return _detail(401, "Deliveries to this source must carry a valid X-Hub-Signature.")
        payload, problem = _decode(body)
        if problem is None and not jira_webhook.is_payload(payload):
            problem = "The body is JSON but not a Jira webhook (no webhookEvent)."
        delivery_id = _delivery_id(request.headers.get("x-atlassian-webhook-identifier"), body)
        event_type = text.clean(str(payload.get("webhookEvent")))[:64] if problem is None else None
        return await self._store(
            source.name, request, body, delivery_id, event_type, trusted, problem
        )

    # Asana --------------------------------------------------------------------------

    async def _asana(self, source: AsanaSourceConfig, request: Request, body: bytes) -> Answer:
        resource = request.query_params.get("resource", "")[:64]
        handshake = request.headers.get("x-hook-secret")
        if handshake is not None:
            return await self._handshake(source.name, resource, handshake)
        secret = await self._asana_secret(source.name, resource)
        claimed = request.headers.get("x-hook-signature")
        if secret is None or not asana_webhook.is_signed_by(secret, body, claimed):
            # The secret may have changed in a registration another process took.
            secret = await self._asana_secret(source.name, resource, reload=True)
            if secret is None or not asana_webhook.is_signed_by(secret, body, claimed):
                return _detail(401, "The X-Hook-Signature does not match the body.")
        payload, problem = _decode(body)
        if problem is None and not asana_webhook.is_payload(payload):
            problem = "The body is JSON but not an Asana delivery (no events list)."
        if problem is None and not payload["events"]:
            async with session_scope(self._sessionmaker) as session:
                source_id = await self._source_id(session, source.name)
                await subscriptions.record_heartbeat(session, source_id, now=_now())
            return Answer(200, {"status": "heartbeat"})
        delivery_id = "sha256:" + hashlib.sha256(body).hexdigest()
        event_type = f"events:{len(payload['events'])}" if problem is None else None
        return await self._store(source.name, request, body, delivery_id, event_type, True, problem)

    async def _handshake(self, name: str, resource: str, secret: str) -> Answer:
        if not secret or len(secret) > 512:
            return _detail(400, "The X-Hook-Secret is empty or too long.")
        if not self._sealer.enabled:
            log.error("Asana handshake for %s refused: no THROUGHLINE_WEBHOOKS__SECRET_KEY", name)
            return _detail(503, "This server has no key to keep webhook secrets with.")
        async with session_scope(self._sessionmaker) as session:
            source_id = await self._source_id(session, name)
            kept = await subscriptions.store_secret(
                session, source_id, resource, self._sealer.seal(secret), now=_now()
            )
        if not kept:
            return _detail(403, "No webhook registration of this source is under way.")
        self._asana_secrets[(name, resource)] = secret
        log.info("Asana webhook handshake for %s (resource %s) completed", name, resource or "-")
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
        body: bytes,
        delivery_id: str,
        event_type: str | None,
        trusted: bool,
        problem: str | None,
    ) -> Answer:
        headers = {
            h: text.clean(request.headers[h][:256]) for h in KEPT_HEADERS if h in request.headers
        }
        if problem is not None:
            delivery_id = "rejected:" + hashlib.sha256(body).hexdigest()
        if name not in self._source_ids:
            async with session_scope(self._sessionmaker) as session:
                await self._source_id(session, name)
        new = await self._committer.store(
            inbox.event_row(
                source_id=self._source_ids[name],
                delivery_id=delivery_id,
                event_type=event_type,
                body=_text(body),
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


def _decode(body: bytes) -> tuple[Any, str | None]:
    try:
        return json.loads(body.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, "The body is not UTF-8 text."
    except ValueError as exc:
        return None, f"The body is not JSON: {exc}."


def _delivery_id(header: str | None, body: bytes) -> str:
    if header and len(header) <= _MAX_DELIVERY_ID and header.isprintable():
        return header
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _text(body: bytes) -> str:
    # PostgreSQL text holds no NUL; a rejected body is kept for reading, not byte-exact.
    return body.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _now() -> datetime:
    return datetime.now(UTC)
