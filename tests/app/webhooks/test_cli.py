"""``throughline webhooks register`` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import EMAIL, TOKEN, make_fake

runner = CliRunner()


def test_register_needs_the_servers_public_url(tmp_path: Path) -> None:
    config = tmp_path / "throughline.yaml"
    config.write_text("server: {auth: none}\n")
    result = runner.invoke(cli, ["webhooks", "register", "nope", "-c", str(config)])
    assert result.exit_code == 2
    assert "public URL" in result.output


def test_register_a_jira_source_prints_the_admin_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_in_thread(make_fake(20)) as base:
        config = tmp_path / "throughline.yaml"
        config.write_text(
            "server: {auth: none}\nsources:\n"
            f"  - {{name: acme, kind: jira, url: '{base}', projects: [PAY], "
            "auth: {email_env: J_EMAIL, token_env: J_TOKEN}, webhook: {secret_env: J_HOOK}}\n"
        )
        monkeypatch.setenv("J_EMAIL", EMAIL)
        monkeypatch.setenv("J_TOKEN", TOKEN)
        monkeypatch.setenv("J_HOOK", "the-shared-secret")
        monkeypatch.setenv("THROUGHLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
        result = runner.invoke(
            cli,
            ["webhooks", "register", "acme", "-c", str(config), "--public-url", "https://tl.test"],
        )
    assert result.exit_code == 0, result.output
    assert "URL: https://tl.test/webhooks/jira/acme" in result.output
    assert "Secret: the-shared-secret" in result.output
    assert 'JQL: project = "PAY"' in result.output
