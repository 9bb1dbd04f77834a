"""Full Asana sync against the fake in its own process: API-bound limit and the official client.

Setup: 20,000 top-level tasks in 40 projects, 5 % of them with subtasks, served by
``throughline fake asana`` in another process with 100 ms added to every request and
Asana's paid quota of 1,500 requests a minute enforced (429 + Retry-After).

Targets:
- the sync takes at most 1.5× the API-bound time: the fewest requests that can list every
  task and subtask (a page per 100 tasks of a project, one subtask listing per parent),
  plus, with the status history, one story listing per task on a board, at 1,500 a minute;
- it is at least 2× faster than the official ``asana`` package listing the same tasks and
  subtasks project by project, while also storing everything (SQLite) — both without
  stories (``status_history: false``); the sync with status history is measured against
  its own bound, and its story listings are counted;
- the fake's CPU while serving the sync is under a quarter of the syncing process's (it
  serves task JSON rendered once, not per request).

``BENCH_ASANA_TASKS`` sets the number of top-level tasks (default 20,000) for a quicker run.
"""

from __future__ import annotations

import asyncio
import math
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from app.config import parse_config
from app.store import records
from app.store.engine import make_engine, make_sessionmaker, session_scope
from app.sync import pull
from bench.databases import scratch_database
from bench.report import Figure, Section
from connectors.asana.connector import TASK_FIELDS
from connectors.fake.asana import generate

TASKS = int(os.environ.get("BENCH_ASANA_TASKS", "20000"))
"""Top-level tasks of the generated workspace (``BENCH_ASANA_TASKS`` for a quicker run)."""
PROJECTS = max(1, min(40, TASKS // 500))
SEED = 1
LATENCY_MS, PER_MINUTE = 100, 1_500
TOKEN_ENV = "BENCH_ASANA_TOKEN"
_FAKE_PID: dict[str, int] = {}


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from ``/proc``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fake_asana_process() -> Iterator[str]:
    """``throughline fake asana`` in its own process; yields its API URL."""
    port = _free_port()
    command = [
        sys.executable, "-m", "app", "fake", "asana", "--port", str(port),
        "--tasks", str(TASKS), "--projects", str(PROJECTS), "--seed", str(SEED),
        "--latency-ms", str(LATENCY_MS), "--requests-per-minute", str(PER_MINUTE),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}"
    _FAKE_PID[f"{root}/api/1.0"] = process.pid
    try:
        for _ in range(300):
            try:
                httpx.get(f"{root}/_fake/stats", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield f"{root}/api/1.0"
    finally:
        process.terminate()
        process.wait(timeout=30)


def api_bound() -> tuple[int, int, int]:
    """(tasks, fewest requests listing them all, story listings of the tasks on a board)
    for the generated workspace: a task's stories fit one page (at most a hundred)."""
    world = generate(TASKS, seed=SEED, projects=PROJECTS)
    pages = sum(math.ceil(len(p.tasks) / 100) for p in world.projects.values())
    parents = sum(1 for t in world.tasks.values() if t.subtasks)
    on_boards = len({g for p in world.projects.values() for g in p.tasks})
    return len(world.tasks), pages + parents, on_boards


async def sync_with_throughline(
    url: str, workspace: str, projects: list[str], *, history: bool
) -> tuple[float, float, int]:
    """(seconds, CPU seconds of this process, tasks stored) of a full sync."""
    listed = ", ".join(f'"{p}"' for p in projects)
    config = parse_config(
        "server: {auth: none}\nsources:\n  - name: bench-asana\n    kind: asana\n"
        f"    url: {url}\n    auth: {{token_env: {TOKEN_ENV}}}\n"
        f"    workspace: '{workspace}'\n    projects: [{listed}]\n"
        f"    status_history: {'true' if history else 'false'}\n"
    )
    async with scratch_database("SQLite") as database:
        engine = make_engine(database)
        sessionmaker = make_sessionmaker(engine)
        started, cpu = time.perf_counter(), time.process_time()
        outcome = await pull.sync_source(
            sessionmaker, config, "bench-asana", full=True, environ={TOKEN_ENV: "bench"}
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if outcome.status != "succeeded":
            raise RuntimeError(f"the sync did not succeed: {outcome.errors}")
        async with session_scope(sessionmaker) as session:
            source = await records.get_source(session, "bench-asana")
            assert source is not None
            stored = await records.count_items(session, source.id)
        await engine.dispose()
    return elapsed, cpu, stored


def list_with_official_client(url: str, projects: list[str]) -> tuple[float, int]:
    """The official package, as its README shows: project by project, then subtasks."""
    import asana

    configuration = asana.Configuration()
    configuration.host = url
    configuration.access_token = "bench"
    tasks_api = asana.TasksApi(asana.ApiClient(configuration))
    seen: set[str] = set()
    started = time.perf_counter()
    for project in projects:
        # A fresh options dict per call: the client writes the next offset into the dict
        # it was given, so a shared one would carry a stale offset into the next listing.
        pending = list(tasks_api.get_tasks_for_project(project, _options()))
        while pending:
            task = pending.pop()
            seen.add(task["gid"])
            if task.get("num_subtasks"):
                pending += tasks_api.get_subtasks_for_task(task["gid"], _options())
    return time.perf_counter() - started, len(seen)


def _options() -> dict[str, object]:
    return {"opt_fields": TASK_FIELDS, "limit": 100}


def _fake_stats(url: str) -> dict[str, int]:
    stats = httpx.get(url.removesuffix("/api/1.0") + "/_fake/stats").json()["stats"]
    return {str(k): int(v) for k, v in stats.items()}


async def run() -> Section:
    tasks, listing, stories = api_bound()
    rate = PER_MINUTE / 60
    listing_seconds, history_seconds = listing / rate, (listing + stories) / rate
    section = Section(
        "Asana: full sync from the fake in its own process",
        f"{TASKS:,} tasks in {PROJECTS} projects, 5 % with subtasks ({tasks:,} tasks in all); "
        f"{LATENCY_MS} ms per request and {PER_MINUTE:,} requests/minute enforced by the fake. "
        f"API bound of the listing: {listing:,} requests at {rate:.0f}/s = "
        f"{listing_seconds:.1f} s; with the status history, + {stories:,} story listings "
        f"(one per task on a board) = {history_seconds:.1f} s. Stored in SQLite.",
    )
    with fake_asana_process() as url:
        world = generate(TASKS, seed=SEED, projects=PROJECTS)
        projects = list(world.projects)
        fake_cpu = _cpu_seconds(_FAKE_PID[url])
        ours, cpu, stored = await sync_with_throughline(
            url, world.workspace, projects, history=False
        )
        fake_cpu = _cpu_seconds(_FAKE_PID[url]) - fake_cpu
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        served = _fake_stats(url)
        if stored != tasks:
            raise RuntimeError(f"expected {tasks} tasks, stored {stored}")
        section.add(
            Figure(
                "Throughline full sync (status_history: false)",
                tasks / ours,
                "tasks/s",
                target=f"≤ 1.5× API-bound time ({1.5 * listing_seconds:.1f} s)",
                met=ours <= 1.5 * listing_seconds,
                baseline=f"API bound {tasks / listing_seconds:,.0f} tasks/s",
                note=f"{ours:.1f} s ({cpu:.1f} s CPU), {ours / listing_seconds:.2f}× the bound, "
                f"{served.get('requests', 0):,} requests, {served.get('rate_limited', 0)} × 429",
            )
        )
        section.add(Figure("peak RSS of the syncing process", peak_rss_mb, "MiB"))
        share = fake_cpu / cpu
        section.add(
            Figure(
                "fake Asana's CPU serving the full sync ÷ the sync's CPU",
                share,
                "×",
                target="< 0.25×",
                met=share < 0.25,
                note=f"fake {fake_cpu:.1f} s, sync {cpu:.1f} s (of {ours:.1f} s)",
            )
        )
        # Let the fake's one-minute quota window empty before each run, so each starts fresh.
        await asyncio.sleep(61)
        full, cpu, stored = await sync_with_throughline(
            url, world.workspace, projects, history=True
        )
        after = _fake_stats(url)
        requests = after.get("requests", 0) - served.get("requests", 0)
        read = after.get("story_listings", 0) - served.get("story_listings", 0)
        limited = after.get("rate_limited", 0) - served.get("rate_limited", 0)
        section.add(
            Figure(
                "Throughline full sync with status history",
                tasks / full,
                "tasks/s",
                target=f"≤ 1.5× API-bound time ({1.5 * history_seconds:.1f} s)",
                met=full <= 1.5 * history_seconds,
                baseline=f"API bound {tasks / history_seconds:,.0f} tasks/s",
                note=f"{full:.1f} s ({cpu:.1f} s CPU), {full / history_seconds:.2f}× the bound, "
                f"{requests:,} requests of which {read:,} story listings, {limited} × 429",
            )
        )
        section.add(
            Figure(
                "status history: story listings of a first sync",
                read,
                "requests",
                target=f"one per task on a board ({stories:,})",
                met=read == stories,
                note=f"{read / max(1, requests):.0%} of that sync's requests; later syncs read "
                "only the changed tasks' stories",
            )
        )
        await asyncio.sleep(61)
        theirs, listed = await asyncio.to_thread(list_with_official_client, url, projects)
    if listed != tasks:
        raise RuntimeError(f"expected {tasks} tasks, the official client listed {listed}")
    section.add(
        Figure(
            "vs official asana package",
            theirs / ours,
            "× faster",
            target="≥ 2×",
            met=theirs / ours >= 2,
            baseline=f"official client {tasks / theirs:,.0f} tasks/s in {theirs:.1f} s",
            note="both list without stories; the official client only lists, the sync stores",
        )
    )
    return section
