"""What ``throughline tokens`` does: named API tokens kept in the store as digests, each
change recorded in the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from app.config.settings import Settings
from app.store import api_tokens
from app.store.audit import record_audit
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.store.tables import ApiTokenRow

ACTOR = "cli"


def _describe(row: ApiTokenRow) -> dict[str, object]:
    return {
        "name": row.name,
        "role": row.role,
        "groups": list(row.groups or ()),
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
    }


async def create(
    settings: Settings,
    *,
    name: str,
    role: str,
    groups: Sequence[str],
    lifetime: timedelta | None,
    now: datetime | None = None,
) -> str:
    """Make a token and return it (the only time it is shown)."""
    now = now or datetime.now(UTC)
    engine = make_engine(settings.database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            row, token = await api_tokens.create(
                session,
                name=name,
                role=role,
                groups=groups,
                expires_at=now + lifetime if lifetime else None,
                now=now,
            )
            await record_audit(
                session, actor=ACTOR, action="token.create", subject=name, after=_describe(row)
            )
    finally:
        await engine.dispose()
    return token


async def listing(settings: Settings, *, now: datetime | None = None) -> list[str]:
    """One line per token: name, role, groups, and whether it is live."""
    now = now or datetime.now(UTC)
    engine = make_engine(settings.database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            rows = await api_tokens.list_tokens(session)
    finally:
        await engine.dispose()
    lines = []
    for row in rows:
        if row.revoked_at is not None:
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}Z"
        elif row.expires_at is not None and row.expires_at <= now:
            state = f"expired {row.expires_at:%Y-%m-%d %H:%M}Z"
        elif row.expires_at is not None:
            state = f"expires {row.expires_at:%Y-%m-%d %H:%M}Z"
        else:
            state = "never expires"
        groups = ", ".join(row.groups or ()) or "no groups"
        lines.append(f"{row.name}\t{row.role}\t{groups}\t{state}")
    return lines


async def revoke(settings: Settings, name: str, *, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    engine = make_engine(settings.database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            row = await api_tokens.revoke(session, name, now=now)
            before = _describe(row) | {"revoked_at": None}
            await record_audit(
                session,
                actor=ACTOR,
                action="token.revoke",
                subject=name,
                before=before,
                after=_describe(row),
            )
    finally:
        await engine.dispose()
