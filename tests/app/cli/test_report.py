"""``throughline report``: on demand, for past weeks, and the archive as a static site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from app.cli import cli
from app.cli import report as report_cli
from app.config.settings import Settings
from app.store.engine import make_sessionmaker
from tests.app.reports import history


async def test_report_writes_a_past_week_and_the_static_site(
    database_url: str, committed_engine: AsyncEngine, tmp_path: Path
) -> None:
    cfg = await history.build(make_sessionmaker(committed_engine))
    settings = Settings(_env_file=None, database_url=database_url)
    later = history.MONDAY.replace(month=12)
    site = tmp_path / "site"
    request = report_cli.Request(
        keys=["checkout", "mobile"], week="2026-W47", deliver=False, out=site
    )
    lines, ok = await report_cli.run(settings, cfg, request, environ={}, now=later)
    assert ok, lines
    assert lines[0] == (
        "checkout 2026-W47: RED, from the snapshot of 2026-11-13 (compared with 2026-11-06)"
    )
    assert lines[-1].startswith("wrote 2 report(s) of 2 program(s)")
    index = (site / "index.html").read_text()
    assert 'href="checkout/index.html"' in index
    assert 'href="checkout/2026-W47.html"' in index
    program = (site / "checkout" / "index.html").read_text()
    assert 'href="2026-W47.html"' in program
    page = (site / "checkout" / "2026-W47.html").read_text()
    assert 'href="2026-W47.md"' in page
    assert "<script>alert" not in page
    assert (site / "checkout" / "2026-W47.md").read_text().startswith("# Checkout v2")
    assert json.loads((site / "checkout" / "2026-W47.json").read_text())["week"] == "2026-W47"


async def test_report_explains_a_week_it_cannot_write(
    database_url: str, committed_engine: AsyncEngine
) -> None:
    cfg = await history.build(make_sessionmaker(committed_engine))
    settings = Settings(_env_file=None, database_url=database_url)
    request = report_cli.Request(keys=["checkout"], week="2026-W40", deliver=False, out=None)
    lines, ok = await report_cli.run(settings, cfg, request, environ={}, now=history.MONDAY)
    assert not ok
    assert lines[0].startswith("! checkout 2026-W40: Program 'checkout' has no snapshot")


def test_report_needs_a_program_or_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T", "tracker-token")
    config = tmp_path / "t.yaml"
    config.write_text(history.config_text())
    result = CliRunner().invoke(cli, ["report", "-c", str(config)])
    assert result.exit_code == 2
    assert "name one program, or pass --all" in result.output
    result = CliRunner().invoke(cli, ["report", "nope", "-c", str(config)])
    assert result.exit_code == 1
    assert "no program named 'nope'" in result.output
