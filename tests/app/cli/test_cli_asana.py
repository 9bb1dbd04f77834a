"""``throughline fake asana`` serves a fake; ``throughline sync`` reads it into the store."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from connectors.fake.asana import FakeAsana, generate
from connectors.fake.server import serve_in_thread
from tests.app.cli.test_cli import free_port

runner = CliRunner()


@pytest.fixture
def fake_process() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "fake", "asana", "--port", str(port), "--tasks", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/1.0"
    try:
        for _ in range(150):
            try:
                httpx.get(f"{base}/workspaces", timeout=1)
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


def test_fake_asana_serves_a_generated_workspace(fake_process: str) -> None:
    headers = {"Authorization": "Bearer anything"}
    workspaces = httpx.get(f"{fake_process}/workspaces", headers=headers).json()["data"]
    assert workspaces[0]["gid"] == "1200000000000001"
    assert httpx.get(f"{fake_process}/workspaces").status_code == 401
    stats = httpx.get(fake_process.removesuffix("/api/1.0") + "/_fake/stats").json()
    assert stats["tasks"] >= 300


def test_sync_reads_an_asana_source_and_reports_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeAsana(generate(120, seed=2, projects=2))
    projects = ", ".join(f'"{p}"' for p in fake.world.projects)
    with serve_in_thread(fake) as base:
        config = tmp_path / "throughline.yaml"
        config.write_text(
            "server: {auth: none}\nsources:\n  - name: acme-asana\n    kind: asana\n"
            f"    url: {base}/api/1.0\n    auth: {{token_env: FAKE_ASANA_TOKEN}}\n"
            f"    workspace: '{fake.world.workspace}'\n    projects: [{projects}]\n"
        )
        monkeypatch.setenv("FAKE_ASANA_TOKEN", "secret-token-value")
        monkeypatch.setenv("THROUGHLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
        result = runner.invoke(cli, ["sync", "-c", str(config), "--census"])
    assert result.exit_code == 0, result.output
    assert "acme-asana: sync succeeded: " in result.output
    # Multi-homed tasks are read once per project; the census counts each task once.
    assert f"census succeeded: {len(fake.world.tasks)} seen, 0 written, 0 deleted" in result.output
    assert "secret-token-value" not in result.output


def test_sync_of_an_unknown_source_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "throughline.yaml"
    config.write_text("server: {auth: none}\n")
    result = runner.invoke(cli, ["sync", "nope", "-c", str(config)])
    assert result.exit_code == 1
    assert "no source named 'nope'" in result.output
