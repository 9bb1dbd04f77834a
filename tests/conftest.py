"""Shared fixtures: a database built by ``alembic upgrade head``, isolated per test.

The suite runs on SQLite by default. With ``THROUGHLINE_TEST_DATABASE_URL`` pointing at a
PostgreSQL server, it creates a throwaway database there for the session and drops it at
the end, so concurrent runs never meet.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.config.settings import async_database_url
from app.store import migrations
from app.store.engine import Base, make_engine
from tests.spec.hooks import checking
from tests.spec.validation import Findings

TEST_DATABASE_ENV = "THROUGHLINE_TEST_DATABASE_URL"


def _admin_sync_url(url: str) -> str:
    return str(make_url(url).set(drivername="postgresql+psycopg"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of an empty database for this test session, migrated to head."""
    configured = os.environ.get(TEST_DATABASE_ENV)
    if not configured or make_url(async_database_url(configured)).get_backend_name() == "sqlite":
        path = tmp_path_factory.mktemp("db") / "throughline.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrations.upgrade(url)
        yield url
        return
    admin_url = _admin_sync_url(async_database_url(configured))
    name = f"throughline_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = str(make_url(async_database_url(configured)).set(database=name))
    try:
        migrations.upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        if transaction.is_active:
            await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits become savepoints of the test's outer transaction."""
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def session(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
async def committed_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The shared engine for tests that need real commits across connections.

    Every table is emptied afterwards, so the next test starts clean.
    """
    yield engine
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


@pytest.fixture
def data_dir() -> Path:
    return Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def spec_checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[Findings]:
    """Hold every test's tracker traffic to the official documents (see tests/spec).

    Every request a connector sends and every answer a fake served in this process gives
    is validated; the test fails at teardown with the problems found, unless
    ``tests/spec/deviations.py`` allows them.
    """
    with checking(monkeypatch) as findings:
        yield findings
    if findings.run():
        if os.environ.get("THROUGHLINE_SPEC_LOG"):
            with open(os.environ["THROUGHLINE_SPEC_LOG"], "a") as log:
                log.write("\n".join(findings.problems) + "\n")
        shown = "\n".join(findings.problems[:20])
        pytest.fail(f"traffic outside the official API documents:\n{shown}", pytrace=False)
