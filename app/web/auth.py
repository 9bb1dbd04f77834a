"""API tokens and roles: who may read, and who may change the register or start syncs.

Tokens come from environment variables named in the configuration; only their SHA-256
digests are kept in memory, and comparison is constant-time.

A person who signs in to the pages gets a session instead of keeping the token in the
browser: ``name.expiry.signature``, signed with HMAC-SHA256 keyed by the token's digest.
It holds neither the token nor its digest; every replica can check it without shared
state; it lapses at its expiry; and rotating a token ends the sessions made with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from app.config import ServerConfig, resolve_secret


class Role(IntEnum):
    VIEWER = 1
    ADMIN = 2


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role


ANONYMOUS_ADMIN = Principal(name="anonymous (auth: none)", role=Role.ADMIN)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenRegistry:
    """Resolves a presented token to the principal it belongs to."""

    def __init__(self, server: ServerConfig, environ: Mapping[str, str] | None = None) -> None:
        self.enabled = server.auth == "tokens"
        self._tokens: list[tuple[bytes, Principal]] = []
        if self.enabled:
            for token in server.tokens:
                secret = resolve_secret(token.token_env, environ).get_secret_value()
                self._tokens.append(
                    (_digest(secret), Principal(token.name, Role[token.role.upper()]))
                )

    def authenticate(self, presented: str | None) -> Principal | None:
        """The principal for a token, or None; ``auth: none`` makes everyone an admin."""
        if not self.enabled:
            return ANONYMOUS_ADMIN
        if not presented:
            return None
        digest = _digest(presented)
        found = None
        for known, principal in self._tokens:
            # Compare against every token so timing does not reveal which one matched.
            if hmac.compare_digest(known, digest):
                found = principal
        return found

    def open_session(self, presented: str, *, now: datetime, lifetime: timedelta) -> str | None:
        """A signed session for a valid token, or None; only with ``auth: tokens``."""
        if not self.enabled or not presented:
            return None
        digest = _digest(presented)
        for known, principal in self._tokens:
            if hmac.compare_digest(known, digest):
                expires = int((now + lifetime).timestamp())
                payload = _b64(f"{principal.name}\n{expires}".encode())
                return f"{payload}.{_b64(_sign(known, payload))}"
        return None

    def authenticate_session(self, session: str | None, *, now: datetime) -> Principal | None:
        """The principal a session was signed for, while it is valid; None otherwise."""
        if not self.enabled:
            return ANONYMOUS_ADMIN
        payload, _, signature = (session or "").partition(".")
        try:
            name, _, expires = _unb64(payload).decode().partition("\n")
            presented = _unb64(signature)
            if int(expires) <= now.timestamp():
                return None
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        found = None
        for known, principal in self._tokens:
            if principal.name == name and hmac.compare_digest(_sign(known, payload), presented):
                found = principal
        return found


def _sign(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
