"""``kill -9`` of real processes, then a restart: nothing acknowledged is lost, nothing is
applied twice, and a full sync continues where it was killed.

Slow: each test starts ``throughline`` processes against a fake Jira on loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.config.settings import async_database_url
from app.store import migrations
from bench.cluster import free_port
from connectors.fake.jira import Faults
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import EMAIL, TOKEN, expected_items, make_fake

pytestmark = pytest.mark.slow

SECRET = "kill-nine-secret"
EVENTS = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]


def _config(base: str, projects: list[str], *, in_flight: int = 8) -> str:
    return (
        "server: {auth: none}\n"
        "sources:\n"
        f"  - {{name: acme, kind: jira, url: '{base}', projects: [{', '.join(projects)}], "
        f"sync_every: 1d, max_in_flight: {in_flight}, "
        "auth: {email_env: J_EMAIL, token_env: J_TOKEN}, webhook: {secret_env: J_SECRET}}\n"
    )


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Process:
    """One ``throughline`` command as an operator starts it, its output in a log file."""

    def __init__(self, workdir: Path, env: dict[str, str], *arguments: str) -> None:
        self.log = workdir / f"{arguments[0]}-{time.monotonic_ns()}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from app.cli import main; main()", *arguments],
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=workdir,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode


@contextmanager
def store(tmp_path: Path) -> Iterator[tuple[str, Callable[[str], list[tuple[object, ...]]]]]:
    """A migrated SQLite store and a way to query it."""
    database = tmp_path / "throughline.db"
    url = f"sqlite:///{database}"
    migrations.upgrade(async_database_url(url))
    engine = create_engine(url)

    def query(sql: str) -> list[tuple[object, ...]]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]

    try:
        yield url, query
    finally:
        engine.dispose()


def _ready(port: int, process: Process, timeout: float = 60) -> None:
    def answering() -> bool:
        assert process.process.poll() is None, process.output()[-3000:]
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    _wait(answering, timeout, "the server to be ready")


def test_serve_killed_mid_burst_applies_every_acknowledged_delivery_once_after_restart(
    tmp_path: Path,
) -> None:
    fake = make_fake(120, seed=3)
    projects = ["PAY", "WEB"]
    with store(tmp_path) as (url, query), serve_in_thread(fake) as base:
        config = tmp_path / "throughline.yaml"
        config.write_text(_config(base, projects))
        env = {
            "THROUGHLINE_DATABASE_URL": url,
            "THROUGHLINE_CONFIG": str(config),
            "J_EMAIL": EMAIL,
            "J_TOKEN": TOKEN,
            "J_SECRET": SECRET,
        }
        port = free_port()
        arguments = ("serve", "--port", str(port), "--no-migrate")
        server = Process(tmp_path, env, *arguments)
        _ready(port, server)
        httpx.post(
            f"{base}/_fake/webhooks",
            json={
                "url": f"http://127.0.0.1:{port}/webhooks/jira/acme",
                "events": EVENTS,
                "secret": SECRET,
                "jql": "project in (PAY, WEB)",
            },
        ).raise_for_status()

        emitter = fake.webhooks
        emitter.paused = True
        issues = sorted(
            (i for i in fake.data.issues.values() if i.project.key in projects), key=lambda i: i.id
        )
        for n in range(1_500):
            issue = issues[n % len(issues)]
            fake.edit(issue.key, summary=f"{issue.summary.split(' #')[0]} #{n}")
        queued = len(emitter.queue)
        emitter.paused = False
        _wait(
            lambda: query("SELECT count(*) FROM webhook_event")[0][0] >= 300,
            60,
            "a part of the burst to be stored",
        )
        server.kill()  # mid-burst: deliveries in flight, a batch perhaps half applied
        stored_before = query("SELECT count(*) FROM webhook_event")[0][0]
        assert int(str(stored_before)) < queued

        restarted = Process(tmp_path, env, *arguments)
        try:
            _ready(port, restarted)
            _wait(lambda: emitter.idle, 120, "the fake to deliver everything")
            _wait(
                lambda: (
                    query("SELECT count(*) FROM webhook_event WHERE state = 'pending'")[0][0] == 0
                ),
                120,
                "the inbox to run dry",
            )
        finally:
            code = restarted.stop()

        assert not emitter.dropped
        assert any(599 in d.answers for d in emitter.delivered), "none was cut off by the kill"
        acknowledged = {d.identifier for d in emitter.delivered}
        assert len(acknowledged) == queued
        rows = query("SELECT headers, state, attempts FROM webhook_event")
        by_identifier: dict[str, list[tuple[object, object]]] = {}
        for headers, state, attempts in rows:
            identifier = json.loads(str(headers))["x-atlassian-webhook-identifier"]
            by_identifier.setdefault(identifier, []).append((state, attempts))
        assert set(by_identifier) == acknowledged  # nothing acknowledged was lost
        assert all(entries == [("applied", 1)] for entries in by_identifier.values())
        expected = {
            k: v["title"] for k, v in expected_items(fake.data).items() if v["project"] in projects
        }
        stored = dict(query("SELECT external_id, title FROM item WHERE deleted = 0"))
        assert stored == expected
    assert code == 0, restarted.output()[-3000:]
    assert '"level": "error"' not in restarted.output()


def test_a_full_sync_killed_mid_scope_continues_where_it_stopped(tmp_path: Path) -> None:
    fake = make_fake(9_000, seed=2, faults=Faults(latency=0.2))
    sizes: dict[str, int] = {}
    for issue in fake.data.issues.values():
        sizes[issue.project.key] = sizes.get(issue.project.key, 0) + 1
    project = max(sizes, key=lambda key: sizes[key])
    assert sizes[project] > 2_000  # more than two chunks of a thousand
    with store(tmp_path) as (url, query), serve_in_thread(fake) as base:
        config = tmp_path / "throughline.yaml"
        # Two requests at a time: the chunks are stored seconds apart, so a checkpoint is
        # there to be seen (and killed after) whatever the machine's load.
        config.write_text(_config(base, [project], in_flight=2))
        env = {
            "THROUGHLINE_DATABASE_URL": url,
            "THROUGHLINE_CONFIG": str(config),
            "J_EMAIL": EMAIL,
            "J_TOKEN": TOKEN,
            "J_SECRET": SECRET,
        }
        first = Process(tmp_path, env, "sync", "--full")
        try:
            _wait(
                lambda: bool(
                    query("SELECT checkpoint FROM sync_state WHERE checkpoint IS NOT NULL")
                ),
                120,
                "a first checkpoint",
            )
        except AssertionError:
            first.kill()
            raise AssertionError(first.output()[-3000:]) from None
        first.kill()
        [(checkpoint, cursor)] = query("SELECT checkpoint, cursor_at FROM sync_state")
        killed_with = query("SELECT count(*) FROM item")[0][0]
        assert cursor is None
        assert 0 < int(str(killed_with)) < sizes[project]

        fake.faults.latency = 0.0
        second = subprocess.run(
            [sys.executable, "-c", "from app.cli import main; main()", "sync", "--full"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,
        )
        assert second.returncode == 0, second.stdout + second.stderr
        [(seen, status)] = query(
            "SELECT items_seen, status FROM sync_run WHERE status != 'running' "
            "AND mode = 'full' ORDER BY id DESC LIMIT 1"
        )
        stored = query("SELECT count(*) FROM item")[0][0]
        states = query("SELECT checkpoint, cursor_at FROM sync_state")
    assert status == "succeeded"
    assert int(str(seen)) < sizes[project], "the second sync started over"
    assert int(str(seen)) <= sizes[project] - int(str(killed_with)) + 4_000
    assert stored == sizes[project]
    assert states[0][0] is None
    assert states[0][1] is not None
    assert int(str(checkpoint)) > 0
