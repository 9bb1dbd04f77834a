"""A generic signed webhook: the alerts as JSON, for anything that is not Slack or e-mail.

Each POST carries ``X-Throughline-Signature: t=<unix time>,v1=<hex>``, where the hex is
the HMAC-SHA256 of ``"<t>.<body>"`` keyed by the shared secret: the receiver recomputes it
over the raw body and refuses a stale ``t`` (replays). ``X-Throughline-Delivery`` is a
stable id per message, so a receiver can drop a retried one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime

import httpx

from app.config import WebhookOutConfig, resolve_secret
from app.reports.delivery.message import DeliveryError, Message, Sent, http_failure, unreachable


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class WebhookChannel:
    name = "webhook"

    def __init__(
        self, config: WebhookOutConfig, environ: Mapping[str, str], *, now: datetime
    ) -> None:
        self._config = config
        self._environ = environ
        self._now = now

    async def send(self, message: Message) -> Sent:
        try:
            url = resolve_secret(self._config.url_env, self._environ).get_secret_value()
            secret = resolve_secret(self._config.secret_env, self._environ).get_secret_value()
        except KeyError as exc:
            raise DeliveryError(str(exc.args[0]), transient=False) from None
        body = json.dumps(dict(message.event), sort_keys=True).encode()
        timestamp = int(self._now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Throughline-Signature": signature(secret, timestamp, body),
            "X-Throughline-Delivery": str(message.event.get("delivery", "")),
        }
        try:
            async with httpx.AsyncClient(timeout=20.0) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise unreachable("the webhook", exc) from None
        if response.status_code >= 300:
            raise http_failure("The webhook", response.status_code, response.text)
        return Sent()
