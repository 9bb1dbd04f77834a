"""Views: a program's status (JSON) and its pages (HTML) under 50 concurrent clients.

Targets, with 100,000 items stored and 50 concurrent clients on loopback:
- with the 2-second response cache (issue #7): p95 of ``GET /api/programs/{key}`` ≤ 30 ms
  and of ``GET /programs/{key}`` ≤ 100 ms;
- without it (``THROUGHLINE_SERVER__CACHE_SECONDS=0``, issue #20): p95 ≤ 50 ms for the
  JSON status and ≤ 150 ms for the program's page, its resources, dependencies and
  roadmap pages.

Without the cache, the answers are measured twice in the same run: as served (each
checked against the store, built again only when what it shows changed:
``app.web.readpath``), and built afresh for every request
(``THROUGHLINE_SERVER__REUSE_ANSWERS=false``, what a read cost before), the baseline.

The server is ``throughline serve`` itself (one uvicorn process, as deployed), started
in its own process over a database holding the roll-up benchmark's 100,000 items,
recomputed once. Clients are keep-alive HTTP/1.1 connections from this process, each
sending its next request as soon as the last answer arrived (a closed loop: the hardest
case, as many requests in flight as clients). Beside each figure, in the same run: one
client alone (the baseline), and the server's own CPU time per request (read from
``/proc``), which does not depend on what else the machine runs.
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
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

from app.programs.recompute import recompute
from app.store.engine import make_engine, make_sessionmaker
from bench.databases import backends, scratch_database
from bench.report import Figure, Section
from bench.rollup import NOW, SIZES, _store, config, dataset

CLIENTS = 50
REQUESTS = 5_000
"""Requests per measured load, after a warm-up of ``WARM_UP`` per client."""
REQUESTS_UNCACHED = 500
"""Without the cache a request costs several times as much: fewer make the statistics."""
WARM_UP = 20
BASELINE_REQUESTS = 100
TOKEN = "bench-viewer-token"
CACHED = {"/api/programs/p0": 30.0, "/programs/p0": 100.0}
"""Paths and their p95 targets (ms) with the response cache on."""
UNCACHED = {
    "/api/programs/p0": 50.0,
    "/programs/p0": 150.0,
    "/programs/p0/resources": 150.0,
    "/programs/p0/dependencies": 150.0,
    "/programs/p0/roadmap": 150.0,
}
"""Paths and their p95 targets (ms) without it."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config_text() -> str:
    """The roll-up benchmark's programs behind a viewer token, as a deployment would be."""
    lines = [
        "server:",
        "  auth: tokens",
        "  tokens: [{name: bench, role: viewer, token_env: BENCH_TOKEN}]",
        "sources:",
        "  - {name: bench, kind: jira, url: 'https://bench.test', auth: {token_env: T}}",
        "programs:",
    ]
    for program in config().programs:
        lines += [f"  - key: {program.key}", f"    name: {program.name}", "    outcomes:"]
        for o in program.outcomes:
            lines.append(
                f"      - {{key: {o.key}, name: {o.name}, target: {o.target}, "
                f"match: [{{source: bench, projects: [{o.match[0].projects[0]}]}}]}}"
            )
    return "\n".join(lines) + "\n"


@dataclass(slots=True)
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user and system, every thread)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(url: str, *, cache_seconds: float, reuse_answers: bool = True) -> Iterator[Server]:
    """``throughline serve`` on a free loopback port, until the block ends."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "throughline.yaml"
        path.write_text(_config_text(), encoding="utf-8")
        env = {
            **os.environ,
            "THROUGHLINE_DATABASE_URL": url,
            "THROUGHLINE_SERVER__CACHE_SECONDS": str(cache_seconds),
            "THROUGHLINE_SERVER__REUSE_ANSWERS": str(reuse_answers).lower(),
            "BENCH_TOKEN": TOKEN,
            "T": "unused",
        }
        command = [sys.executable, "-m", "app", "serve", "-c", str(path), "--no-migrate"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
                    break
                except httpx.TransportError:
                    if process.poll() is not None:
                        raise RuntimeError("throughline serve exited") from None
                    time.sleep(0.1)
            yield Server(base, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


async def _client(
    port: int, path: str, count: int, latencies: list[float], failures: list[int]
) -> None:
    """One keep-alive connection sending ``count`` requests, one after the other."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {TOKEN}\r\nAccept: */*\r\n\r\n"
    ).encode()
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                # Counted and reported: a 503 is a request that waited too long for a
                # connection, part of what the load costs.
                failures.append(status)
    finally:
        writer.close()
        await writer.wait_closed()


@dataclass(slots=True)
class Load:
    latencies: list[float]
    """Milliseconds, one per request."""
    rate: float
    """Requests answered per second."""
    cpu_ms: float
    """The server's CPU time per request."""
    failures: list[int]
    """The statuses of the answers that were not 200."""


async def load(server: Server, path: str, clients: int, total: int) -> Load:
    """``total`` requests from ``clients`` connections, after a warm-up."""
    port = int(server.base.rsplit(":", 1)[1])
    warm: list[float] = []
    await asyncio.gather(*(_client(port, path, WARM_UP, warm, []) for _ in range(clients)))
    latencies: list[float] = []
    failures: list[int] = []
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(port, path, total // clients, latencies, failures) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    cpu_ms = (server.cpu_seconds() - cpu) * 1000 / len(latencies)
    return Load(latencies, len(latencies) / elapsed, cpu_ms, failures)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


@dataclass(frozen=True, slots=True)
class Pass:
    label: str
    cache_seconds: float
    reuse_answers: bool
    paths: dict[str, float]
    requests: int


PASSES = (
    Pass("", 2.0, True, CACHED, REQUESTS),
    Pass(", cache off", 0.0, True, UNCACHED, REQUESTS),
    Pass(", cache off, every answer built afresh", 0.0, False, UNCACHED, REQUESTS_UNCACHED),
)
"""With the response cache; without it; without it nor the answers kept per stamp (the
baseline: what a read cost before them)."""


async def _measure(section: Section, name: str, url: str) -> None:
    baseline: dict[str, Load] = {}
    measured: list[tuple[Pass, str, Load, Load]] = []
    for run in PASSES:
        with serve(url, cache_seconds=run.cache_seconds, reuse_answers=run.reuse_answers) as server:
            for path in run.paths:
                alone = await load(server, path, 1, BASELINE_REQUESTS)
                crowd = await load(server, path, CLIENTS, run.requests)
                measured.append((run, path, alone, crowd))
                if not run.reuse_answers:
                    baseline[path] = crowd
    for run, path, alone, crowd in measured:
        target = run.paths[path]
        p95 = _p95(crowd.latencies)
        failed = f"; {len(crowd.failures)} answered {sorted(set(crowd.failures))}"
        before = baseline.get(path)
        against = (
            f"; built afresh in the same run: p95 {_p95(before.latencies):.1f} ms, "
            f"server CPU {before.cpu_ms:.2f} ms per request"
            if before is not None and run.reuse_answers and not run.cache_seconds
            else ""
        )
        section.add(
            Figure(
                f"{name}: GET {path}, {CLIENTS} clients{run.label}, p95",
                p95,
                "ms",
                target=f"≤ {target:.0f} ms" if run.reuse_answers else "(baseline)",
                met=(p95 <= target and not crowd.failures) if run.reuse_answers else None,
                baseline=f"one client: p50 {statistics.median(alone.latencies):.1f} ms, "
                f"p95 {_p95(alone.latencies):.1f} ms" + against,
                note=f"p50 {statistics.median(crowd.latencies):.1f} ms; "
                f"{crowd.rate:,.0f} requests/s over {len(crowd.latencies):,} requests; "
                f"server CPU {crowd.cpu_ms:.2f} ms per request; load average "
                f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
                + (failed if crowd.failures else ""),
            )
        )


async def run() -> Section:
    section = Section(
        "Views: a program's status and page under load",
        f"{SIZES[-1]:,} items in 10 programs (the roll-up benchmark's data), recomputed once; "
        f"`throughline serve` (one process) in its own process on loopback; {CLIENTS} "
        "keep-alive clients in a closed loop (each sends again as soon as it is answered), "
        f"{REQUESTS:,} measured requests after {WARM_UP} per client to warm up; a viewer token "
        "on every request. Baseline: one client alone. Measured with the 2-second response "
        f"cache, then without it, then without it with every answer built afresh (the baseline, "
        f"{REQUESTS_UNCACHED:,} requests per page). The server's CPU "
        "per request is read from /proc: on a shared machine, the latencies also carry the "
        f"other processes' load (the load average at the start: {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores). PostgreSQL is analysed after the bulk load.",
    )
    cfg = config()
    items = dataset(SIZES[-1])
    for name in backends():
        async with scratch_database(name) as url:
            await _store(url, items, cfg)
            engine = make_engine(url)
            await recompute(
                make_sessionmaker(engine),
                cfg,
                now=NOW,
                read_sessionmaker=make_sessionmaker(engine, read_only=True),
            )
            if name == "PostgreSQL":
                # After a bulk load a DBA analyses the tables; otherwise autovacuum does it
                # in the middle of the measurement, on the same two cores.
                async with engine.connect() as connection:
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await connection.execute(text("VACUUM ANALYZE"))
            await engine.dispose()
            await _measure(section, name, url)
    return section
