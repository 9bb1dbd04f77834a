"""What the operators see of each configured source: freshness, counts, the last error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import AsanaSourceConfig, JiraSourceConfig, ThroughlineConfig
from app.store import records
from app.sync.pull import ORPHANED
from app.webhooks import inbox, subscriptions
from vocabulary import EventState, RunStatus

SourceConfig = JiraSourceConfig | AsanaSourceConfig

SETTLED = (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
"""Runs after which the store reflects the tracker (a partial run missed only some scopes)."""


@dataclass(frozen=True, slots=True)
class WebhookStatus:
    """How a source's webhooks are doing: alive, backed up, and how fresh they keep it."""

    registered: bool
    last_delivery_at: datetime | None
    last_heartbeat_at: datetime | None
    silent: bool
    """Webhooks are expected (registered, or deliveries seen) but none came for longer
    than ``silent_after_seconds``: the scheduled pull is all that keeps the source fresh."""
    silent_after_seconds: float
    pending: int
    failed: int
    rejected: int
    store_lag_seconds: float | None
    """Last applied batch: tracker ``updated`` → visible in the store (worst item)."""
    rollup_lag_seconds: float | None
    """Last applied batch: tracker ``updated`` → visible in the roll-up (worst item)."""
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    kind: str
    url: str
    running: bool
    last_sync_at: datetime | None
    last_status: RunStatus | None
    freshness_seconds: float | None
    items: int
    deleted_items: int
    last_error: str | None
    webhooks: WebhookStatus | None = None


async def list_source_status(
    session: AsyncSession,
    config: ThroughlineConfig,
    *,
    now: datetime,
    running: Callable[[str], bool],
    settle: Callable[[str], Awaitable[bool]] | None = None,
) -> list[SourceStatus]:
    """One line per configured source, in configuration order.

    A last run still marked running that nobody is running any more (its process was
    killed) is settled as abandoned by ``settle`` and shown so, not as running until the
    next sync."""
    statuses = []
    for source in config.sources:
        row = await records.get_source(session, source.name)
        last = settled = None
        items = deleted = 0
        if row is not None:
            last = await records.get_last_run(session, row.id)
            settled = await records.get_last_run(session, row.id, statuses=SETTLED)
            items = await records.count_items(session, row.id)
            deleted = await records.count_items(session, row.id, deleted=True)
        synced_at = settled.finished_at if settled else None
        last_status = last.status if last else None
        last_error = last.error if last else None
        if (
            last_status == RunStatus.RUNNING
            and settle is not None
            and not running(source.name)
            and await settle(source.name)
        ):
            last_status, last_error = RunStatus.ABANDONED, ORPHANED
        hooks = await _webhook_status(session, row.id, source, now) if row is not None else None
        statuses.append(
            SourceStatus(
                name=source.name,
                kind=source.kind,
                url=source.url,
                running=running(source.name),
                last_sync_at=synced_at,
                last_status=last_status,
                freshness_seconds=(now - synced_at).total_seconds() if synced_at else None,
                items=items,
                deleted_items=deleted,
                last_error=last_error,
                webhooks=hooks,
            )
        )
    return statuses


async def _webhook_status(
    session: AsyncSession, source_id: int, source: SourceConfig, now: datetime
) -> WebhookStatus:
    row = await subscriptions.get(session, source_id)
    counts = await inbox.count_by_state(session, source_id)
    delivered = await inbox.last_received_at(session, source_id)
    heartbeat = row.last_heartbeat_at if row else None
    registered = row.registered_at if row else None
    limit = subscriptions.silent_after(source)
    latest = max((t for t in (delivered, heartbeat, registered) if t is not None), default=None)
    return WebhookStatus(
        registered=registered is not None,
        last_delivery_at=delivered,
        last_heartbeat_at=heartbeat,
        silent=latest is not None and now - latest > limit,
        silent_after_seconds=limit.total_seconds(),
        pending=counts.get(EventState.PENDING, 0),
        failed=counts.get(EventState.FAILED, 0),
        rejected=counts.get(EventState.REJECTED, 0),
        store_lag_seconds=row.store_lag_seconds if row else None,
        rollup_lag_seconds=row.rollup_lag_seconds if row else None,
        expires_at=row.expires_at if row else None,
    )
