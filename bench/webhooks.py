"""Webhooks: 10,000 Jira issue events posted by 50 clients to ``throughline serve``.

Targets (issue #6): accepted events ≥ 1,000/s, p99 answer ≤ 50 ms, no event lost, and
every change visible in the roll-up ≤ 5 s after the last delivery.

The fake Jira (2,000 issues) runs as ``throughline fake jira`` in its own process and is
synced into the store first. The deliveries are what the fake's webhook emitter renders
for 10,000 edits of the same site made in this process (same seed, so the same issues):
signed ``jira:issue_updated`` bodies with their ``X-Atlassian-Webhook-Identifier``.
They are posted by 50 keep-alive clients, each posting its next delivery as soon as the
last was answered, to each of two configurations on a fresh database: ``all-in-one``,
``throughline serve`` (one uvicorn process, its worker on), and ``split``, the production
layout the README recommends: ``throughline serve --no-worker`` answering the deliveries
beside one ``throughline worker`` process applying them.
After the last answer the benchmark watches the database until no event is pending and
the programs' roll-up was computed after the last event was applied.

Baseline, in the same run: a receiver that applies each delivery in its request (verify,
map, newer-wins upsert, commit; the roll-up is not even recomputed) — what the inbox and
the worker replace — served the same way, with the same clients.

``THROUGHLINE_BENCH_WEBHOOK_MODES=split`` measures one configuration only;
``THROUGHLINE_BENCH_LOG_DIR`` keeps each process's log there.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.config import parse_config
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.store.tables import ItemRow, ProgramStatusRow, SourceRow, WebhookEventRow
from app.sync import pull
from bench.databases import backends, scratch_database
from bench.report import Figure, Section
from connectors.fake.jira import FakeJira
from connectors.jira.webhook import signature

N_ISSUES = 2_000
EVENTS = 10_000
BASELINE_EVENTS = 2_000
WARM_UP = 200
CLIENTS = 50
SECRET = "bench-webhook-secret"
PROJECTS = ("WEB", "OPS", "MOB", "INT", "DATA")
TARGET_RATE, TARGET_P99, TARGET_VISIBLE = 1_000.0, 50.0, 5.0
ENV = {"BENCH_EMAIL": "pm@example.com", "BENCH_TOKEN": "fake-token", "BENCH_SECRET": SECRET}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config_text(jira: str) -> str:
    outcomes = "".join(
        f"      - {{key: {p.lower()}, name: {p}, "
        f"match: [{{source: bench-jira, projects: [{p}]}}]}}\n"
        for p in PROJECTS
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
programs:
  - key: delivery
    name: Delivery
    outcomes:
{outcomes}"""


@contextmanager
def _process(command: list[str], env: dict[str, str], ready: str) -> Iterator[None]:
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
        yield
    finally:
        process.terminate()
        process.wait(timeout=60)
        if log is not None:
            log.close()


@contextmanager
def fake_jira() -> Iterator[str]:
    port = _free_port()
    command = [sys.executable, "-m", "app", "fake", "jira", "--port", str(port)]
    command += ["--issues", str(N_ISSUES), "--seed", "1"]
    with _process(command, {}, f"http://127.0.0.1:{port}/_fake/stats"):
        yield f"http://127.0.0.1:{port}"


CONFIGURATIONS = ("all-in-one", "split")
"""``all-in-one``: ``throughline serve`` with its worker on (one process). ``split``: what
the README recommends in production, ``throughline serve --no-worker`` answering the
deliveries beside one ``throughline worker`` process applying them (same database)."""


@contextmanager
def receiver(url: str, config_path: Path, mode: str) -> Iterator[int]:
    """The receiver of ``mode`` (``inline`` baseline, ``all-in-one``, ``split``) on a free
    port; its processes stop afterwards."""
    port = _free_port()
    env = {**ENV, "THROUGHLINE_DATABASE_URL": url, "THROUGHLINE_CONFIG": str(config_path)}
    if mode == "inline":
        with _process(
            [sys.executable, "-m", "bench.inline_receiver", str(port)],
            env,
            f"http://127.0.0.1:{port}/healthz",
        ):
            yield port
        return
    serve = [sys.executable, "-m", "app", "serve", "--no-migrate"]
    serve += ["--host", "127.0.0.1", "--port", str(port)]
    if mode == "all-in-one":
        with _process(serve, env, f"http://127.0.0.1:{port}/healthz"):
            yield port
        return
    assert mode == "split", mode
    worker_port = _free_port()
    worker = [sys.executable, "-m", "app", "worker", "--host", "127.0.0.1"]
    worker += ["--port", str(worker_port)]
    with (
        _process([*serve, "--no-worker"], env, f"http://127.0.0.1:{port}/healthz"),
        _process(worker, env, f"http://127.0.0.1:{worker_port}/healthz"),
    ):
        yield port


def deliveries(count: int, *, start: int = 0) -> list[tuple[str, bytes]]:
    """``count`` signed issue-update deliveries of the same site the fake process serves."""
    site = FakeJira.generated(N_ISSUES, seed=1)
    hook = site.webhooks.register("http://unused", ["jira:issue_updated"], secret=SECRET)
    issues = sorted(
        (i for i in site.data.issues.values() if i.project.key in PROJECTS), key=lambda i: i.id
    )
    for n in range(start, start + count):
        issue = issues[n % len(issues)]
        changes: dict[str, object] = {"summary": f"{issue.summary.split(' #')[0]} #{n}"}
        if n % 3 == 0:
            changes["status"] = "In Progress" if issue.status.category == "new" else "Done"
        site.edit(issue.key, **changes)
    assert all(d.hook is hook for d in site.webhooks.queue)
    return [(d.identifier, d.body) for d in site.webhooks.queue]


async def _client(port: int, queue: list[tuple[str, bytes]], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue:
            identifier, body = queue.pop()
            head = (
                f"POST /webhooks/jira/bench-jira HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"X-Atlassian-Webhook-Identifier: {identifier}\r\n"
                f"X-Hub-Signature: {signature(SECRET, body)}\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(head + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in answer.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            status = int(answer.split(b" ", 2)[1])
            if status != 200:
                raise RuntimeError(f"delivery answered {status}")
    finally:
        writer.close()
        await writer.wait_closed()


async def post_all(port: int, items: list[tuple[str, bytes]]) -> tuple[list[float], float]:
    """Latencies (ms) and the accepted rate (events/s) of posting ``items``."""
    queue = list(reversed(items))
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, queue, latencies) for _ in range(CLIENTS)))
    return latencies, len(latencies) / (time.perf_counter() - started)


async def _until_visible(url: str, stored_before: int, sent: int, *, wait: float = 120.0) -> float:
    """Seconds until every sent event is applied and the roll-up computed after it."""
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < wait:
            async with session_scope(make_sessionmaker(engine)) as session:
                applied, last_applied = (
                    await session.execute(
                        select(func.count(), func.max(WebhookEventRow.processed_at)).where(
                            WebhookEventRow.state == "applied"
                        )
                    )
                ).one()
                computed = await session.scalar(select(func.min(ProgramStatusRow.computed_at)))
            if (
                applied >= stored_before + sent
                and computed is not None
                and last_applied is not None
                and computed >= last_applied
            ):
                return time.perf_counter() - started
            await asyncio.sleep(0.02)
    finally:
        await engine.dispose()
    raise RuntimeError("the changes did not become visible in time")


async def _lost(url: str, expected: dict[str, str]) -> int:
    """Issues whose stored title is not the last one sent (a lost or stale event)."""
    engine = make_engine(url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            rows = dict((await session.execute(select(ItemRow.external_id, ItemRow.title))).all())
    finally:
        await engine.dispose()
    return sum(1 for external_id, title in expected.items() if rows.get(external_id) != title)


def _last_titles(items: list[tuple[str, bytes]]) -> dict[str, str]:
    import json

    titles: dict[str, str] = {}
    for _, body in items:
        issue = json.loads(body)["issue"]
        titles[issue["id"]] = issue["fields"]["summary"]
    return titles


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


async def _prepare(url: str, jira: str, directory: Path) -> Path:
    path = directory / "throughline.yaml"
    path.write_text(_config_text(jira), encoding="utf-8")
    config = parse_config(path.read_text(), environ=ENV)
    engine = make_engine(url)
    try:
        outcome = await pull.sync_source(
            make_sessionmaker(engine), config, "bench-jira", full=True, environ=ENV
        )
        assert outcome.status == "succeeded", outcome.errors
        async with session_scope(make_sessionmaker(engine)) as session:
            assert await session.scalar(select(func.count()).select_from(SourceRow)) == 1
    finally:
        await engine.dispose()
    return path


async def _stored(url: str) -> int:
    engine = make_engine(url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return int(await session.scalar(select(func.count()).select_from(WebhookEventRow)) or 0)
    finally:
        await engine.dispose()


async def _baseline(name: str, jira: str) -> str:
    events = deliveries(BASELINE_EVENTS, start=WARM_UP + EVENTS)
    async with scratch_database(name) as url:
        with tempfile.TemporaryDirectory() as directory:
            config_path = await _prepare(url, jira, Path(directory))
            with receiver(url, config_path, "inline") as port:
                await post_all(port, events[:WARM_UP])
                inline, inline_rate = await post_all(port, events[WARM_UP:])
    return (
        f"applied in the request: {inline_rate:,.0f}/s, p50 {statistics.median(inline):.1f} ms, "
        f"p99 {_p(inline, 99):.1f} ms ({len(inline):,} events, roll-up not recomputed)"
    )


async def _measure(section: Section, name: str, mode: str, jira: str, baseline: str) -> None:
    events = deliveries(WARM_UP + EVENTS)
    warm, measured = events[:WARM_UP], events[WARM_UP:]
    async with scratch_database(name) as url:
        with tempfile.TemporaryDirectory() as directory:
            config_path = await _prepare(url, jira, Path(directory))
            with receiver(url, config_path, mode) as port:
                await post_all(port, warm)
                await _until_visible(url, 0, WARM_UP)
                latencies, rate = await post_all(port, measured)
                visible = await _until_visible(url, WARM_UP, len(measured))
            stored = await _stored(url) - WARM_UP
            lost = (len(measured) - stored) + await _lost(url, _last_titles(events))
    label = f"{name}, {mode}"
    section.add(
        Figure(
            f"{label}: accepted events/s ({CLIENTS} clients)",
            rate,
            "events/s",
            target=f"≥ {TARGET_RATE:,.0f}/s",
            met=rate >= TARGET_RATE,
            baseline=baseline,
            note=f"{len(latencies):,} deliveries",
        )
    )
    p99 = _p(latencies, 99)
    section.add(
        Figure(
            f"{label}: answer time p99",
            p99,
            "ms",
            target=f"≤ {TARGET_P99:.0f} ms",
            met=p99 <= TARGET_P99,
            baseline=baseline,
            note=f"p50 {statistics.median(latencies):.1f} ms, max {max(latencies):.1f} ms",
        )
    )
    section.add(
        Figure(
            f"{label}: events lost",
            lost,
            "events",
            target="0",
            met=lost == 0,
            note=f"{stored:,} stored of {len(measured):,} sent; final titles checked",
        )
    )
    section.add(
        Figure(
            f"{label}: last delivery → visible in the roll-up",
            visible,
            "s",
            target=f"≤ {TARGET_VISIBLE:.0f} s",
            met=visible <= TARGET_VISIBLE,
            note="every event applied and the programs recomputed after the last of them",
        )
    )


async def run() -> Section:
    section = Section(
        "Webhooks: a burst of Jira issue events",
        f"{EVENTS:,} signed `jira:issue_updated` deliveries (after {WARM_UP} to warm up) of a "
        f"{N_ISSUES:,}-issue fake site, synced first, posted over loopback by {CLIENTS} "
        "keep-alive clients in a closed loop, to two configurations: all-in-one "
        "(`throughline serve`, its worker on, one process) and split (`throughline serve "
        "--no-worker` answering beside one `throughline worker` process, same database); one "
        "program of five outcomes reads the source. Baseline: "
        f"{BASELINE_EVENTS - WARM_UP:,} deliveries to a receiver that applies each in its "
        "request, same clients. Measured at "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    )
    with fake_jira() as jira:
        only = os.environ.get("THROUGHLINE_BENCH_WEBHOOK_MODES")
        modes = [m for m in CONFIGURATIONS if only is None or m in only.split(",")]
        for name in backends():
            baseline = await _baseline(name, jira)
            for mode in modes:
                await _measure(section, name, mode, jira, baseline)
    return section
