"""Sync jobs: what the CLI, the API and the scheduler run for a configured source."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import catalog, sync, trackers
from app.config import ThroughlineConfig
from app.crosslinks import ReferenceResolver
from app.db import session_scope


async def _source_id(
    sessionmaker: async_sessionmaker[AsyncSession], config: ThroughlineConfig, name: str
) -> int:
    async with session_scope(sessionmaker) as session:
        rows = await catalog.apply_config(session, config, now=datetime.now(UTC))
    return rows[name].id


async def sync_source(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    name: str,
    *,
    full: bool = False,
    environ: Mapping[str, str] | None = None,
    http_client: httpx.AsyncClient | None = None,
    progress: Callable[[sync.SyncProgress], None] | None = None,
) -> sync.SyncOutcome:
    """Pull one source's changes (or everything, with ``full``) into the store.

    The HTTP client is built here and closed afterwards unless the caller passed its own.
    """
    source = config.source(name)
    if source is None:
        raise KeyError(f"no source named {name!r} in the configuration")
    source_id = await _source_id(sessionmaker, config, name)
    client = http_client or trackers.build_http_client(source, environ=environ)
    try:
        return await sync.run_sync(
            sessionmaker,
            trackers.build_connector(source, client),
            source_id=source_id,
            full=full,
            overlap=source.overlap,
            max_concurrent_scopes=trackers.scope_concurrency(source),
            progress=progress,
            references=ReferenceResolver.from_config(config),
        )
    finally:
        if http_client is None:
            await client.aclose()


async def census_source(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: ThroughlineConfig,
    name: str,
    *,
    environ: Mapping[str, str] | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> sync.SyncOutcome:
    """Tombstone the source's stored items that none of its scopes holds any more."""
    source = config.source(name)
    if source is None:
        raise KeyError(f"no source named {name!r} in the configuration")
    source_id = await _source_id(sessionmaker, config, name)
    client = http_client or trackers.build_http_client(source, environ=environ)
    try:
        connector = trackers.build_connector(source, client)
        return await sync.run_census(sessionmaker, connector, source_id=source_id)
    finally:
        if http_client is None:
            await client.aclose()
