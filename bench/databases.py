"""Scratch databases for benchmarks: a temporary SQLite file, or a throwaway PostgreSQL DB.

Set ``THROUGHLINE_BENCH_POSTGRES_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/test``)
to include PostgreSQL; a database is created on that server per benchmark and dropped.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config.settings import async_database_url
from app.store import migrations
from app.store.engine import make_engine

POSTGRES_ENV = "THROUGHLINE_BENCH_POSTGRES_URL"


def backends() -> list[str]:
    """Database kinds to benchmark on: SQLite always, PostgreSQL when configured."""
    return ["SQLite", "PostgreSQL"] if os.environ.get(POSTGRES_ENV) else ["SQLite"]


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    await migrations.run(engine, "upgrade", "head")
    await engine.dispose()


@asynccontextmanager
async def scratch_database(kind: str) -> AsyncIterator[str]:
    """An empty, migrated database of ``kind``; removed afterwards."""
    if kind == "SQLite":
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{directory}/bench.db"
            await _migrate(url)
            yield url
        return
    server = make_url(async_database_url(os.environ[POSTGRES_ENV]))
    admin = create_engine(server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    name = f"throughline_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        await _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
