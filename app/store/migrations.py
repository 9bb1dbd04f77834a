"""Running and inspecting Alembic migrations from the service and the CLI."""

from __future__ import annotations

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from app.config import install


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration for this installation, pointed at ``url`` when given."""
    scripts = install.resource_path("alembic")
    settings = scripts.parent / "alembic.ini"
    config = Config(str(settings)) if settings.is_file() else Config()
    config.set_main_option("script_location", str(scripts))
    if url is not None:
        config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` (blocking; Alembic runs its own event loop)."""
    command.upgrade(alembic_config(url), revision)


async def run(engine: AsyncEngine, operation: str, revision: str) -> None:
    """Run ``upgrade``, ``downgrade`` or ``stamp`` from inside a running event loop."""

    def apply(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, operation)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(apply)


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _current(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def is_up_to_date(engine: AsyncEngine) -> tuple[bool, str]:
    """Whether the database is at the code's head revision, and a sentence saying so."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    heads = head_revisions()
    if current == heads:
        return True, "migrations at head"
    return False, f"database at {sorted(current) or 'no revision'}, code expects {sorted(heads)}"
