"""``throughline tokens``: create prints the token once, list never shows it, revoke ends
it; wrong names and roles are refused with a plain message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli

runner = CliRunner()


def test_tokens_are_made_listed_and_revoked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "tokens.db"
    monkeypatch.setenv("THROUGHLINE_DATABASE_URL", f"sqlite:///{database}")
    made = runner.invoke(
        cli, ["tokens", "create", "ci-dashboard", "--group", "security", "--expires-in", "30d"]
    )
    assert made.exit_code == 0, made.output
    token = next(line for line in made.output.splitlines() if line.startswith("tl_"))
    assert len(token) > 40

    listed = runner.invoke(cli, ["tokens", "list"])
    assert listed.exit_code == 0, listed.output
    assert "ci-dashboard\tviewer\tsecurity\texpires " in listed.output
    assert token not in listed.output

    with sqlite3.connect(database) as db:
        stored = repr(db.execute("select * from api_token").fetchall())
        audit = repr(db.execute("select actor, action, subject, after from audit_event").fetchall())
    assert token not in stored
    assert token not in audit
    assert "token.create" in audit

    assert runner.invoke(cli, ["tokens", "create", "ci-dashboard"]).exit_code == 1
    assert runner.invoke(cli, ["tokens", "create", "x", "--role", "boss"]).exit_code == 2
    assert runner.invoke(cli, ["tokens", "revoke", "nobody"]).exit_code == 1

    revoked = runner.invoke(cli, ["tokens", "revoke", "ci-dashboard"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(cli, ["tokens", "list"]).output
