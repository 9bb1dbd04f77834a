"""Jira webhook deliveries: the ``X-Hub-Signature`` check and the payload, as pure functions.

Admin webhooks registered with a secret sign the raw body: ``X-Hub-Signature:
sha256=<hex HMAC-SHA256>`` (the header is named ``X-Hub-Signature``, not ``…-256``).
Issue events embed the whole issue (on deletion, its last state); issue link events name
the two issues by id only. Deliveries are at-least-once and unordered, so the receiver
dedupes on ``X-Atlassian-Webhook-Identifier`` and lets the issue's ``updated`` decide.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ISSUE_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"})
LINK_EVENTS = frozenset({"issuelink_created", "issuelink_deleted"})
DYNAMIC_EVENTS = frozenset(
    {
        *ISSUE_EVENTS,
        "comment_created",
        "comment_updated",
        "comment_deleted",
        "issue_property_set",
        "issue_property_deleted",
    }
)
"""The events the official document lets a dynamic webhook ask for (``WebhookDetails``):
no link events there. Jira Cloud also sends ``jira:issue_updated`` for both ends of a new
or removed link, and an unsigned delivery is a re-read hint, so links still arrive."""


def expiration(value: object) -> datetime:
    """``expirationDate`` of a webhook refresh: epoch milliseconds, as a number (the
    document's int64) or as a string, or an ISO date-time string."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str) and value.strip().isdigit():
        return datetime.fromtimestamp(int(value.strip()) / 1000, UTC)
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise PayloadError(f"expirationDate {value!r} is neither epoch milliseconds nor a date")


def signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value Jira sends with ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_signed_by(secret: str, body: bytes, claimed: str | None) -> bool:
    """Whether ``claimed`` is the signature of exactly these bytes (constant time)."""
    mac = signer(secret)
    mac.update(body)
    return matches(mac, claimed)


def signer(secret: str) -> hmac.HMAC:
    """An HMAC to feed a body chunk by chunk as it arrives; ``matches`` checks the result."""
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def matches(mac: hmac.HMAC, claimed: str | None) -> bool:
    """Whether ``claimed`` is the ``X-Hub-Signature`` of what ``mac`` was fed (constant
    time; any header value, however garbled, is just a mismatch)."""
    if claimed is None:
        return False
    expected = ("sha256=" + mac.hexdigest()).encode()
    return hmac.compare_digest(expected, claimed.strip().lower().encode("utf-8", "replace"))


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one delivery asks of the receiver.

    ``issue`` is the embedded issue JSON (trusted only when the delivery was signed);
    ``refetch`` are issue ids to read back from the site; ``deleted`` an issue id gone.
    """

    event: str
    issue: dict[str, Any] | None = None
    issue_id: str | None = None
    deleted: bool = False
    refetch: tuple[str, ...] = ()
    at: datetime | None = None


class PayloadError(ValueError):
    """The JSON is not a Jira webhook payload Throughline understands."""


def is_payload(body: Any) -> bool:
    """Whether a decoded body looks like a Jira webhook at all (an object with an event)."""
    return isinstance(body, dict) and isinstance(body.get("webhookEvent"), str)


def read_delivery(body: dict[str, Any]) -> Delivery:
    """The intent of a Jira webhook payload; ``PayloadError`` when it is unusable."""
    event = body["webhookEvent"]
    at = _millis(body.get("timestamp"))
    if event in ISSUE_EVENTS:
        issue = body.get("issue")
        if not isinstance(issue, dict) or not _id(issue.get("id")):
            raise PayloadError(f"{event} without an issue id")
        issue_id = _id(issue.get("id"))
        return Delivery(
            event, issue=issue, issue_id=issue_id, deleted=event.endswith("deleted"), at=at
        )
    if event in LINK_EVENTS:
        link = body.get("issueLink")
        if not isinstance(link, dict):
            raise PayloadError(f"{event} without an issueLink")
        ends = tuple(
            e for e in (_id(link.get("sourceIssueId")), _id(link.get("destinationIssueId"))) if e
        )
        if not ends:
            raise PayloadError(f"{event} names no issue")
        return Delivery(event, refetch=ends, at=at)
    return Delivery(event, at=at)


def _id(value: Any) -> str | None:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return text if text.isdigit() and len(text) <= 32 else None


def _millis(value: Any) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**14:
        return datetime.fromtimestamp(value / 1000, UTC)
    return None
