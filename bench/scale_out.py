"""Scale-out: three ``serve --no-worker`` replicas and two ``throughline worker`` processes
on PostgreSQL, under the webhook burst of the webhooks benchmark plus 50 page readers.

Targets (issue #9): no event lost, no scheduled job run twice, and the p95 time of a
program page within 2× of the single-process figure.

Set-up: the fake Jira of the webhooks benchmark (its own process, 2,000 issues), synced
into a scratch PostgreSQL database; the source syncs every ``SYNC_EVERY`` seconds, so
every process's scheduler fires the same due times during the load. Baseline, in the same
run: one ``throughline serve`` (API, scheduler and webhook worker in one process) with the
same 50 readers and no burst — the single-process figure. Then the five processes start
together; 50 keep-alive readers spread over the three replicas read the program page in a
closed loop while 50 other clients post the signed deliveries to the replicas in turn.
Afterwards: events stored vs sent and the final titles (lost), the sync runs per due time
(twice), and the p95 page time.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.store.tables import SyncRunRow
from bench import webhooks as burst
from bench.cluster import Cluster
from bench.databases import backends, scratch_database
from bench.report import Figure, Section

READERS = 50
PAGE = "/programs/delivery"
SYNC_EVERY = 10
EVENTS = burst.EVENTS
BASELINE_SECONDS = 20.0
TARGET_RATIO = 2.0


async def _reader(port: int, stop: asyncio.Event, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {PAGE} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    try:
        while not stop.is_set():
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            if int(head.split(b" ", 2)[1]) != 200:
                raise RuntimeError(f"{PAGE} answered {head.split(b' ', 2)[1]!r}")
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        writer.close()
        await writer.wait_closed()


async def _read_for(ports: list[int], stop: asyncio.Event) -> list[float]:
    latencies: list[float] = []
    await asyncio.gather(*(_reader(ports[i % len(ports)], stop, latencies) for i in range(READERS)))
    return latencies


async def _post_spread(
    ports: list[int], items: list[tuple[str, bytes]]
) -> tuple[list[float], float]:
    queue = list(reversed(items))
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(burst._client(ports[i % len(ports)], queue, latencies) for i in range(burst.CLIENTS))
    )
    return latencies, len(latencies) / (time.perf_counter() - started)


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


async def _sync_runs(url: str) -> list[datetime]:
    engine = make_engine(url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return list(
                await session.scalars(
                    select(SyncRunRow.started_at)
                    .where(SyncRunRow.mode.in_(("full", "incremental")))
                    .order_by(SyncRunRow.id)
                )
            )
    finally:
        await engine.dispose()


async def _measure(section: Section, url: str, jira: str, directory: Path) -> None:
    config_path = await burst._prepare(url, jira, directory)
    text = config_path.read_text().replace(
        "    webhook: {secret_env: BENCH_SECRET}\n",
        f"    webhook: {{secret_env: BENCH_SECRET}}\n    sync_every: {SYNC_EVERY}s\n",
    )
    config_path.write_text(text)
    env = {**burst.ENV, "THROUGHLINE_DATABASE_URL": url, "THROUGHLINE_CONFIG": str(config_path)}

    # The single-process figure: one serve, 50 readers, no burst.
    single = Cluster(directory, env)
    one = single.start("serve")
    try:
        single.wait_ready()
        stop = asyncio.Event()
        reading = asyncio.create_task(_read_for([one.port], stop))
        await asyncio.sleep(BASELINE_SECONDS)
        stop.set()
        alone = await reading
    finally:
        single.stop()
    alone_p95 = _p95(alone[len(alone) // 10 :])

    events = burst.deliveries(burst.WARM_UP + EVENTS)
    warm, measured = events[: burst.WARM_UP], events[burst.WARM_UP :]
    started_at = datetime.now(UTC)
    cluster = Cluster(directory, env)
    servers = [cluster.start("serve", "--no-worker") for _ in range(3)]
    for _ in range(2):
        cluster.start("worker")
    try:
        cluster.wait_ready()
        ports = [s.port for s in servers]
        await _post_spread(ports, warm)
        await burst._until_visible(url, 0, burst.WARM_UP)
        stop = asyncio.Event()
        reading = asyncio.create_task(_read_for(ports, stop))
        await asyncio.sleep(2)  # readers warm up
        posted, rate = await _post_spread(ports, measured)
        visible = await burst._until_visible(url, burst.WARM_UP, len(measured))
        stop.set()
        loaded = await reading
        # Keep the schedulers running a few due times more, then count the runs.
        await asyncio.sleep(SYNC_EVERY * 2)
    finally:
        codes = cluster.stop()
    stored = await burst._stored(url) - burst.WARM_UP
    lost = (len(measured) - stored) + await burst._lost(url, burst._last_titles(events))
    runs = [r for r in await _sync_runs(url) if r >= started_at]
    slots = [int(r.timestamp()) // SYNC_EVERY for r in runs]
    twice = len(slots) - len(set(slots))
    loaded_p95 = _p95(loaded[len(loaded) // 10 :])
    baseline = (
        f"one `serve` (API, scheduler, worker), {READERS} readers, no burst: "
        f"p95 {alone_p95:.1f} ms, p50 {statistics.median(alone):.1f} ms "
        f"({len(alone):,} pages)"
    )
    section.add(
        Figure(
            f"page p95 under the burst, 3 replicas + 2 workers ({READERS} readers)",
            loaded_p95,
            "ms",
            target=f"≤ 2× single-process ({TARGET_RATIO * alone_p95:.1f} ms)",
            met=loaded_p95 <= TARGET_RATIO * alone_p95,
            baseline=baseline,
            note=f"p50 {statistics.median(loaded):.1f} ms, {len(loaded):,} pages",
        )
    )
    section.add(
        Figure(
            "webhook events lost",
            lost,
            "events",
            target="0",
            met=lost == 0,
            note=(
                f"{stored:,} stored of {len(measured):,} sent at {rate:,.0f}/s over 3 "
                f"replicas (p99 answer {_p99(posted):.1f} ms); "
                f"all applied and rolled up {visible:.1f} s after the last"
            ),
        )
    )
    section.add(
        Figure(
            "scheduled syncs run twice for one due time",
            twice,
            "runs",
            target="0",
            met=twice == 0,
            note=(
                f"{len(runs)} sync runs for {len(set(slots))} due times (every {SYNC_EVERY} s) "
                f"with 5 schedulers firing each; exit codes {sorted(set(codes.values()))}"
            ),
        )
    )


async def run() -> Section:
    section = Section(
        "Scale-out: replicas and workers on PostgreSQL",
        f"Three `throughline serve --no-worker` and two `throughline worker` processes on one "
        f"scratch PostgreSQL database; {EVENTS:,} signed Jira deliveries (the webhooks "
        f"benchmark's burst, {burst.CLIENTS} clients spread over the replicas) while "
        f"{READERS} keep-alive readers load `{PAGE}` on the replicas; the source syncs every "
        f"{SYNC_EVERY} s. Baseline: one `throughline serve` with the same readers for "
        f"{BASELINE_SECONDS:.0f} s. Measured at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    )
    if "PostgreSQL" not in backends():
        section.setup += (
            " **NOT MEASURED in this run: it needs PostgreSQL "
            "(set THROUGHLINE_BENCH_POSTGRES_URL).**"
        )
        print("  NOT MEASURED: set THROUGHLINE_BENCH_POSTGRES_URL (PostgreSQL)")
        return section
    with burst.fake_jira() as jira, tempfile.TemporaryDirectory() as directory:
        async with scratch_database("PostgreSQL") as url:
            await _measure(section, url, jira, Path(directory))
    return section
