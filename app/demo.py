"""The demo's working directory, configuration and settings."""

from __future__ import annotations

from pathlib import Path

from app.settings import LogSettings, Settings

DEMO_CONFIG = """\
# Written by `throughline demo`. Local use only: nobody needs a token.
server:
  auth: none
programs:
  - key: checkout
    name: Checkout v2
    timezone: Europe/Berlin
  - key: mobile
    name: Mobile relaunch
    timezone: America/New_York
  - key: platform
    name: Platform reliability
    timezone: UTC
"""


def prepare(workdir: Path) -> Settings:
    """Create the demo's directory and configuration; return settings that use them."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "throughline.yaml"
    config.write_text(DEMO_CONFIG, encoding="utf-8")
    return Settings(
        _env_file=None,
        database_url=f"sqlite:///{(workdir / 'throughline.db').resolve()}",
        config=config,
        log=LogSettings(level="INFO"),
    )
