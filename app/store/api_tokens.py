"""Named API tokens made from the command line (``throughline tokens create``), beside the
ones the configuration names.

A token is 32 random bytes (URL-safe text, prefixed ``tl_``); the store keeps only its
SHA-256 digest, which is enough for a secret of that strength (no stretching needed: there
is nothing to guess). A token may expire; revoking it keeps the row, so the audit log's
entries still name a token that existed. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.store.tables import ApiTokenRow

PREFIX = "tl_"


class TokenError(ValueError):
    """A token that cannot be made or revoked (a taken name, an unknown one)."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def create(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    groups: Sequence[str] = (),
    expires_at: datetime | None,
    now: datetime,
) -> tuple[ApiTokenRow, str]:
    """Store a new token; return its row and the token itself (shown once, never kept)."""
    if await session.scalar(select(ApiTokenRow.id).where(ApiTokenRow.name == name)):
        raise TokenError(f"There is already a token named {name!r}.")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        name=name,
        role=role,
        groups=sorted(set(groups)),
        digest=digest(token),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row, token


async def list_tokens(session: AsyncSession) -> Sequence[ApiTokenRow]:
    return (await session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.name))).all()


async def revoke(session: AsyncSession, name: str, *, now: datetime) -> ApiTokenRow:
    row = await session.scalar(select(ApiTokenRow).where(ApiTokenRow.name == name))
    if row is None:
        raise TokenError(f"There is no token named {name!r}.")
    if row.revoked_at is None:
        row.revoked_at = now
    await session.flush()
    return row


async def find(session: AsyncSession, token: str, *, now: datetime) -> ApiTokenRow | None:
    """The live (unrevoked, unexpired) token row a presented token names, or None."""
    if not token.startswith(PREFIX) or len(token) > 128:
        return None
    row = await session.scalar(select(ApiTokenRow).where(ApiTokenRow.digest == digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row
