"""A source's webhook subscription: sealed secrets, registrations, heartbeats, freshness."""

from __future__ import annotations

from collections.abc import Sequence
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
    session: AsyncSession,
    source_id: int,
    resources: Sequence[str],
    *,
    until: datetime,
    now: datetime,
) -> None:
    """Let one handshake for each of ``resources`` (the webhooks a registration is about to
    create) set its secret, until ``until`` or until the registration ends."""
    row = await get_or_create(session, source_id, now=now)
    row.handshake_open_until, row.handshake_resources = until, sorted(set(resources))
    row.updated_at = now


async def close_handshake(session: AsyncSession, source_id: int, *, now: datetime) -> None:
    """The registration ended: no handshake is accepted any more."""
    row = await get(session, source_id)
    if row is not None:
        row.handshake_open_until, row.handshake_resources, row.updated_at = None, [], now


async def store_secret(
    session: AsyncSession, source_id: int, resource: str, sealed: str, *, now: datetime
) -> str | None:
    """Keep a handshake's sealed secret; or, storing nothing, say why it is refused.

    A handshake is taken only while a registration is creating a webhook for ``resource``,
    once for that resource, and never in place of a secret already kept: a forged
    handshake can neither plant a secret nor replace the real one.
    """
    row = await session.scalar(
        select(WebhookSubscriptionRow)
        .where(WebhookSubscriptionRow.source_id == source_id)
        .with_for_update()
    )
    if row is None or row.handshake_open_until is None or row.handshake_open_until < now:
        return "no webhook registration of this source is under way"
    if resource not in (row.handshake_resources or ()):
        return f"the registration under way creates no webhook for {resource!r}"
    if resource in row.secrets:
        return f"a secret for {resource!r} is already kept"
    row.secrets = {**row.secrets, resource: sealed}
    row.handshake_resources = [r for r in row.handshake_resources if r != resource]
    row.updated_at = now
    return None


async def forget_secrets(
    session: AsyncSession, source_id: int, resources: Sequence[str], *, now: datetime
) -> None:
    """Drop the kept secrets of ``resources`` (an operator registering them anew)."""
    row = await get(session, source_id)
    if row is not None:
        row.secrets = {k: v for k, v in row.secrets.items() if k not in resources}
        row.updated_at = now


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
    row.handshake_open_until, row.handshake_resources = None, []
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
