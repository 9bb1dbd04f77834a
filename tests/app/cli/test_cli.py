"""The ``throughline`` command: configuration checks, migrations and serving."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli

EXAMPLE = Path(__file__).parents[3] / "examples" / "throughline.yaml"
runner = CliRunner()


def test_check_config_reports_problems_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("server: {auth: none}\nprograms:\n  - {key: a, name: A, timezone: Nowhere}\n")
    result = runner.invoke(cli, ["check-config", "-c", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: programs.0.timezone: 'Nowhere' is not a known time zone" in result.output


def test_check_config_summarises_a_valid_file_without_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "THROUGHLINE_VIEWER_TOKEN",
        "THROUGHLINE_ADMIN_TOKEN",
        "JIRA_EMAIL",
        "JIRA_API_TOKEN",
        "JIRA_WEBHOOK_SECRET",
        "ASANA_TOKEN",
        "CHECKOUT_SLACK_WEBHOOK_URL",
        "CONFLUENCE_EMAIL",
        "CONFLUENCE_API_TOKEN",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
    ):
        monkeypatch.setenv(name, f"secret-value-of-{name}")
    result = runner.invoke(cli, ["check-config", "-c", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "source acme-jira (jira) https://acme.atlassian.net: PAY, WEB" in result.output
    assert "program checkout 'Checkout v2': 1 outcome(s), Europe/Berlin" in result.output
    assert "secret-value-of" not in result.output


def test_db_upgrade_migrates_an_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THROUGHLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "database migrated to head" in result.output
    assert (tmp_path / "fresh.db").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "throughline.yaml"
    config.write_text("server: {auth: none}\nprograms:\n  - {key: checkout, name: Checkout v2}\n")
    port = free_port()
    env = dict(
        os.environ,
        THROUGHLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        THROUGHLINE_CONFIG=str(config),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, (
                    process.stdout.read().decode() if process.stdout else ""
                )
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_serve_migrates_and_answers(served: str) -> None:
    assert httpx.get(f"{served}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{served}/readyz")
    assert ready.status_code == 200, ready.text


def test_sync_pulls_a_fake_jira_into_the_store_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.fake.server import serve_in_thread
    from tests.jira_fakes import EMAIL, TOKEN, make_fake

    fake = make_fake(80)
    with serve_in_thread(fake) as base:
        config = tmp_path / "throughline.yaml"
        config.write_text(
            "server: {auth: none}\nsources:\n"
            f"  - {{name: acme, kind: jira, url: '{base}', "
            "auth: {email_env: J_EMAIL, token_env: J_TOKEN}}\n"
        )
        monkeypatch.setenv("J_EMAIL", EMAIL)
        monkeypatch.setenv("J_TOKEN", TOKEN)
        monkeypatch.setenv("THROUGHLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
        result = runner.invoke(cli, ["sync", "-c", str(config), "--full", "--census"])
        assert result.exit_code == 0, result.output
        assert "acme: sync succeeded: 80 seen, 80 written, 0 deleted" in result.output
        assert "acme: census succeeded: 80 seen, 0 written, 0 deleted" in result.output
        monkeypatch.setenv("J_TOKEN", "wrong")
        failed = runner.invoke(cli, ["sync", "acme", "-c", str(config)])
    assert failed.exit_code == 1
    assert "refused our credentials" in failed.output
    assert "wrong" not in failed.output


def test_sync_of_an_unknown_source_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "throughline.yaml"
    config.write_text("server: {auth: none}\n")
    result = runner.invoke(cli, ["sync", "nope", "-c", str(config)])
    assert result.exit_code == 1
    assert "no source named 'nope'" in result.output


def test_fake_jira_serves_a_generated_site(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "fake",
            "jira",
            "--port",
            str(port),
            "--issues",
            "300",
            "--seed",
            "4",
            "--latency-ms",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                stats = httpx.get(f"{base}/_fake/stats", timeout=1).json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert stats["issues"] == 300
        info = httpx.get(f"{base}/rest/api/2/serverInfo", auth=("pm@example.com", "fake-token"))
        assert info.json()["deploymentType"] == "Cloud"
    finally:
        process.terminate()
        process.wait(timeout=15)
