"""What the operators see of each configured source: freshness, counts, the last error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import store
from app.config import ThroughlineConfig

SETTLED = ("succeeded", "partial")
"""Runs after which the store reflects the tracker (a partial run missed only some scopes)."""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    kind: str
    url: str
    running: bool
    last_sync_at: datetime | None
    last_status: str | None
    freshness_seconds: float | None
    items: int
    deleted_items: int
    last_error: str | None


async def list_source_status(
    session: AsyncSession,
    config: ThroughlineConfig,
    *,
    now: datetime,
    running: Callable[[str], bool],
) -> list[SourceStatus]:
    """One line per configured source, in configuration order."""
    statuses = []
    for source in config.sources:
        row = await store.get_source(session, source.name)
        last = settled = None
        items = deleted = 0
        if row is not None:
            last = await store.get_last_run(session, row.id)
            settled = await store.get_last_run(session, row.id, statuses=SETTLED)
            items = await store.count_items(session, row.id)
            deleted = await store.count_items(session, row.id, deleted=True)
        synced_at = settled.finished_at if settled else None
        statuses.append(
            SourceStatus(
                name=source.name,
                kind=source.kind,
                url=source.url,
                running=running(source.name),
                last_sync_at=synced_at,
                last_status=last.status if last else None,
                freshness_seconds=(now - synced_at).total_seconds() if synced_at else None,
                items=items,
                deleted_items=deleted,
                last_error=last.error if last else None,
            )
        )
    return statuses
