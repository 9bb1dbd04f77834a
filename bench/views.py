"""Views: a program's status (JSON) and its page (HTML) under 50 concurrent clients.

Targets (issue #7), with 100,000 items stored: p95 of ``GET /api/programs/{key}`` ≤ 30 ms
and of ``GET /programs/{key}`` ≤ 100 ms under 50 concurrent clients on loopback.

The server is ``throughline serve`` itself (one uvicorn process, as deployed), started
in its own process over a database holding the roll-up benchmark's 100,000 items,
recomputed once. Clients are keep-alive HTTP/1.1 connections from this process, each
sending its next request as soon as the last answer arrived (a closed loop: the hardest
case, as many requests in flight as clients). Beside each figure, in the same run: one
client alone (the baseline), and the same load with the response cache turned off
(``THROUGHLINE_SERVER__CACHE_SECONDS=0``), which shows what a read costs in full.
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
from pathlib import Path

import httpx
from sqlalchemy import text

from app.programs.recompute import recompute
from app.store.engine import make_engine, make_sessionmaker
from bench.databases import backends, scratch_database
from bench.report import Figure, Section
from bench.rollup import NOW, SIZES, _store, config, dataset

CLIENTS = 50
REQUESTS = 10_000
"""Requests per measured load, after a warm-up of ``WARM_UP`` per client."""
REQUESTS_UNCACHED = 1_000
"""Without the cache a request costs ten times as much: fewer make the same statistics."""
WARM_UP = 20
BASELINE_REQUESTS = 300
TOKEN = "bench-viewer-token"
TARGETS = {"json": 30.0, "html": 100.0}
PATHS = {"json": "/api/programs/p0", "html": "/programs/p0"}


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


@contextmanager
def serve(url: str, *, cache_seconds: float) -> Iterator[str]:
    """``throughline serve`` on a free loopback port, until the block ends."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "throughline.yaml"
        path.write_text(_config_text(), encoding="utf-8")
        env = {
            **os.environ,
            "THROUGHLINE_DATABASE_URL": url,
            "THROUGHLINE_SERVER__CACHE_SECONDS": str(cache_seconds),
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
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


async def _client(port: int, path: str, count: int, latencies: list[float]) -> None:
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
                raise RuntimeError(f"{path} answered {status}")
    finally:
        writer.close()
        await writer.wait_closed()


async def load(base: str, path: str, clients: int, total: int) -> tuple[list[float], float]:
    """Latencies (ms) of ``total`` requests from ``clients`` connections, after a warm-up;
    and the requests per second achieved."""
    port = int(base.rsplit(":", 1)[1])
    warm: list[float] = []
    await asyncio.gather(*(_client(port, path, WARM_UP, warm) for _ in range(clients)))
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(port, path, total // clients, latencies) for _ in range(clients))
    )
    return latencies, len(latencies) / (time.perf_counter() - started)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def _measure(section: Section, name: str, url: str) -> None:
    for cache_seconds, label in ((2.0, ""), (0.0, ", cache off")):
        with serve(url, cache_seconds=cache_seconds) as base:
            for kind, path in PATHS.items():
                alone, _ = await load(base, path, 1, BASELINE_REQUESTS)
                total = REQUESTS if cache_seconds else REQUESTS_UNCACHED
                crowd, rate = await load(base, path, CLIENTS, total)
                p95 = _p95(crowd)
                target = TARGETS[kind]
                section.add(
                    Figure(
                        f"{name}: GET {path}, {CLIENTS} clients{label}, p95",
                        p95,
                        "ms",
                        target=f"≤ {target:.0f} ms" if not label else None,
                        met=p95 <= target if not label else None,
                        baseline=f"one client: p50 {statistics.median(alone):.1f} ms, "
                        f"p95 {_p95(alone):.1f} ms",
                        note=f"p50 {statistics.median(crowd):.1f} ms; {rate:,.0f} requests/s "
                        f"over {len(crowd):,} requests",
                    )
                )


async def run() -> Section:
    section = Section(
        "Views: a program's status and page under load",
        f"{SIZES[-1]:,} items in 10 programs (the roll-up benchmark's data), recomputed once; "
        f"`throughline serve` (one process) in its own process on loopback; {CLIENTS} "
        "keep-alive clients in a closed loop (each sends again as soon as it is answered), "
        f"{REQUESTS:,} measured requests after {WARM_UP} per client to warm up; a viewer token "
        "on every request. Baseline: one client alone. Also measured with the 2-second "
        f"response cache off ({REQUESTS_UNCACHED:,} requests). PostgreSQL is analysed after "
        "the bulk load.",
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
