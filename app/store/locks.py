"""Cross-process locks: one holder of a key (``source:acme``, ``report:checkout``) at a time.

Every scheduled job and every manual sync runs under one, so several ``serve`` replicas
and workers on one database never run the same work side by side.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) taken on a
  connection the holder keeps open for as long as it holds the lock. A process that dies
  (or is killed) closes its connection and PostgreSQL releases the lock at once.
- SQLite (one host by design): an exclusive ``flock`` on a file beside the database, which
  the kernel releases when the holding process dies. An in-memory database gets a lock
  private to the process, which is all such a database can be shared with.

Locks are only ever *tried*: work that finds its key held is skipped, not queued (the
holder is doing the same work), so no process waits on another.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def advisory_key(key: str) -> int:
    """A stable signed 64-bit number for ``key`` (PostgreSQL's advisory-lock key space)."""
    digest = hashlib.blake2b(f"throughline:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def source_key(name: str) -> str:
    """The lock every sync and census of one source takes."""
    return f"source:{name}"


class Locks:
    """Try-locks over one database, shared by everything in the process that uses it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        url = make_url(engine.url)
        self.backend = url.get_backend_name()
        database = url.database or ""
        self._directory: Path | None = None
        if self.backend == "sqlite" and database not in ("", ":memory:"):
            self._directory = Path(f"{database}.locks")
        self._held: set[str] = set()

    def held_here(self, key: str) -> bool:
        """Whether this process holds ``key`` now."""
        return key in self._held

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        """Try to take ``key``: yields True while held, or False at once when it is busy."""
        if key in self._held:
            yield False
            return
        self._held.add(key)
        try:
            if self.backend == "postgresql":
                async with self._advisory(key) as got:
                    yield got
            elif self._directory is not None:
                with self._flock(key) as got:
                    yield got
            else:
                yield True
        finally:
            self._held.discard(key)

    @contextlib.asynccontextmanager
    async def _advisory(self, key: str) -> AsyncIterator[bool]:
        number = advisory_key(key)
        connection = await self.engine.connect()
        try:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(
                (
                    await connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": number})
                ).scalar()
            )
            if not got:
                yield False
                return
            try:
                yield True
            finally:
                await asyncio.shield(_unlock(connection, number, key))
        finally:
            await asyncio.shield(connection.close())

    @contextlib.contextmanager
    def _flock(self, key: str) -> Iterator[bool]:
        assert self._directory is not None
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._directory / f"{_SAFE.sub('_', key)}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


async def _unlock(connection: AsyncConnection, number: int, key: str) -> None:
    try:
        await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": number})
    except Exception:
        # A connection that may still hold the lock must never go back to the pool.
        log.warning("could not release the lock %s; dropping its connection", key, exc_info=True)
        await connection.invalidate()
