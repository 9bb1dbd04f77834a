"""The ``throughline`` command."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from app.config import ConfigError, ThroughlineConfig, load_config, secret_references
from app.config.settings import Settings
from app.store import migrations
from app.sync import SyncOutcome
from app.telemetry.logs import configure_logging
from vocabulary import RunStatus

__all__ = ["cli", "main"]

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
    help="Serve a fake tracker for trials, demos and benchmarks.", no_args_is_help=True
)
cli.add_typer(fake_cli, name="fake")
webhooks_cli = typer.Typer(help="Webhooks from the trackers.", no_args_is_help=True)
cli.add_typer(webhooks_cli, name="webhooks")
tokens_cli = typer.Typer(
    help="Named API tokens kept in the database (beside those in the configuration).",
    no_args_is_help=True,
)
cli.add_typer(tokens_cli, name="tokens")

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
    wide_bulkfetch: Annotated[
        bool, typer.Option(help="Accept 1,000-issue bulk fetches of narrow field lists.")
    ] = False,
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
        narrow_bulkfetch=wide_bulkfetch,
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


@tokens_cli.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Who or what holds it, e.g. ci-dashboard.")],
    role: Annotated[str, typer.Option(help="viewer or admin.")] = "viewer",
    group: Annotated[
        list[str] | None,
        typer.Option("--group", "-g", help="A group it belongs to (repeat for more)."),
    ] = None,
    expires_in: Annotated[
        str | None, typer.Option(help="How long it lives: 90d, 12h (default: no expiry).")
    ] = "90d",
) -> None:
    """Make a named token and print it once; only its digest is kept."""
    from app.cli import tokens as tokens_cmd
    from app.config.models import parse_duration
    from app.store.api_tokens import TokenError

    if role not in ("viewer", "admin"):
        typer.echo("--role is viewer or admin", err=True)
        raise typer.Exit(2)
    try:
        lifetime = parse_duration(expires_in) if expires_in and expires_in != "never" else None
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    settings = _settings(None)
    migrations.upgrade(settings.database_url)
    try:
        token = asyncio.run(
            tokens_cmd.create(settings, name=name, role=role, groups=group or [], lifetime=lifetime)
        )
    except TokenError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(token)
    typer.echo(f"token {name!r} ({role}) made; it is shown only now.", err=True)


@tokens_cli.command("list")
def tokens_list() -> None:
    """Every named token: name, role, groups and whether it is live (never the token)."""
    from app.cli import tokens as tokens_cmd

    settings = _settings(None)
    migrations.upgrade(settings.database_url)
    for line in asyncio.run(tokens_cmd.listing(settings)):
        typer.echo(line)


@tokens_cli.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """End a named token at once (it stays listed, as revoked)."""
    from app.cli import tokens as tokens_cmd
    from app.store.api_tokens import TokenError

    settings = _settings(None)
    migrations.upgrade(settings.database_url)
    try:
        asyncio.run(tokens_cmd.revoke(settings, name))
    except TokenError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"token {name!r} revoked")


@cli.command("sync")
def sync_command(
    source: Annotated[
        str | None, typer.Argument(help="Source name (default: every source).")
    ] = None,
    full: Annotated[bool, typer.Option(help="Read everything, not just what changed.")] = False,
    census: Annotated[
        bool, typer.Option(help="Also check for deleted items (a full id listing).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Pull tracker changes into the store now; exit 1 if any source failed.

    On a terminal a progress bar shows each source's projects and items; elsewhere a log
    line every few seconds does.
    """

    from app.cli.progress import sync_progress
    from app.store.engine import make_engine, make_sessionmaker
    from app.store.locks import Locks, source_key
    from app.sync import pull

    settings = _settings(config)
    loaded = _load_or_exit(settings)
    names = [source] if source else [s.name for s in loaded.sources]
    if source and loaded.source(source) is None:
        typer.echo(f"no source named {source!r} in {settings.config}", err=True)
        raise typer.Exit(1)
    migrations.upgrade(settings.database_url)

    async def run() -> bool:
        engine = make_engine(settings.database_url)
        sessionmaker = make_sessionmaker(engine)
        locks = Locks(engine)
        ok = True
        try:
            for name in names:
                # The service's scheduler and API take the same lock: one sync at a time.
                async with locks.hold(source_key(name)) as held:
                    if not held:
                        typer.echo(
                            f"{name}: a sync is already running elsewhere; skipped", err=True
                        )
                        ok = False
                        continue
                    await pull.abandon_orphaned_runs(sessionmaker, name)
                    with sync_progress(name, full=full) as show:
                        outcome = await pull.sync_source(
                            sessionmaker, loaded, name, full=full, progress=show
                        )
                    ok &= outcome.status == RunStatus.SUCCEEDED
                    typer.echo(_sync_line(name, "sync", outcome))
                    if census:
                        counted = await pull.census_source(sessionmaker, loaded, name)
                        ok &= counted.status == RunStatus.SUCCEEDED
                        typer.echo(_sync_line(name, "census", counted))
        finally:
            await engine.dispose()
        return ok

    if not asyncio.run(run()):
        raise typer.Exit(1)


def _sync_line(name: str, what: str, outcome: SyncOutcome) -> str:
    line = (
        f"{name}: {what} {outcome.status}: {outcome.items_seen} seen, "
        f"{outcome.counts.items} written, {outcome.counts.deleted} deleted"
    )
    if outcome.warnings:
        line += f", {len(outcome.warnings)} warning(s)"
    if outcome.errors:
        line += "; " + "; ".join(outcome.errors.values())
    return line


@webhooks_cli.command("register")
def webhooks_register(
    source: Annotated[str, typer.Argument(help="Source name.")],
    public_url: Annotated[
        str | None,
        typer.Option(
            help="This server's URL as the tracker reaches it (THROUGHLINE_SERVER__PUBLIC_URL)."
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Asana: register projects that already have a webhook anew (delete the old "
            "webhook in Asana first); without it they are skipped and keep their secret.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Register the source's webhooks with its tracker (Asana: against the running server,
    which takes the handshake; Jira: through the REST API where allowed, else the admin
    steps and the secret to use)."""
    from app.store.engine import make_engine, make_sessionmaker
    from app.webhooks import register

    settings = _settings(config)
    loaded = _load_or_exit(settings)
    url = public_url or settings.server.public_url
    if not url:
        typer.echo(
            "the server's public URL is needed: --public-url or THROUGHLINE_SERVER__PUBLIC_URL",
            err=True,
        )
        raise typer.Exit(2)
    if loaded.source(source) is None:
        typer.echo(f"no source named {source!r} in {settings.config}", err=True)
        raise typer.Exit(1)
    migrations.upgrade(settings.database_url)

    async def run() -> register.Registration:
        engine = make_engine(settings.database_url)
        try:
            return await register.register(
                make_sessionmaker(engine),
                loaded,
                source,
                public_url=url,
                environ=os.environ,
                replace=replace,
            )
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    for line in result.lines:
        typer.echo(line)
    if not result.ok:
        raise typer.Exit(1)


@cli.command("report")
def report_command(
    program: Annotated[
        str | None, typer.Argument(help="Program key (or --all for every program).")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every configured program.")] = False,
    week: Annotated[
        str | None,
        typer.Option(help="ISO week, e.g. 2026-W47 (default: the latest week that is over)."),
    ] = None,
    deliver: Annotated[
        bool, typer.Option(help="Also deliver it (Slack, Confluence, e-mail), as scheduled.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Then write the archive as a static site into this directory."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write weekly status reports now, for past weeks too (from their snapshots)."""
    import asyncio

    from app.cli import report as report_cli

    settings = _settings(config)
    loaded = _load_or_exit(settings)
    if every == (program is not None):
        typer.echo("name one program, or pass --all", err=True)
        raise typer.Exit(2)
    keys = [p.key for p in loaded.programs] if every else [program or ""]
    unknown = [k for k in keys if loaded.program(k) is None]
    if unknown:
        typer.echo(f"no program named {unknown[0]!r} in {settings.config}", err=True)
        raise typer.Exit(1)
    migrations.upgrade(settings.database_url)
    request = report_cli.Request(keys=keys, week=week, deliver=deliver, out=out)
    lines, ok = asyncio.run(report_cli.run(settings, loaded, request, environ=os.environ))
    for line in lines:
        typer.echo(line, err=line.startswith("!"))
    if not ok:
        raise typer.Exit(1)


@fake_cli.command("asana")
def fake_asana(
    port: Annotated[int, typer.Option(help="Listen port.")] = 8010,
    host: Annotated[str, typer.Option(help="Listen address (keep it on loopback).")] = "127.0.0.1",
    tasks: Annotated[int, typer.Option(help="Top-level tasks to generate.")] = 2_000,
    projects: Annotated[
        int | None, typer.Option(help="Projects to spread them over (default: one per 500).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same workspace.")] = 1,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every request.")] = 0,
    requests_per_minute: Annotated[
        int | None, typer.Option(help="Asana's quota to enforce (150 free, 1500 paid).")
    ] = None,
) -> None:
    """Serve a fake Asana (API under /api/1.0, controls under /_fake) until stopped."""
    import uvicorn

    from connectors.fake.asana import FakeAsana, generate

    fake = FakeAsana(generate(tasks, seed=seed, projects=projects), seed=seed)
    fake.faults.latency = latency_ms / 1000
    fake.faults.requests_per_minute = requests_per_minute
    world = fake.world
    typer.echo(
        f"fake Asana: http://{host}:{port}/api/1.0  workspace {world.workspace}, "
        f"{len(world.projects)} projects, {len(world.tasks)} tasks (any Bearer token)",
    )
    shown = ", ".join(list(world.projects)[:5])
    typer.echo(f"  projects: {shown}{' …' if len(world.projects) > 5 else ''}")
    uvicorn.run(fake, host=host, port=port, log_level="warning", access_log=False)


@cli.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    migrate: Annotated[
        bool, typer.Option(help="Migrate the database before serving (off for replicas).")
    ] = True,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Also run the scheduler and webhook worker in this process (the default, "
            "unless THROUGHLINE_SCHEDULER__ENABLED=false); --no-worker serves the API and "
            "pages only, beside separate `throughline worker` processes.",
        ),
    ] = None,
) -> None:
    """Serve the API and pages (and, by default, the scheduler and webhook worker)."""
    settings = _settings(config)
    _load_or_exit(settings)
    enabled = worker if worker is not None else settings.scheduler.enabled is not False
    settings = _with_role(settings, "server", background=enabled)
    if migrate:
        migrations.upgrade(settings.database_url)
    _run_server(settings, host or settings.server.host, port or settings.server.port)


@cli.command("worker")
def worker_command(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Health listener address.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Health listener port: /healthz, /readyz, /metrics.")
    ] = 8001,
    migrate: Annotated[bool, typer.Option(help="Migrate the database before starting.")] = False,
) -> None:
    """Run the scheduler and webhook worker without the API (beside `serve --no-worker`).

    Only the operational endpoints listen, for health checks and Prometheus. Start as many
    as you like: each job runs once per due time across all of them.
    """
    settings = _with_role(_settings(config), "worker", background=True)
    _load_or_exit(settings)
    if migrate:
        migrations.upgrade(settings.database_url)
    _run_server(settings, host, port)


@cli.command("run-job")
def run_job_command(
    job: Annotated[str, typer.Argument(help="A scheduled job's id, e.g. sync:acme-jira")],
    config: ConfigOption = None,
) -> None:
    """Run one scheduled job at once (under its lock, as the scheduler would) and exit."""
    from app.runtime.lifecycle import service_state

    settings = _settings(config)
    loaded = _load_or_exit(settings)
    migrations.upgrade(settings.database_url)

    async def run() -> int:
        async with service_state(settings, loaded, environ=os.environ, scheduler=True) as state:
            assert state.scheduler is not None
            if state.scheduler.job(job) is None:
                known = ", ".join(spec.id for spec in state.scheduler.specs)
                typer.echo(f"no job {job!r}; jobs: {known}", err=True)
                return 2
            if not await state.scheduler.run_now(job):
                typer.echo(f"{job} is running in another process", err=True)
                return 1
        return 0

    code = asyncio.run(run())
    if code:
        raise typer.Exit(code)


def _with_role(settings: Settings, role: str, *, background: bool) -> Settings:
    """The process's part: the scheduler and the webhook worker run together or not."""
    scheduler = settings.scheduler.model_copy(update={"enabled": background})
    hooks = settings.webhooks.model_copy(update={"worker": background})
    return settings.model_copy(update={"role": role, "scheduler": scheduler, "webhooks": hooks})


@cli.command()
def demo(
    port: Annotated[int, typer.Option(help="Listen port (a free one when it is taken).")] = 8000,
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps its data.")] = Path(".demo"),
    life_every: Annotated[
        float, typer.Option(help="Seconds between two looks at the organisation's changes.")
    ] = 3.0,
    week_every: Annotated[
        float,
        typer.Option(help="Seconds the organisation takes for a working week, at its pace."),
    ] = 3600.0,
    sync_every: Annotated[
        float, typer.Option(help="Seconds between two pulls (webhooks carry changes between).")
    ] = 30.0,
    reset: Annotated[
        bool, typer.Option("--reset", help="Empty --workdir first; every start replays the start.")
    ] = False,
) -> None:
    """A living organisation in a fake Jira and a fake Asana, synced by the real
    connectors and served at the printed URL; Ctrl-C stops everything."""
    from app import demo as demo_module

    options = demo_module.Options(
        workdir=workdir,
        port=port,
        life_every=life_every,
        week_every=week_every,
        sync_every=sync_every,
        reset=reset,
    )
    configure_logging(demo_module.settings_for(workdir).log)
    typer.echo("Throughline demo: starting the fake Jira and Asana and playing six months…")

    def ready(running: demo_module.Demo) -> None:
        typer.echo(
            f"\nThroughline demo ready in {running.started_in:.1f}s: {running.url}/"
            "  (auth: none — local use only)\n"
            f"  fake Jira:  {running.jira_url}\n  fake Asana: {running.asana_url}/api/1.0\n"
            "  The trackers keep changing; the pages follow within seconds. Ctrl-C stops.\n"
        )

    asyncio.run(demo_module.run(options, ready=ready))
    typer.echo("Throughline demo stopped.")


def _run_server(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from app.cli.process import tune_garbage_collector
    from app.web.factory import create_app
    from app.web.server import server_config

    # The loopback names this server answers to by default are those of its own port.
    server_settings = settings.server.model_copy(update={"host": host, "port": port})
    settings = settings.model_copy(update={"server": server_settings})
    app = create_app(settings)
    # The app (routes, schemas, templates) lives as long as the server: frozen too, full
    # collections stop re-walking it, which otherwise stalls every request in flight
    # (measured: p95 of a program's status at 50 clients, 80 ms → 25 ms).
    tune_garbage_collector()

    class Server(uvicorn.Server):
        """On SIGTERM/SIGINT, stops the scheduler taking work before uvicorn stops
        listening; requests in flight get half the shutdown bound, running jobs the rest
        (see ``app.runtime.lifecycle``)."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            state = getattr(app.state, "throughline", None)
            if state is not None:
                state.request_stop()
            super().handle_exit(sig, frame)
            # uvicorn re-raises the signal once it has stopped, so the process would die
            # of SIGTERM after its clean shutdown: a stop asked for and done exits 0.
            captured = getattr(self, "_captured_signals", None)
            if sig == signal.SIGTERM and isinstance(captured, list) and sig in captured:
                captured.remove(sig)

    server = Server(server_config(app, settings, host=host, port=port))
    server.run()
    if not server.started:
        raise typer.Exit(1)


def main() -> None:
    from app.cli.process import tune_garbage_collector

    tune_garbage_collector()
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
