"""Sign-ins to the pages, kept server-side so that signing out ends them everywhere.

The browser holds a random secret (the session cookie); the store keeps only its SHA-256
digest, the principal's name and a fingerprint of the token it was opened with, so
neither a stolen database nor a stolen cookie reveals a token, rotating a token ends the
sessions opened with it, and deleting the row (sign-out) ends the session on every
replica at once. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.tables import WebSessionRow

MAX_SECRET = 128


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


async def open_session(
    session: AsyncSession,
    *,
    principal: str,
    token_fingerprint: str,
    now: datetime,
    lifetime: timedelta,
    role: str | None = None,
    groups: Sequence[str] | None = None,
) -> str:
    """Store a new sign-in; return the secret the browser keeps (never stored itself).
    ``role`` and ``groups``: a sign-in through the identity provider, which has no token."""
    secret = secrets.token_urlsafe(32)
    session.add(
        WebSessionRow(
            id=_digest(secret),
            principal=principal,
            token_fingerprint=token_fingerprint,
            created_at=now,
            expires_at=now + lifetime,
            role=role,
            groups=list(groups) if groups is not None else None,
        )
    )
    await session.flush()
    return secret


async def find(session: AsyncSession, secret: str, *, now: datetime) -> WebSessionRow | None:
    """The live sign-in a browser's secret names, or None (unknown, ended or expired)."""
    if not secret or len(secret) > MAX_SECRET:
        return None
    row = await session.get(WebSessionRow, _digest(secret))
    return row if row is not None and row.expires_at > now else None


async def end(session: AsyncSession, secret: str) -> bool:
    """End the sign-in a secret names (sign-out); whether there was one."""
    if not secret or len(secret) > MAX_SECRET:
        return False
    result = await session.execute(
        delete(WebSessionRow).where(WebSessionRow.id == _digest(secret)).returning(WebSessionRow.id)
    )
    return bool(result.all())


async def end_expired(session: AsyncSession, *, now: datetime) -> int:
    """Remove sign-ins past their expiry (done at each sign-in, so the table stays small)."""
    result = await session.execute(
        delete(WebSessionRow).where(WebSessionRow.expires_at <= now).returning(WebSessionRow.id)
    )
    return len(result.all())
