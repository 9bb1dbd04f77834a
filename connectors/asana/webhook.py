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
    return claimed is not None and hmac.compare_digest(signature(secret, body), claimed.lower())
