"""Alembic environment: the URL comes from Settings (or the caller), never from alembic.ini."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import Connection

from alembic import context
from app.config.settings import Settings
from app.store import tables  # noqa: F401  (registers every table on Base.metadata)
from app.store.engine import Base, UTCDateTime, make_engine

config = context.config
target_metadata = Base.metadata


def _process_revision_directives(ctx: Any, revision: Any, directives: list[Any]) -> None:
    # An autogenerate run that found no change writes no empty revision.
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations spell the portable column type, not the Python-side conversion.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        process_revision_directives=_process_revision_directives,
        render_item=_render_item,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url") or Settings().database_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(url))


main()
