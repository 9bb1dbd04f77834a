"""The running demo: the fakes and Throughline on loopback sockets in one event loop.

Start-up: both fakes listen on free ports; the configuration is written for them; the
store is migrated; six months of history are played and stored (``history``); then
Throughline serves the store at the printed URL, with its scheduler (a sync of each
source every ``sync_every``, the reconciliation) and its webhook worker; the webhooks of
both fakes are registered against it (``register_webhooks``). While it runs, the
organisation keeps working (``Flow.step`` every few seconds): each change is delivered
by the fake's webhook, applied by the worker, and on the pages within seconds.

Stopping (Ctrl-C, SIGTERM, or the ``stop`` event) cancels the loops, shuts the three
servers down and closes the fakes' clients: nothing keeps running, no thread is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from pydantic import SecretStr

from app.config import ThroughlineConfig, load_config
from app.config.settings import LogSettings, SchedulerSettings, Settings, WebhookSettings
from app.demo import config as demo_config
from app.demo import history
from app.store import migrations
from app.store.engine import make_engine, make_sessionmaker
from app.webhooks import register
from connectors.fake.org import Flow, Organisation
from connectors.jira import jql as jql_text

log = logging.getLogger("throughline.demo")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Options:
    workdir: Path = Path(".demo")
    host: str = "127.0.0.1"
    port: int = 8000
    """Throughline's port; a free one when it is taken (or 0)."""
    life_every: float = 3.0
    """Seconds between two changes someone makes in a tracker."""
    sync_every: float = 30.0
    """Seconds between two pulls of each source (webhooks carry the changes between)."""
    seed: int = 7
    today: date | None = None


@dataclass(slots=True)
class Demo:
    """What a running demo exposes to its caller (the CLI prints, a test pokes)."""

    url: str
    jira_url: str
    asana_url: str
    org: Organisation
    flow: Flow
    config: ThroughlineConfig
    started_in: float
    changes: list[str] = field(default_factory=list)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the demo: three servers share a process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        if port == 0:
            raise
        log.warning("port %d is taken; listening on a free one", port)
        sock.bind((host, 0))
    return sock


async def _serve(
    app: Any,
    host: str,
    port: int,
    servers: list[tuple[_Server, asyncio.Task[None]]],
    *,
    sock: socket.socket | None = None,
) -> str:
    """Serve ``app`` in this loop until the demo stops; its base URL once it listens."""
    sock = sock or _socket(host, port)
    server = _Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="auto"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    servers.append((server, task))
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("the server stopped while starting")
        await asyncio.sleep(0.01)
    return f"http://{host}:{sock.getsockname()[1]}"


class FakeTrackers:
    """Both fakes, served from one thread of their own (its event loop).

    The service's syncs then wait on real sockets while the fakes answer, as with real
    trackers, and every change to the fakes runs in their loop (``change``), between
    requests: the fake Jira's memory has no lock of its own.
    """

    def __init__(self, org: Organisation, host: str) -> None:
        self.org = org
        self.host = host
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="demo-fake-trackers", daemon=True
        )
        self._servers: list[tuple[_Server, asyncio.Task[None]]] = []

    async def _in_loop(self, work: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    async def start(self) -> tuple[str, str]:
        """Start serving; the fake Jira's and the fake Asana's base URLs."""
        self._thread.start()
        jira = await self._in_loop(_serve(self.org.jira, self.host, 0, self._servers))
        asana = await self._in_loop(_serve(self.org.asana, self.host, 0, self._servers))
        return jira, asana

    async def change(self, change: Callable[[], T]) -> T:
        """Run ``change`` in the fakes' loop and return its result."""

        async def run() -> T:
            return change()

        return await self._in_loop(run())

    async def stop(self) -> None:
        """Stop serving, close the fakes' clients, and end the thread."""
        if not self._thread.is_alive():
            self._loop.close()
            return

        async def shut() -> None:
            for server, _ in self._servers:
                server.should_exit = True
            await asyncio.gather(*(task for _, task in self._servers), return_exceptions=True)
            await self.org.jira.webhooks.aclose()
            await self.org.asana.aclose()

        try:
            await self._in_loop(shut())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join, 10)
            self._loop.close()


def settings_for(workdir: Path, public_url: str | None = None) -> Settings:
    """The demo's settings: its SQLite store under ``workdir``; with the server's URL, the
    scheduler and the webhooks on (a sealing key made for this run: the store is too)."""
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{(workdir / 'throughline.db').resolve()}",
        config=workdir / "throughline.yaml",
        log=LogSettings(level="INFO"),
    )
    if public_url is None:
        return settings
    return settings.model_copy(
        update={
            "server": settings.server.model_copy(update={"public_url": public_url}),
            "scheduler": SchedulerSettings(enabled=True),
            "webhooks": WebhookSettings(secret_key=SecretStr(secrets.token_urlsafe(32))),
        }
    )


def _fresh_store(workdir: Path) -> None:
    """The history is played again at every start, so the old store goes."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("throughline.db", "throughline.db-wal", "throughline.db-shm"):
        (workdir / name).unlink(missing_ok=True)


async def run(
    options: Options,
    *,
    stop: asyncio.Event | None = None,
    ready: Callable[[Demo], None] = lambda _: None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Run the demo until ``stop`` is set or a SIGINT/SIGTERM arrives."""
    started = time.perf_counter()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    for name, value in demo_config.ENVIRON.items():
        os.environ.setdefault(name, value)
    # The service's intake reads the process's environment for the Jira secret.
    os.environ.setdefault(demo_config.JIRA_WEBHOOK_SECRET_ENV, secrets.token_urlsafe(24))
    env = {**demo_config.ENVIRON, **(environ or os.environ)}
    today = options.today or datetime.now(UTC).date()
    org = Organisation()
    flow = Flow(org, today=today, seed=options.seed)
    fakes = FakeTrackers(org, options.host)
    servers: list[tuple[_Server, asyncio.Task[None]]] = []
    loops: list[asyncio.Task[None]] = []
    try:
        jira_url, asana_url = await fakes.start()
        settings = await _prepare(options, fakes, flow, jira_url, asana_url, today, env)
        config = load_config(settings.config, environ=env)
        from app.web.factory import create_app

        sock = _socket(options.host, options.port)
        url = f"http://{options.host}:{sock.getsockname()[1]}"
        app = create_app(settings_for(options.workdir, url), config=config)
        await _serve(app, options.host, 0, servers, sock=sock)
        for line in await register_webhooks(app.state.throughline, url, jira_url, env):
            log.info("webhooks: %s", line)
        demo = Demo(url, jira_url, asana_url, org, flow, config, time.perf_counter() - started)
        loops.append(asyncio.create_task(_live(demo, fakes, options.life_every, stop)))
        ready(demo)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        for server, _ in reversed(servers):
            server.should_exit = True
        await asyncio.gather(*(task for _, task in servers), return_exceptions=True)
        await fakes.stop()


async def _prepare(
    options: Options,
    fakes: FakeTrackers,
    flow: Flow,
    jira_url: str,
    asana_url: str,
    today: date,
    environ: Mapping[str, str],
) -> Settings:
    """Write the configuration, migrate a fresh store, and store the history."""
    _fresh_store(options.workdir)
    settings = settings_for(options.workdir)
    text = demo_config.config_text(
        demo_config.rehearse(today, seed=options.seed),
        jira_url=jira_url,
        asana_url=asana_url,
        today=today,
        sync_every=f"{max(1, round(options.sync_every))}s",
    )
    settings.config.write_text(text, encoding="utf-8")
    await asyncio.to_thread(migrations.upgrade, settings.database_url)
    config = load_config(settings.config, environ=environ)
    engine = make_engine(settings.database_url)
    try:
        # Its own task: what the syncs put in the logging context stays with the history.
        done = await asyncio.create_task(
            history.backfill(
                flow,
                config,
                make_sessionmaker(engine),
                environ=environ,
                progress=log.info,
                in_fakes=fakes.change,
            )
        )
    finally:
        await engine.dispose()
    log.info(
        "history stored: %d days, %d syncs, %d weekly reports", done.days, done.syncs, done.reports
    )
    return settings


async def _live(demo: Demo, fakes: FakeTrackers, every: float, stop: asyncio.Event) -> None:
    """The organisation at work: one change every ``every`` seconds."""
    while not stop.is_set():
        await asyncio.sleep(every)
        change = await fakes.change(demo.flow.step)
        if change is not None:
            demo.changes.append(change.text)
            log.info("in the trackers: %s", change.text)


async def register_webhooks(
    state: Any, url: str, jira_url: str, environ: Mapping[str, str]
) -> list[str]:
    """Both fakes deliver their changes to the running service.

    Asana: ``throughline webhooks register``'s own code (the fake handshakes with the
    server). Jira: signed admin webhooks are made on the site's admin page; the demo is
    the fake site's administrator and saves one there with the configured secret.
    """
    asana = await register.register(
        state.sessionmaker,
        state.config,
        demo_config.ASANA_SOURCE,
        public_url=url,
        environ=environ,
    )
    if not asana.ok:
        raise RuntimeError("; ".join(asana.lines))
    secret = os.environ[demo_config.JIRA_WEBHOOK_SECRET_ENV]
    target = f"{url}/webhooks/jira/{demo_config.JIRA_SOURCE}"
    jql = jql_text.in_projects(demo_config.JIRA_PROJECTS)
    async with httpx.AsyncClient(base_url=jira_url) as client:
        answer = await client.post(
            "/_fake/webhooks", json={"url": target, "secret": secret, "jql": jql}
        )
        answer.raise_for_status()
    return [*asana.lines, f"Jira admin webhook {answer.json()['id']} → {target} (signed)"]
