"""Group commit for intake: deliveries arriving together share one short transaction.

Each delivery is still committed before its answer, and in a transaction of intake alone
(never one that applies events), but fifty clients posting at once cost one commit, not
fifty: on SQLite, whose writers queue for one lock, that is the difference between a few
hundred and a few thousand deliveries a second. A group the database refuses because of
what one delivery carries is committed again delivery by delivery, so only that one fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store import records
from app.store.engine import session_scope
from app.webhooks import inbox

log = logging.getLogger(__name__)

MAX_GROUP = 1_000


class GroupCommitter:
    """Stores event rows, batching those that wait at the same time into one commit."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def store(self, row: Mapping[str, Any]) -> bool:
        """Store one row; True when it was new, False for a delivery already stored."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((dict(row), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            first: dict[tuple[int, str], int] = {}
            for index, (row, _) in enumerate(group):
                first.setdefault((row["source_id"], row["delivery_id"]), index)
            rows = [group[i][0] for i in first.values()]
            try:
                # Shielded: a client that hangs up must not cut a commit others wait on.
                stored = await asyncio.shield(self._commit(rows))
            except Exception as exc:
                if len(rows) == 1 or not records.is_record_fault(exc):
                    _fail(group, exc)
                    continue
                log.warning("a group of %d deliveries was refused (%r); one by one", len(rows), exc)
                stored, failed = await asyncio.shield(self._commit_each(rows))
                _fail([(r, f) for r, f in group if _key(r) in failed], failed)
            for index, (row, future) in enumerate(group):
                key = _key(row)
                if not future.done():
                    future.set_result(key in stored and first[key] == index)

    async def _commit(self, rows: list[dict[str, Any]]) -> set[tuple[int, str]]:
        async with session_scope(self._sessionmaker) as session:
            return await inbox.store_events(session, rows)

    async def _commit_each(
        self, rows: list[dict[str, Any]]
    ) -> tuple[set[tuple[int, str]], dict[tuple[int, str], Exception]]:
        stored: set[tuple[int, str]] = set()
        failed: dict[tuple[int, str], Exception] = {}
        for row in rows:
            try:
                stored |= await self._commit([row])
            except Exception as exc:
                failed[_key(row)] = exc
        return stored, failed


def _key(row: Mapping[str, Any]) -> tuple[int, str]:
    return (row["source_id"], row["delivery_id"])


def _fail(
    waiting: list[tuple[dict[str, Any], asyncio.Future[bool]]],
    error: Exception | Mapping[tuple[int, str], Exception],
) -> None:
    for row, future in waiting:
        if not future.done():
            future.set_exception(error if isinstance(error, Exception) else error[_key(row)])
