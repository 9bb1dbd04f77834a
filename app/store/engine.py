"""Engine, sessions and the declarative base shared by models and migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, MetaData, TypeDecorator, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool

# Stable constraint names let Alembic compare and drop constraints by name on every dialect.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def word_column(words: type[StrEnum], *, length: int = 16) -> Enum:
    """A column of one of the shared vocabulary's words, stored as its string value.

    ``native_enum=False``: a plain ``VARCHAR`` on every database (no type to migrate when
    a word is added), checked by SQLAlchemy on the way in and read back as the enum.
    """
    return Enum(
        words,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC on every database and always read back zone-aware.

    SQLite keeps datetimes as text without a zone, and newer-wins compares them as text,
    so every value is converted to UTC before it is written; a naive value is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a datetime without a time zone: {value}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 20,
    pool_timeout: float = 10.0,
) -> AsyncEngine:
    """An async engine for the URL, with SQLite tuned for a small concurrent service.

    The pool holds ``pool_size`` connections and opens up to ``max_overflow`` more when
    busy; a caller that finds none free within ``pool_timeout`` seconds gets
    ``sqlalchemy.exc.TimeoutError`` (a request: 503). Connections are held only for a unit
    of work, never for the time a client takes to read an answer, and one more for each
    cross-process lock held (``app.store.locks``: one per running sync or job).
    """
    kwargs: dict[str, Any] = {"echo": echo}
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": 30}
        if make_url(url).database in (None, "", ":memory:"):
            kwargs["poolclass"] = NullPool
        else:
            kwargs.update(pool)
    else:
        kwargs.update(pool_pre_ping=True, **pool)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite opens transactions lazily and never for SAVEPOINT; taking over BEGIN makes
    # transactions (and the tests' savepoints) behave as on PostgreSQL.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_sessionmaker(
    engine: AsyncEngine, *, read_only: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions that write take SQLite's write lock when they begin, and wait for it.

    Two deferred SQLite transactions that both later write fail with "database is locked"
    instead of queueing, so writers begin IMMEDIATE. Readers begin DEFERRED and never block
    one another (WAL). PostgreSQL ignores the option.
    """
    bind = engine.execution_options(sqlite_begin="DEFERRED") if read_only else engine
    return async_sessionmaker(bind, expire_on_commit=False)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block ends normally, roll back when it raises."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
