"""Full and incremental Jira sync against the fake served in its own process.

The fake holds 100,000 issues with status history, answers every request after 100 ms
(a Cloud site across the internet), allows 100 requests/s (429 beyond) and bulk fetches of
the documented 100 issues. Each timed part runs in a child process of its own, so peak
RSS is the syncing process's alone, with the source's default requests in flight:

1. Throughline's full sync into a scratch store (details, links, status history);
2. an incremental sync after 1 % of the issues changed;
3. the ``jira`` package's ``search_issues(..., fields=<the same list>,
   expand="changelog", maxResults=False)`` fetching the same issues, fields and
   histories, without storing anything (the baseline).

Targets: full-sync time ≤ 1.5× the API-bound limit for the requests it needed, ≥ 8×
faster than the baseline, peak RSS ≤ 300 MB, incremental ≤ 5 % of the full sync's time,
and the fake's CPU while serving the full sync < a quarter of the syncing process's.
``THROUGHLINE_BENCH_JIRA_ISSUES`` sets a smaller site (``python -m bench --quick``).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from bench.databases import backends, scratch_database
from bench.report import Figure, Section

N_ISSUES = int(os.environ.get("THROUGHLINE_BENCH_JIRA_ISSUES", "100000"))
LATENCY_MS = 100
RATE_LIMIT = 100.0
CHANGED = 0.01
EMAIL, TOKEN = "bench@example.com", "bench-token"
PROJECTS = ("PAY", "WEB", "MOB", "OPS", "DATA", "INT")


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
def fake_jira() -> Iterator[str]:
    """The fake in its own process, with latency and a rate limit; yields its base URL."""
    port = _free_port()
    command = [
        sys.executable, "-m", "app", "fake", "jira", "--port", str(port),
        "--issues", str(N_ISSUES), "--seed", "1", "--latency-ms", str(LATENCY_MS),
        "--rate-limit", str(RATE_LIMIT), "--email", EMAIL, "--token", TOKEN,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{base}/_fake/stats", timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the fake Jira did not start") from None
                time.sleep(0.25)
        _FAKE_PID[base] = process.pid
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _child(*args: str) -> dict[str, Any]:
    """Run one timed part in a fresh process; it prints one JSON line of figures."""
    env = dict(os.environ, BENCH_JIRA_EMAIL=EMAIL, BENCH_JIRA_TOKEN=TOKEN)
    done = subprocess.run(
        [sys.executable, "-m", "bench.jira_sync", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench child {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def _render_ahead(base: str) -> int:
    """Have the fake render every issue as the connector will ask for it, before the clock
    starts: a site's rendering is its own cost, not its client's."""
    from app.sync import trackers
    from connectors.jira.connector import FIELDS, JiraConnector

    source = _source_config(base)
    http = trackers.build_http_client(source)
    connector = trackers.build_connector(source, http)
    assert isinstance(connector, JiraConnector)
    site, _ = await connector.site()
    await http.aclose()
    fields = [*FIELDS, *site.custom_field_ids]
    async with httpx.AsyncClient(timeout=600) as control:
        response = await control.post(f"{base}/_fake/render-ahead", json={"fields": fields})
    return int(response.raise_for_status().json()["rendered"])


def _source_config(base: str) -> Any:
    from app.config import JiraSourceConfig

    os.environ.setdefault("BENCH_JIRA_EMAIL", EMAIL)
    os.environ.setdefault("BENCH_JIRA_TOKEN", TOKEN)
    return JiraSourceConfig.model_validate(
        {
            "name": "bench",
            "kind": "jira",
            "url": base,
            "auth": {"email_env": "BENCH_JIRA_EMAIL", "token_env": "BENCH_JIRA_TOKEN"},
            "projects": list(PROJECTS),
            "requests_per_second": RATE_LIMIT,
        }
    )


def _edit_random(base: str, count: int) -> list[str]:
    """Change ``count`` issues on the fake through its control API."""
    response = httpx.post(f"{base}/_fake/edit-random", json={"count": count}, timeout=60)
    edited: list[str] = response.raise_for_status().json()["edited"]
    return edited


def _bulk_calls(base: str) -> int:
    """How many ``/issue/bulkfetch`` calls the fake has answered so far."""
    stats = httpx.get(f"{base}/_fake/stats", timeout=60).raise_for_status().json()
    return int(stats["requests"].get("issue/bulkfetch", 0))


def _cpu_wait_seconds() -> float:
    """Time the event loop's thread was ready to run but waited for a CPU (the kernel's
    ``schedstat``): on a shared machine, the part of the wall that is other processes'."""
    with open("/proc/self/schedstat", encoding="ascii") as stat:
        return int(stat.read().split()[1]) / 1e9


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _throughline_sync(base: str, database_url: str, full: bool) -> dict[str, Any]:
    from app import sync
    from app.store import records
    from app.store.engine import make_engine, make_sessionmaker, session_scope
    from app.sync import trackers

    source = _source_config(base)
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    async with session_scope(sessionmaker) as session:
        row = await records.upsert_source(
            session, name="bench", kind="jira", base_url=base, options={}, now=sync.utcnow()
        )
    http = trackers.build_http_client(source)
    connector = trackers.build_connector(source, http)
    started, cpu, waited = time.perf_counter(), time.process_time(), _cpu_wait_seconds()
    outcome = await sync.run_sync(
        sessionmaker,
        connector,
        source_id=row.id,
        full=full,
        max_concurrent_scopes=trackers.kind_of(source).scope_concurrency(source),
    )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    waited = _cpu_wait_seconds() - waited
    await http.aclose()
    async with session_scope(sessionmaker) as session:
        stored = await records.count_items(session, row.id)
    await engine.dispose()
    return {
        "status": outcome.status,
        "error": "; ".join(outcome.errors.values()),
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "cpu_wait_seconds": waited,
        "items_seen": outcome.items_seen,
        "items_stored": stored,
        "transitions": outcome.counts.transitions,
        "requests": connector.stats.requests,
        "retries": connector.stats.retries,
        "rate_limited": connector.stats.rate_limited,
        "rss_mb": _peak_rss_mb(),
    }


def _jira_package(base: str) -> dict[str, Any]:
    from jira import JIRA

    from connectors.jira.connector import FIELDS

    client = JIRA(server=base, basic_auth=(EMAIL, TOKEN))
    quoted = ", ".join(f'"{p}"' for p in PROJECTS)
    jql = f"project in ({quoted})"
    # The fields Throughline asks for: its list and the site's story points and start date.
    fields = [*FIELDS, *_custom_fields(client)]
    started = time.perf_counter()
    issues = client.search_issues(
        f"{jql} ORDER BY key ASC", fields=fields, expand="changelog", maxResults=False
    )
    elapsed = time.perf_counter() - started
    client.close()
    return {"seconds": elapsed, "issues": len(issues), "rss_mb": _peak_rss_mb()}


def _custom_fields(client: Any) -> list[str]:
    wanted = {"story point estimate", "story points", "start date"}
    return [f["id"] for f in client.fields() if str(f.get("name", "")).lower() in wanted]


def api_bound_seconds(successful_requests: int) -> float:
    """The least time the site allows for that many requests: the rate limit, plus one
    request's latency for the last answer to come back. The run's own successful requests
    are the fewest the fake's page caps allow (5,000 ids, 100 issues, 1,000 histories)."""
    return successful_requests / RATE_LIMIT + LATENCY_MS / 1000


async def run() -> Section:
    section = Section(
        "Jira: full and incremental sync",
        f"{N_ISSUES:,} issues with status history in the fake Jira (Cloud), served by its own "
        f"process with {LATENCY_MS} ms per request, {RATE_LIMIT:.0f} requests/s (429 "
        "beyond) and the documented 100 issues per bulk fetch; Throughline, configured with "
        "the six projects, the default requests in flight and requests_per_second 100, into "
        "a scratch store; baseline: the jira package's search_issues(fields=<the same list>, "
        "expand='changelog', maxResults=False) over the same issues, fetching only. Each part "
        "runs in its own process.",
    )
    fulls: dict[str, dict[str, Any]] = {}
    with fake_jira() as base:
        for backend in backends():
            # Again for each: the previous incremental changed the site, which drops them.
            await _render_ahead(base)
            async with scratch_database(backend) as url:
                before, fake_cpu = _bulk_calls(base), _cpu_seconds(_FAKE_PID[base])
                full = _child("sync", base, url, "full")
                full["fake_cpu_seconds"] = _cpu_seconds(_FAKE_PID[base]) - fake_cpu
                full["bulk_calls"] = _bulk_calls(base) - before
                if full["status"] != "succeeded" or full["items_stored"] != N_ISSUES:
                    raise RuntimeError(f"the full sync did not store everything: {full}")
                edited = _edit_random(base, int(N_ISSUES * CHANGED))
                incremental = _child("sync", base, url, "incremental")
            _report(section, backend, full, incremental, len(edited))
            fulls[backend] = full
        baseline = _child("jira", base)
    rate = baseline["issues"] / baseline["seconds"]
    for backend, full in fulls.items():
        speedup = baseline["seconds"] / full["seconds"]
        section.add(
            Figure(
                f"{backend} full sync ÷ the jira package's time",
                speedup,
                "× faster",
                target="≥ 8× faster",
                met=speedup >= 8,
                baseline=f"jira package search_issues(fields=<the same>, expand='changelog', "
                f"maxResults=False), fetch only: {baseline['seconds']:.1f} s for "
                f"{baseline['issues']:,} issues ({rate:,.0f} issues/s)",
                note=f"Throughline, storing everything: {full['seconds']:.1f} s "
                f"({N_ISSUES / full['seconds']:,.0f} issues/s)",
            )
        )
    return section


def _report(
    section: Section,
    backend: str,
    full: dict[str, Any],
    incremental: dict[str, Any],
    edited: int,
) -> None:
    needed = full["requests"] - full["retries"]
    bound = api_bound_seconds(needed)
    ratio = full["seconds"] / bound
    section.add(
        Figure(
            f"{backend} full sync",
            N_ISSUES / full["seconds"],
            "issues/s",
            note=f"{full['seconds']:.1f} s, {full['cpu_seconds']:.1f} s of CPU, "
            f"its event loop {full['cpu_wait_seconds']:.1f} s waiting for a CPU; "
            f"{full['transitions']:,} transitions; {full['requests']:,} requests "
            f"({full['bulk_calls']:,} bulk fetches of ≤ 100), {full['rate_limited']} answered 429",
        )
    )
    section.add(
        Figure(
            f"{backend} full sync ÷ API-bound limit",
            ratio,
            "×",
            target="≤ 1.5×",
            met=ratio <= 1.5,
            note=f"limit {bound:.1f} s = {needed:,} successful requests at "
            f"{RATE_LIMIT:.0f}/s + {LATENCY_MS} ms",
        )
    )
    share = full["fake_cpu_seconds"] / full["cpu_seconds"]
    section.add(
        Figure(
            f"{backend} fake Jira's CPU serving the full sync ÷ the sync's CPU",
            share,
            "×",
            target="< 0.25×",
            met=share < 0.25,
            note=f"fake {full['fake_cpu_seconds']:.1f} s, sync {full['cpu_seconds']:.1f} s",
        )
    )
    section.add(
        Figure(
            f"{backend} peak RSS of the syncing process",
            full["rss_mb"],
            "MB",
            target="≤ 300 MB",
            met=full["rss_mb"] <= 300,
        )
    )
    share = incremental["seconds"] / full["seconds"]
    section.add(
        Figure(
            f"{backend} incremental sync after {edited:,} issues changed",
            incremental["seconds"],
            "s",
            target="≤ 5 % of the full sync",
            met=share <= 0.05,
            note=f"{share:.1%} of the full sync; {incremental['items_seen']:,} issues read, "
            f"{incremental['requests']} requests",
        )
    )


def _main(argv: list[str]) -> None:
    part = argv[0]
    if part == "sync":
        from app.cli.process import tune_garbage_collector

        # As `throughline sync` does (app.cli.main): the child measures the product.
        tune_garbage_collector()
        base, url, mode = argv[1:4]
        result = asyncio.run(_throughline_sync(base, url, full=mode == "full"))
    elif part == "jira":
        result = _jira_package(argv[1])
    else:
        raise SystemExit(f"unknown part {part!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    _main(sys.argv[1:])
