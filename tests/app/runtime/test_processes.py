"""Real processes: three ``throughline worker`` and three ``throughline serve`` on one
PostgreSQL database run each scheduled sync once per due time, and a worker killed
mid-sync leaves the work to another; SIGTERM stops a process within its bound, cleanly
abandoning the sync in hand."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.config.settings import async_database_url
from app.store import migrations
from bench.cluster import Cluster
from connectors.fake.jira import FakeJira, Faults
from connectors.fake.server import serve_in_thread
from tests.conftest import TEST_DATABASE_ENV
from tests.jira_fakes import EMAIL, TOKEN, make_fake

pytestmark = pytest.mark.slow

SYNC_EVERY = 4


def _config(base: str, *, sync_every: str) -> str:
    return (
        "server: {auth: none}\n"
        "sources:\n"
        f"  - {{name: acme, kind: jira, url: '{base}', projects: [PAY, WEB], "
        f"sync_every: {sync_every}, auth: {{email_env: J_EMAIL, token_env: J_TOKEN}}}}\n"
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of its own (dropped afterwards)."""
    configured = os.environ.get(TEST_DATABASE_ENV, "")
    if not configured or make_url(async_database_url(configured)).get_backend_name() == "sqlite":
        pytest.skip(f"needs PostgreSQL: set {TEST_DATABASE_ENV} (the CI's PostgreSQL leg does)")
    url = make_url(async_database_url(configured))
    admin = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    name = f"throughline_procs_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    target = url.set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(target)
        yield target
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _sync_engine(url: str) -> Engine:
    return create_engine(make_url(url).set(drivername="postgresql+psycopg"))


def _runs(engine: Engine) -> list[tuple[int, str, str, datetime, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, mode, status, started_at, items_seen FROM sync_run "
                "WHERE mode IN ('full', 'incremental') ORDER BY id"
            )
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def _in_scope(fake: FakeJira) -> int:
    return sum(1 for issue in fake.data.issues.values() if issue.project.key in ("PAY", "WEB"))


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_three_workers_and_three_servers_run_each_sync_once_and_survive_a_killed_worker(
    postgres_url: str, tmp_path: Path
) -> None:
    # A slow tracker, so the first (full) sync lasts long enough to kill its process.
    fake = make_fake(1000, faults=Faults(latency=0.5))
    engine = _sync_engine(postgres_url)
    with serve_in_thread(fake) as base:
        config = tmp_path / "throughline.yaml"
        config.write_text(_config(base, sync_every=f"{SYNC_EVERY}s"))
        cluster = Cluster(
            tmp_path,
            {
                "THROUGHLINE_DATABASE_URL": postgres_url,
                "THROUGHLINE_CONFIG": str(config),
                "THROUGHLINE_SHUTDOWN_SECONDS": "5",
                "THROUGHLINE_LOG__FORMAT": "json",
                "J_EMAIL": EMAIL,
                "J_TOKEN": TOKEN,
            },
        )
        try:
            for _ in range(3):
                cluster.start("worker")
                cluster.start("serve")
            cluster.wait_ready()

            # Kill whichever process holds the first sync, while it is reading.
            def running() -> tuple[int, str] | None:
                with engine.connect() as connection:
                    row = connection.execute(
                        text(
                            "SELECT r.id, j.owner FROM sync_run r, job_run j "
                            "WHERE r.status = 'running' AND j.job_id = 'sync:acme' "
                            "AND j.finished_at IS NULL"
                        )
                    ).first()
                return (int(row[0]), str(row[1])) if row is not None else None

            _wait(lambda: running() is not None, 60, "a first sync to start")
            found = running()
            assert found is not None
            run_id, owner = found
            pid = int(owner.rpartition(":")[2])
            victim = next(m for m in cluster.members if m.process.pid == pid)
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait(10)
            killed_at = datetime.now(UTC)

            # Another process finishes the work at a later due time.
            def finished_after_kill() -> bool:
                return any(
                    status == "succeeded" and started > killed_at
                    for _, _, status, started, _ in _runs(engine)
                )

            _wait(finished_after_kill, 60, "another process to finish the sync")
            observed_from = datetime.now(UTC)
            time.sleep(SYNC_EVERY * 4 + 1)
            observed_to = datetime.now(UTC)

            runs = _runs(engine)
            killed = next(r for r in runs if r[0] == run_id)
            assert killed[2] == "abandoned", runs  # marked so by the process that took over
            with engine.connect() as connection:
                stored = connection.execute(
                    text("SELECT count(*) FROM item WHERE deleted_at IS NULL")
                ).scalar()
            assert stored == _in_scope(fake)

            # Each due time ran once, by one process: no two runs in one interval.
            due_slots = [int(r[3].timestamp()) // SYNC_EVERY for r in runs]
            assert len(due_slots) == len(set(due_slots)), runs
            in_window = [r for r in runs if observed_from <= r[3] <= observed_to]
            assert len(in_window) >= 3, runs  # and they did run, about every interval
            # Every run after the kill succeeded (one begun as the window closed may still run).
            assert all(r[2] in ("succeeded", "running") for r in runs if r[3] > killed_at), runs
            assert [r for r in runs if r[2] == "running"] in ([], [runs[-1]]), runs

            # The survivors saw the contention: the same due times fired everywhere.
            skipped = cluster.metric(
                "throughline_scheduled_jobs_total", {"kind": "sync", "outcome": "skipped_done"}
            ) + cluster.metric(
                "throughline_scheduled_jobs_total", {"kind": "sync", "outcome": "skipped_busy"}
            )
            assert skipped >= len(in_window)
        finally:
            codes = cluster.stop(timeout=20)
            engine.dispose()
    logs = "\n".join(m.output() for m in cluster.members)
    assert '"level": "error"' not in logs, logs[-5000:]
    survivors = [m for m in cluster.members if m is not victim]
    assert all(codes[m.port] == 0 for m in survivors), codes


def test_sigterm_stops_a_worker_within_its_bound_abandoning_the_page_in_hand(
    tmp_path: Path,
) -> None:
    """On SQLite (one process is the SQLite deployment): a sync far longer than the bound
    is abandoned cleanly, and the next sync reads everything."""
    fake = make_fake(400, faults=Faults(latency=2.0))
    database = tmp_path / "throughline.db"
    url = f"sqlite:///{database}"
    migrations.upgrade(async_database_url(url))
    with serve_in_thread(fake) as base:
        config = tmp_path / "throughline.yaml"
        config.write_text(_config(base, sync_every="1s"))
        env = {
            "THROUGHLINE_DATABASE_URL": url,
            "THROUGHLINE_CONFIG": str(config),
            "THROUGHLINE_SHUTDOWN_SECONDS": "3",
            "J_EMAIL": EMAIL,
            "J_TOKEN": TOKEN,
        }
        cluster = Cluster(tmp_path, env)
        worker = cluster.start("worker")
        cluster.wait_ready()
        engine = create_engine(f"sqlite:///{database}")
        try:

            def running() -> bool:
                with engine.connect() as connection:
                    return bool(
                        connection.execute(
                            text("SELECT count(*) FROM sync_run WHERE status = 'running'")
                        ).scalar()
                    )

            _wait(running, 30, "the sync to start")
            time.sleep(1.0)
            sent = time.monotonic()
            worker.process.send_signal(signal.SIGTERM)
            code = worker.process.wait(15)
            took = time.monotonic() - sent
            assert code == 0, worker.output()[-3000:]
            assert took < 3 + 1.5, took  # the bound, plus the interpreter's own exit
            with engine.connect() as connection:
                status, error = connection.execute(
                    text("SELECT status, error FROM sync_run ORDER BY id DESC LIMIT 1")
                ).one()
                cursors = connection.execute(
                    text("SELECT count(*) FROM sync_state WHERE cursor_at IS NOT NULL")
                ).scalar()
            assert status == "abandoned", worker.output()[-3000:]
            assert "next sync resumes" in error
            assert cursors == 0  # the cursor never moved past the page in hand
            assert "stopped by shutdown" in worker.output() or "stopping 1 job" in worker.output()
        finally:
            engine.dispose()
            cluster.stop()

    # The next sync (a fast tracker now) reads it all.
    fake.faults.latency = 0.0
    with serve_in_thread(fake) as base:
        config.write_text(_config(base, sync_every="1h"))
        import subprocess
        import sys

        done = subprocess.run(
            [sys.executable, "-c", "from app.cli import main; main()", "sync"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{_in_scope(fake)} seen" in done.stdout, done.stdout


def test_readiness_of_a_worker_is_served_on_its_health_port(tmp_path: Path) -> None:
    database = tmp_path / "throughline.db"
    migrations.upgrade(async_database_url(f"sqlite:///{database}"))
    config = tmp_path / "throughline.yaml"
    config.write_text("server: {auth: none}\n")
    cluster = Cluster(
        tmp_path,
        {"THROUGHLINE_DATABASE_URL": f"sqlite:///{database}", "THROUGHLINE_CONFIG": str(config)},
    )
    worker = cluster.start("worker")
    try:
        cluster.wait_ready()
        ready = httpx.get(f"{worker.url}/readyz").json()
        assert ready["checks"]["scheduler"] == "running"
        assert httpx.get(f"{worker.url}/api/programs").status_code == 404
    finally:
        assert cluster.stop() == {worker.port: 0}
