"""Webhooks: 10,000 signed deliveries posted by 50 clients to the two documented deployments.

Targets (issue #20, point 4): answer time p99 ≤ 50 ms, 0 events lost, every change visible
in the roll-up ≤ 5 s after the last delivery, in each deployment the README documents:

- ``SQLite, all-in-one``: one ``throughline serve`` process on SQLite, its worker on (the
  worker and the intake share the process and SQLite's one write lock);
- ``PostgreSQL, split``: ``throughline serve --no-worker`` answering the deliveries beside
  one ``throughline worker`` process applying them, on one PostgreSQL database (measured
  when ``THROUGHLINE_BENCH_POSTGRES_URL`` is set; ``bench.databases`` makes a scratch one).

A fake Jira (2,000 issues) and a fake Asana (2,000 tasks) run as ``throughline fake …``
processes and are synced into the store first. The deliveries are signed as the trackers
sign them and as the intake checks them: nine in ten are what the fake Jira's webhook
emitter renders for an edit of one of its issues (``X-Hub-Signature``, HMAC-SHA256 of the
body under the configured secret), one in ten an Asana delivery naming a changed task
(``X-Hook-Signature`` under the secret the server took in a real handshake). Every request
is rendered and signed before the clock starts. 50 keep-alive clients each post their
next delivery as soon as the last was answered (a closed loop: the server's CPU per
request decides the latencies). After the last answer the benchmark polls the API until
no event is pending and the program's document was computed after the last one applied.

Baseline, in the same run and on the same server: one client posting alone (no queueing),
before the burst. ``lost`` is deliveries answered 200 minus events recorded, plus Jira
issues whose stored title is not the last one sent. CPU is the server processes' user +
system time from ``/proc`` over the burst, per delivery answered.

``THROUGHLINE_BENCH_WEBHOOK_DEPLOYMENTS=SQLite:split`` measures other pairings (comma
separated); ``THROUGHLINE_BENCH_LOG_DIR`` keeps each process's log there.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.config import parse_config
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.store.tables import ItemRow, SourceRow, WebhookEventRow
from app.sync import pull
from app.webhooks import subscriptions
from bench.databases import POSTGRES_ENV, scratch_database
from bench.report import Figure, Section
from connectors.asana.webhook import signature as asana_signature
from connectors.fake.asana import generate as generate_asana
from connectors.fake.jira import FakeJira
from connectors.jira.webhook import signature as jira_signature

N_ISSUES = 2_000
N_TASKS = 2_000
EVENTS = 10_000
ASANA_EVERY = 10
"""One delivery in this many is Asana's."""
ASANA_TASKS = 25
"""Distinct tasks the Asana deliveries name (a burst edits a few tasks many times; each
is read back from Asana, whose quota paces the re-reads)."""
BASELINE_EVENTS = 300
WARM_UP = 200
CLIENTS = 50
SECRET = "bench-webhook-secret"
ASANA_SECRET = "bench-asana-handshake-secret"
PROJECTS = ("WEB", "OPS", "MOB", "INT", "DATA")
TARGET_P99, TARGET_VISIBLE = 50.0, 5.0
ENV = {
    "BENCH_EMAIL": "pm@example.com",
    "BENCH_TOKEN": "fake-token",
    "BENCH_SECRET": SECRET,
    "BENCH_ASANA_TOKEN": "fake-token",
    "THROUGHLINE_WEBHOOKS__SECRET_KEY": "bench-sealing-key-0123456789abcdef",
}
HOST = b"Host: 127.0.0.1\r\n"
DEPLOYMENTS = (("SQLite", "all-in-one"), ("PostgreSQL", "split"))
"""The two deployments the README documents: all-in-one ``throughline serve`` on SQLite,
and ``serve --no-worker`` beside ``throughline worker`` on PostgreSQL."""


@dataclass(frozen=True, slots=True)
class Delivery:
    request: bytes
    """The whole HTTP/1.1 request, signed; its ``HOST`` line names the server's port
    when it is posted."""
    jira_id: str | None = None
    title: str | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _asana_world() -> tuple[str, str, list[str]]:
    """The fake Asana's workspace, its first project and that project's first tasks."""
    world = generate_asana(N_TASKS, seed=1)
    project = next(iter(world.projects.values()))
    tasks = [g for g in project.tasks if world.tasks[g].parent is None][:ASANA_TASKS]
    return world.workspace, project.gid, tasks


def _config_text(jira: str, asana: str) -> str:
    workspace, project, _ = _asana_world()
    outcomes = "".join(
        f"      - {{key: {p.lower()}, name: {p}, "
        f"match: [{{source: bench-jira, projects: [{p}]}}]}}\n"
        for p in PROJECTS
    )
    outcomes += (
        f"      - {{key: tasks, name: Tasks, "
        f"match: [{{source: bench-asana, projects: ['{project}']}}]}}\n"
    )
    return f"""
server: {{auth: none}}
sources:
  - name: bench-jira
    kind: jira
    url: '{jira}'
    projects: [{", ".join(PROJECTS)}]
    auth: {{email_env: BENCH_EMAIL, token_env: BENCH_TOKEN}}
    webhook: {{secret_env: BENCH_SECRET}}
  - name: bench-asana
    kind: asana
    url: '{asana}/api/1.0'
    workspace: '{workspace}'
    projects: ['{project}']
    auth: {{token_env: BENCH_ASANA_TOKEN}}
programs:
  - key: delivery
    name: Delivery
    outcomes:
{outcomes}"""


@contextmanager
def _process(command: list[str], env: dict[str, str], ready: str) -> Iterator[int]:
    """Run ``command`` until the block ends, once ``ready`` answers; yields its pid."""
    log_dir = os.environ.get("THROUGHLINE_BENCH_LOG_DIR")
    log = (
        open(Path(log_dir) / f"{command[2]}-{command[3]}-{time.time():.0f}.log", "wb")  # noqa: SIM115
        if log_dir
        else None
    )
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=log or subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            try:
                httpx.get(ready, timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[2:4]} exited") from None
                time.sleep(0.1)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)
        if log is not None:
            log.close()


@contextmanager
def fake_trackers() -> Iterator[tuple[str, str]]:
    """The fake Jira and Asana, each in its own process: their base URLs."""
    jira_port, asana_port = _free_port(), _free_port()
    jira = [sys.executable, "-m", "app", "fake", "jira", "--port", str(jira_port)]
    jira += ["--issues", str(N_ISSUES), "--seed", "1"]
    asana = [sys.executable, "-m", "app", "fake", "asana", "--port", str(asana_port)]
    asana += ["--tasks", str(N_TASKS), "--seed", "1"]
    with (
        _process(jira, {}, f"http://127.0.0.1:{jira_port}/_fake/stats"),
        _process(asana, {}, f"http://127.0.0.1:{asana_port}/_fake/stats"),
    ):
        yield f"http://127.0.0.1:{jira_port}", f"http://127.0.0.1:{asana_port}"


@dataclass(frozen=True, slots=True)
class Receiver:
    port: int
    pids: tuple[int, ...]
    """The processes that serve and apply (CPU is read from them)."""


@contextmanager
def receiver(url: str, config_path: Path, mode: str) -> Iterator[Receiver]:
    """``all-in-one`` or ``split`` on a free port; its processes stop afterwards."""
    port = _free_port()
    env = {**ENV, "THROUGHLINE_DATABASE_URL": url, "THROUGHLINE_CONFIG": str(config_path)}
    serve = [sys.executable, "-m", "app", "serve", "--no-migrate"]
    serve += ["--host", "127.0.0.1", "--port", str(port)]
    if mode == "all-in-one":
        with _process(serve, env, f"http://127.0.0.1:{port}/healthz") as pid:
            yield Receiver(port, (pid,))
        return
    assert mode == "split", mode
    worker_port = _free_port()
    worker = [sys.executable, "-m", "app", "worker", "--host", "127.0.0.1"]
    worker += ["--port", str(worker_port)]
    with (
        _process([*serve, "--no-worker"], env, f"http://127.0.0.1:{port}/healthz") as served,
        _process(worker, env, f"http://127.0.0.1:{worker_port}/healthz") as working,
    ):
        yield Receiver(port, (served, working))


def _request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = f"POST {path} HTTP/1.1\r\n{HOST.decode()}Content-Type: application/json\r\n"
    head += f"Content-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (head + "\r\n").encode() + body


def deliveries(count: int) -> list[Delivery]:
    """``count`` signed deliveries: Jira issue updates of the site the fake Jira serves and,
    one in ``ASANA_EVERY``, Asana task changes of the fake Asana's first project."""
    site = FakeJira.generated(N_ISSUES, seed=1)
    hook = site.webhooks.register("http://unused", ["jira:issue_updated"], secret=SECRET)
    issues = sorted(
        (i for i in site.data.issues.values() if i.project.key in PROJECTS), key=lambda i: i.id
    )
    asana_count = count // ASANA_EVERY
    for n in range(count - asana_count):
        issue = issues[n % len(issues)]
        changes: dict[str, object] = {"summary": f"{issue.summary.split(' #')[0]} #{n}"}
        if n % 3 == 0:
            changes["status"] = "In Progress" if issue.status.category == "new" else "Done"
        site.edit(issue.key, **changes)
    assert all(d.hook is hook for d in site.webhooks.queue)
    jira = []
    for d in site.webhooks.queue:
        issue = json.loads(d.body)["issue"]
        headers = {
            "X-Atlassian-Webhook-Identifier": d.identifier,
            "X-Hub-Signature": jira_signature(SECRET, d.body),
        }
        request = _request("/webhooks/jira/bench-jira", d.body, headers)
        jira.append(Delivery(request, issue["id"], issue["fields"]["summary"]))
    _, project, tasks = _asana_world()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    asana = []
    for n in range(asana_count):
        at = start + timedelta(milliseconds=n)
        event = {
            "action": "changed",
            "resource": {"gid": tasks[n % len(tasks)], "resource_type": "task"},
            "parent": None,
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
            "user": {"gid": "1200000000000002", "resource_type": "user"},
            "change": {"field": "name", "action": "changed"},
        }
        body = json.dumps({"events": [event]}).encode()
        headers = {"X-Hook-Signature": asana_signature(ASANA_SECRET, body)}
        asana.append(
            Delivery(_request(f"/webhooks/asana/bench-asana?resource={project}", body, headers))
        )
    mixed: list[Delivery] = []
    for n in range(count):
        if n % ASANA_EVERY == ASANA_EVERY - 1 and asana:
            mixed.append(asana.pop())
        elif jira:
            mixed.append(jira.pop(0))
    return mixed + asana + jira


async def _client(port: int, queue: list[bytes], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue:
            request = queue.pop()
            started = time.perf_counter()
            writer.write(request)
            answer = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in answer.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            content = await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            status = int(answer.split(b" ", 2)[1])
            if status != 200:
                raise RuntimeError(f"delivery answered {status}: {content[:300]!r}")
    finally:
        writer.close()
        await writer.wait_closed()


async def post_all(
    port: int, items: list[Delivery], clients: int = CLIENTS
) -> tuple[list[float], float]:
    """Latencies (ms) and the accepted rate (deliveries/s) of posting ``items``."""
    host = f"Host: 127.0.0.1:{port}\r\n".encode()
    queue = [d.request.replace(HOST, host, 1) for d in reversed(items)]
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, queue, latencies) for _ in range(clients)))
    return latencies, len(latencies) / (time.perf_counter() - started)


async def _until_visible(api: httpx.AsyncClient, *, wait: float = 120.0) -> float:
    """Seconds until the API shows no pending event and the program's document computed
    after the last event was applied."""
    started = time.perf_counter()
    while time.perf_counter() - started < wait:
        pending = await api.get("/api/webhooks/events", params={"state": "pending", "limit": 1})
        if not pending.json()["events"]:
            applied = await api.get("/api/webhooks/events", params={"state": "applied", "limit": 1})
            last = applied.json()["events"][0]["processed_at"]
            program = (await api.get("/api/programs/delivery")).json()
            computed = program["freshness"]["computed_at"]
            if datetime.fromisoformat(computed) >= datetime.fromisoformat(last):
                return time.perf_counter() - started
        await asyncio.sleep(0.05)
    raise RuntimeError("the changes did not become visible in time")


async def _counts(url: str) -> tuple[int, int]:
    """Events recorded, and of them applied."""
    engine = make_engine(url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            recorded = await session.scalar(select(func.count()).select_from(WebhookEventRow))
            applied = await session.scalar(
                select(func.count()).where(WebhookEventRow.state == "applied")
            )
    finally:
        await engine.dispose()
    return int(recorded or 0), int(applied or 0)


async def _stale_titles(url: str, sent: list[Delivery]) -> int:
    """Jira issues whose stored title is not the last one sent (a lost or stale event)."""
    expected = {d.jira_id: d.title for d in sent if d.jira_id is not None}
    engine = make_engine(url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            rows = dict((await session.execute(select(ItemRow.external_id, ItemRow.title))).all())
    finally:
        await engine.dispose()
    return sum(1 for external_id, title in expected.items() if rows.get(external_id) != title)


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _cpu_seconds(pids: tuple[int, ...]) -> float:
    """User + system CPU seconds the processes used so far (``/proc/PID/stat``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


async def _prepare(url: str, jira: str, asana: str, directory: Path) -> Path:
    """Sync both fakes into the store; open an Asana webhook registration."""
    path = directory / "throughline.yaml"
    path.write_text(_config_text(jira, asana), encoding="utf-8")
    config = parse_config(path.read_text(), environ=ENV)
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    try:
        for source in ("bench-jira", "bench-asana"):
            outcome = await pull.sync_source(sessionmaker, config, source, full=True, environ=ENV)
            assert outcome.status == "succeeded", outcome.errors
        _, project, _ = _asana_world()
        now = datetime.now(UTC)
        async with session_scope(sessionmaker) as session:
            source_id = await session.scalar(
                select(SourceRow.id).where(SourceRow.name == "bench-asana")
            )
            assert source_id is not None
            await subscriptions.open_handshake(
                session, source_id, [project], until=now + timedelta(hours=1), now=now
            )
    finally:
        await engine.dispose()
    return path


async def _handshake(api: httpx.AsyncClient) -> None:
    """The handshake Asana makes when a webhook is created: the server keeps the secret."""
    _, project, _ = _asana_world()
    answer = await api.post(
        f"/webhooks/asana/bench-asana?resource={project}", headers={"X-Hook-Secret": ASANA_SECRET}
    )
    assert answer.headers.get("X-Hook-Secret") == ASANA_SECRET, answer.text


def _machine() -> str:
    one, five, _ = os.getloadavg()
    return f"nproc {os.cpu_count()}, load {one:.2f} / {five:.2f}"


async def _measure(
    section: Section, kind: str, mode: str, trackers: tuple[str, str], events: list[Delivery]
) -> None:
    warm = events[:WARM_UP]
    alone = events[WARM_UP : WARM_UP + BASELINE_EVENTS]
    burst = events[WARM_UP + BASELINE_EVENTS :]
    async with scratch_database(kind) as url:
        with tempfile.TemporaryDirectory() as directory:
            config_path = await _prepare(url, *trackers, Path(directory))
            with receiver(url, config_path, mode) as served:
                base = f"http://127.0.0.1:{served.port}"
                async with httpx.AsyncClient(base_url=base, timeout=30) as api:
                    await _handshake(api)
                    await post_all(served.port, warm)
                    await _until_visible(api)
                    single, _ = await post_all(served.port, alone, clients=1)
                    await _until_visible(api)
                    before = [_cpu_seconds((pid,)) for pid in served.pids]
                    wall, load, clock = time.perf_counter(), _machine(), time.process_time()
                    latencies, rate = await post_all(served.port, burst)
                    each = [
                        _cpu_seconds((p,)) - b for p, b in zip(served.pids, before, strict=True)
                    ]
                    wall, clock = time.perf_counter() - wall, time.process_time() - clock
                    visible = await _until_visible(api)
            recorded, applied = await _counts(url)
            sent = len(events)
            stale = await _stale_titles(url, events)
    lost = sent - recorded + stale
    label = f"{kind}, {mode}"
    baseline = (
        f"one client alone: p50 {statistics.median(single):.1f} ms, "
        f"p99 {_p(single, 99):.1f} ms ({len(single)} deliveries)"
    )
    p99 = _p(latencies, 99)
    section.add(
        Figure(
            f"{label}: answer time p99 ({CLIENTS} clients)",
            p99,
            "ms",
            target=f"≤ {TARGET_P99:.0f} ms",
            met=p99 <= TARGET_P99,
            baseline=baseline,
            note=(
                f"p50 {statistics.median(latencies):.1f} ms, p95 {_p(latencies, 95):.1f} ms, "
                f"max {max(latencies):.1f} ms; {len(latencies):,} deliveries at "
                f"{rate:,.0f}/s; {_machine()} (at start {load})"
            ),
        )
    )
    per = [c / len(latencies) * 1000 for c in each]
    roles = ("serve", "worker")
    section.add(
        Figure(
            f"{label}: server CPU per delivery",
            sum(per),
            "ms",
            note=(
                ", ".join(f"{r} {ms:.3f} ms" for r, ms in zip(roles, per, strict=False))
                + f" ({sum(each):.2f} s CPU over {wall:.2f} s wall); the clients used "
                f"{clock:.2f} s"
            ),
        )
    )
    section.add(
        Figure(
            f"{label}: events lost",
            lost,
            "events",
            target="0",
            met=lost == 0,
            note=(
                f"{recorded:,} recorded and {applied:,} applied of {sent:,} sent; "
                f"{stale} Jira titles not the last sent"
            ),
        )
    )
    section.add(
        Figure(
            f"{label}: last delivery → visible in the roll-up",
            visible,
            "s",
            target=f"≤ {TARGET_VISIBLE:.0f} s",
            met=visible <= TARGET_VISIBLE,
            note="polled through the API: nothing pending, program computed after the last",
        )
    )


def _deployments() -> list[tuple[str, str]]:
    named = os.environ.get("THROUGHLINE_BENCH_WEBHOOK_DEPLOYMENTS")
    if not named:
        return list(DEPLOYMENTS)
    pairs = [tuple(p.split(":", 1)) for p in named.split(",") if ":" in p]
    return [(kind, mode) for kind, mode in pairs]


async def run() -> Section:
    section = Section(
        "Webhooks: a burst of signed deliveries",
        f"{EVENTS:,} signed deliveries (one in {ASANA_EVERY} Asana's, the rest Jira "
        f"`jira:issue_updated`) of a {N_ISSUES:,}-issue fake Jira and a {N_TASKS:,}-task fake "
        f"Asana, synced first, posted over loopback by {CLIENTS} keep-alive clients in a "
        f"closed loop after {WARM_UP} to warm up, to the two documented deployments: "
        "all-in-one `throughline serve` on SQLite, and `throughline serve --no-worker` beside "
        "one `throughline worker` on PostgreSQL. Baseline: "
        f"{BASELINE_EVENTS} deliveries from one client alone, same server, just before. "
        f"Measured at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    )
    events = deliveries(WARM_UP + BASELINE_EVENTS + EVENTS)
    with fake_trackers() as trackers:
        for kind, mode in _deployments():
            if kind == "PostgreSQL" and not os.environ.get(POSTGRES_ENV):
                print(f"  {kind}, {mode}: not measured (set {POSTGRES_ENV})", flush=True)
                continue
            await _measure(section, kind, mode, trackers, events)
    return section
