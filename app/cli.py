"""The ``throughline`` command."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from app import migrations
from app.config import ConfigError, ThroughlineConfig, load_config, secret_references
from app.logs import configure_logging
from app.settings import Settings

cli = typer.Typer(
    name="throughline",
    help="Program status rolled up from Jira and Asana.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")

log = logging.getLogger("throughline")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Configuration file (default: $THROUGHLINE_CONFIG)."),
]


def _settings(config_path: Path | None) -> Settings:
    settings = Settings()
    if config_path is not None:
        settings = settings.model_copy(update={"config": config_path})
    configure_logging(settings.log)
    return settings


def _load_or_exit(settings: Settings) -> ThroughlineConfig:
    try:
        return load_config(settings.config, environ=os.environ)
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None


@cli.command("check-config")
def check_config(config: ConfigOption = None) -> None:
    """Validate the configuration file and the secrets it names; exit 1 on any problem."""
    settings = _settings(config)
    loaded = _load_or_exit(settings)
    typer.echo(f"{settings.config}: valid")
    typer.echo(f"  access: {loaded.server.auth}, {len(loaded.server.tokens)} token(s)")
    for source in loaded.sources:
        projects = ", ".join(source.projects) or "(from the tracker)"
        typer.echo(f"  source {source.name} ({source.kind}) {source.url}: {projects}")
    for program in loaded.programs:
        typer.echo(
            f"  program {program.key} '{program.name}': {len(program.outcomes)} outcome(s), "
            f"{program.timezone}, reports '{program.report.cron}'"
        )
    typer.echo(
        f"  secrets read from: {', '.join(sorted({e for _, e in secret_references(loaded)}))}"
        if secret_references(loaded)
        else "  no secrets needed"
    )


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database ($THROUGHLINE_DATABASE_URL) to the latest schema."""
    settings = _settings(None)
    migrations.upgrade(settings.database_url, revision)
    typer.echo(f"database migrated to {revision}")


@cli.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    migrate: Annotated[
        bool, typer.Option(help="Migrate the database before serving (off for replicas).")
    ] = True,
) -> None:
    """Serve the API and pages."""
    settings = _settings(config)
    _load_or_exit(settings)
    if migrate:
        migrations.upgrade(settings.database_url)
    _run_server(settings, host or settings.server.host, port or settings.server.port)


@cli.command()
def demo(
    port: Annotated[int, typer.Option(help="Listen port.")] = 8000,
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps its data.")] = Path(".demo"),
) -> None:
    """Serve Throughline with the demo configuration on a local SQLite store."""
    from app import demo as demo_module

    settings = demo_module.prepare(workdir)
    configure_logging(settings.log)
    migrations.upgrade(settings.database_url)
    typer.echo(f"Throughline demo: http://127.0.0.1:{port}/  (auth: none — local use only)")
    _run_server(settings, "127.0.0.1", port)


def _run_server(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from app.main import create_app

    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
