"""A source's webhook subscription: sealed secrets, registrations, heartbeats, freshness."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import AsanaSourceConfig, JiraSourceConfig
from app.store.tables import WebhookSubscriptionRow

ASANA_SILENT_AFTER = timedelta(hours=9)
"""Asana sends a heartbeat every 8 hours, so 9 hours without one is silence."""
JIRA_SILENT_AFTER = timedelta(days=1)


async def get(session: AsyncSession, source_id: int) -> WebhookSubscriptionRow | None:
    return await session.scalar(
        select(WebhookSubscriptionRow).where(WebhookSubscriptionRow.source_id == source_id)
    )


async def get_or_create(
    session: AsyncSession, source_id: int, *, now: datetime
) -> WebhookSubscriptionRow:
    row = await get(session, source_id)
    if row is None:
        row = WebhookSubscriptionRow(
            source_id=source_id, secrets={}, webhook_ids=[], updated_at=now
        )
        session.add(row)
        await session.flush()
    return row


async def open_handshake(
    session: AsyncSession, source_id: int, *, until: datetime, now: datetime
) -> None:
    """Let handshakes set secrets until ``until`` (a registration is under way)."""
    row = await get_or_create(session, source_id, now=now)
    row.handshake_open_until, row.updated_at = until, now


async def store_secret(
    session: AsyncSession, source_id: int, resource: str, sealed: str, *, now: datetime
) -> bool:
    """Keep a handshake's sealed secret; False (nothing stored) outside a registration."""
    row = await get(session, source_id)
    if row is None or row.handshake_open_until is None or row.handshake_open_until < now:
        return False
    row.secrets = {**row.secrets, resource: sealed}
    row.updated_at = now
    return True


async def record_registration(
    session: AsyncSession,
    source_id: int,
    webhook_ids: list[str],
    *,
    now: datetime,
    expires_at: datetime | None = None,
) -> WebhookSubscriptionRow:
    row = await get_or_create(session, source_id, now=now)
    row.webhook_ids = sorted(set(row.webhook_ids) | set(webhook_ids))
    row.registered_at, row.expires_at, row.updated_at = now, expires_at, now
    row.handshake_open_until = None
    return row


async def record_heartbeat(session: AsyncSession, source_id: int, *, now: datetime) -> None:
    row = await get_or_create(session, source_id, now=now)
    row.last_heartbeat_at = now


async def record_freshness(
    session: AsyncSession,
    source_id: int,
    *,
    store_lag: float | None,
    rollup_lag: float | None,
    now: datetime,
) -> None:
    row = await get_or_create(session, source_id, now=now)
    row.last_applied_at = now
    if store_lag is not None:
        row.store_lag_seconds = store_lag
    if rollup_lag is not None:
        row.rollup_lag_seconds = rollup_lag


def silent_after(source: JiraSourceConfig | AsanaSourceConfig) -> timedelta:
    """How long without a delivery or heartbeat before the source's webhooks count as silent."""
    if source.webhook is not None and source.webhook.silent_after is not None:
        return source.webhook.silent_after
    return ASANA_SILENT_AFTER if source.kind == "asana" else JIRA_SILENT_AFTER
