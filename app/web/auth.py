"""API tokens and roles: who may read, and who may change the register or start syncs.

Tokens come from environment variables named in the configuration; only their SHA-256
digests are kept in memory, and comparison is constant-time.

A person who signs in to the pages gets a session instead of keeping the token in the
browser (``app.store.web_sessions``): it is kept server-side with a fingerprint of the
token, an HMAC-SHA256 keyed by the token's digest, so it holds neither the token nor its
digest, lapses at its expiry, ends at sign-out on every replica, and ends when the token
it was opened with is rotated.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from app.config import ServerConfig, resolve_secret
from app.programs.access import Audience


class Role(IntEnum):
    VIEWER = 1
    ADMIN = 2


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    groups: frozenset[str] = frozenset()

    @property
    def audience(self) -> Audience:
        """Which programs they see: every one as an admin, else those open to every viewer
        and those that name their groups or their name."""
        if self.role >= Role.ADMIN:
            return Audience(everything=True)
        return Audience(names=frozenset({self.name, *self.groups}))


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
                principal = Principal(token.name, Role[token.role.upper()], frozenset(token.groups))
                self._tokens.append((_digest(secret), principal))

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

    def sign_in(self, presented: str) -> tuple[Principal, str] | None:
        """The principal of a valid token and the fingerprint its sessions keep; None for
        a wrong token or with ``auth: none`` (nobody signs in)."""
        if not self.enabled or not presented:
            return None
        digest = _digest(presented)
        found = None
        for known, principal in self._tokens:
            if hmac.compare_digest(known, digest):
                found = (principal, _fingerprint(known))
        return found

    def for_session(self, name: str, fingerprint: str) -> Principal | None:
        """The principal a stored session was opened for, while their token is the same."""
        found = None
        for known, principal in self._tokens:
            if principal.name == name and hmac.compare_digest(
                _fingerprint(known).encode(), fingerprint.encode()
            ):
                found = principal
        return found


def _fingerprint(digest: bytes) -> str:
    return hmac.new(digest, b"throughline session", hashlib.sha256).hexdigest()
