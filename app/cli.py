"""The ``throughline`` command."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from datetime import UTC, datetime
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
fake_cli = typer.Typer(
    help="Serve a fake tracker (tests, benchmarks, demos).", no_args_is_help=True
)
cli.add_typer(fake_cli, name="fake")

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


@cli.command("sync")
def sync_command(
    source: Annotated[
        str | None, typer.Argument(help="Source name (default: every source).")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read everything, not just changes.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Pull changes (or everything) from the configured trackers into the store."""
    settings = _settings(config)
    loaded = _load_or_exit(settings)
    names = [source] if source else [s.name for s in loaded.sources]
    unknown = [n for n in names if loaded.source(n) is None]
    if unknown or not names:
        typer.echo(
            f"no configured source named {unknown[0]!r}" if unknown else "no sources configured",
            err=True,
        )
        raise typer.Exit(2)
    migrations.upgrade(settings.database_url)
    failed = asyncio.run(_sync_sources(settings, loaded, names, full=full))
    raise typer.Exit(1 if failed else 0)


async def _sync_sources(
    settings: Settings, config: ThroughlineConfig, names: list[str], *, full: bool
) -> bool:
    """Sync each named source in turn; True when any run failed."""
    from app import catalog, jobs
    from app.auth import TokenRegistry
    from app.config import ServerConfig
    from app.db import make_engine, make_sessionmaker, session_scope
    from app.metrics import Metrics
    from app.progress import sync_progress
    from app.state import AppState

    engine = make_engine(settings.database_url)
    state = AppState(
        settings=settings,
        config=config,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        read_sessionmaker=make_sessionmaker(engine, read_only=True),
        metrics=Metrics(),
        # The CLI serves no requests: no API tokens are needed to run a sync.
        tokens=TokenRegistry(ServerConfig(auth="none")),
    )
    failed = False
    try:
        async with session_scope(state.sessionmaker) as session:
            await catalog.apply_config(session, config, now=datetime.now(UTC))
        for name in names:
            with sync_progress(name, full=full) as show:
                outcome = await jobs.sync_source(state, name, full=full, progress=show)
            detail = f" ({'; '.join(outcome.errors.values())})" if outcome.errors else ""
            typer.echo(
                f"{name}: {outcome.status}, {outcome.items_seen:,} item(s) read, "
                f"{outcome.counts.items:,} written, {len(outcome.warnings)} warning(s){detail}"
            )
            failed = failed or outcome.status == "failed"
    finally:
        for client in state.http_clients.values():
            await client.aclose()
        await engine.dispose()
    return failed


@fake_cli.command("jira")
def fake_jira(
    port: Annotated[int, typer.Option(help="Listen port.")] = 8081,
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    issues: Annotated[int, typer.Option(help="How many issues to generate.")] = 2_000,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 1,
    deployment: Annotated[str, typer.Option(help="cloud or datacenter.")] = "cloud",
    latency_ms: Annotated[float, typer.Option(help="Added to every API answer.")] = 0.0,
    rate_limit: Annotated[float | None, typer.Option(help="Requests/s before 429s.")] = None,
    time_zone: Annotated[str, typer.Option(help="The API user's time zone.")] = "Pacific/Auckland",
    email: Annotated[str, typer.Option(help="Basic-auth user (Cloud).")] = "pm@example.com",
    token: Annotated[str, typer.Option(help="API token / PAT accepted.")] = "fake-token",  # noqa: S107
) -> None:
    """Serve a fake Jira with generated data; its control API is under /_fake/."""
    import uvicorn

    from connectors.fake.jira import FakeJira, Faults

    if deployment not in ("cloud", "datacenter"):
        raise typer.BadParameter("deployment must be cloud or datacenter")
    fake = FakeJira.generated(
        issues,
        seed=seed,
        deployment="cloud" if deployment == "cloud" else "datacenter",
        faults=Faults(latency=latency_ms / 1000, rate_limit=rate_limit),
        time_zone=time_zone,
        email=email,
        token=token,
    )
    typer.echo(
        f"fake Jira ({deployment}, {issues:,} issues, seed {seed}) on http://{host}:{port} "
        f"— user {email!r}, token {token!r}"
    )
    uvicorn.run(fake, host=host, port=port, log_level="warning", access_log=False)


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
    from app.process import tune_garbage_collector

    tune_garbage_collector()
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
