"""Asana webhook signatures: a lowercase hex HMAC-SHA256 of the raw body, keyed by the
``X-Hook-Secret`` Asana sent in the establishing handshake. Pure functions."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, body: bytes) -> str:
    """The ``X-Hook-Signature`` value Asana sends with ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_signed_by(secret: str, body: bytes, claimed: str | None) -> bool:
    """Whether ``claimed`` is the signature of exactly these bytes (constant time)."""
    mac = signer(secret)
    mac.update(body)
    return matches(mac, claimed)


def signer(secret: str) -> hmac.HMAC:
    """An HMAC to feed a body chunk by chunk as it arrives; ``matches`` checks the result."""
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def matches(mac: hmac.HMAC, claimed: str | None) -> bool:
    """Whether ``claimed`` is the ``X-Hook-Signature`` of what ``mac`` was fed (constant
    time; any header value, however garbled, is just a mismatch)."""
    if claimed is None:
        return False
    expected = mac.hexdigest().encode()
    return hmac.compare_digest(expected, claimed.strip().lower().encode("utf-8", "replace"))


def is_payload(body: object) -> bool:
    """Whether a decoded body is an Asana delivery: an object with an ``events`` list."""
    return isinstance(body, dict) and isinstance(body.get("events"), list)


def touched_tasks(events: list[object]) -> dict[str, str]:
    """Task gid → the last action a delivery's events name for it, in delivery order.

    Events carry ids only: a story or attachment on a task counts as a change of the task;
    anything else (projects, sections, tags) names no task and is skipped.
    """
    touched: dict[str, str] = {}
    for event in events:
        if not isinstance(event, dict):
            continue
        resource, parent = event.get("resource"), event.get("parent")
        action = event.get("action")
        if not isinstance(action, str) or not isinstance(resource, dict):
            continue
        if resource.get("resource_type") == "task" and _gid(resource.get("gid")):
            touched[str(resource["gid"])] = action
        elif (
            isinstance(parent, dict)
            and parent.get("resource_type") == "task"
            and _gid(parent.get("gid"))
        ):
            touched[str(parent["gid"])] = "changed"
    return touched


def _gid(value: object) -> bool:
    return isinstance(value, str) and value.isdigit() and len(value) <= 64
