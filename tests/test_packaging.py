"""The wheel is a whole installation: templates and migrations travel inside it.

Built from this checkout, installed into a fresh virtual environment and run from another
directory (so nothing can be found in the source tree), it migrates a database, checks a
configuration and serves a page.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """\
server: {auth: none}
programs:
  - key: launch
    name: Launch
    timezone: UTC
    outcomes:
      - {key: ship, name: Ship it, match: [{source: none, projects: [X]}]}
sources:
  - {name: none, kind: jira, url: 'https://jira.invalid', projects: [X], auth: {token_env: T}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with only the wheel installed (its dependencies are this test
    environment's, made visible without the checkout)."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(work.glob("throughline-*.whl"))
    env_dir = work / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Dependencies come from this environment's site-packages, added as a plain path: its
    # .pth files (among them the checkout's editable install) are not read.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir


def _run(env_dir: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(env_dir / "bin" / "throughline"), *args],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_installed_wheel_migrates_checks_its_configuration_and_serves_a_page(
    installed: Path, tmp_path: Path
) -> None:
    (tmp_path / "throughline.yaml").write_text(CONFIG)
    env = {
        "THROUGHLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "THROUGHLINE_CONFIG": str(tmp_path / "throughline.yaml"),
        "T": "token",
    }
    where = _run(installed, tmp_path, "--help")
    assert where.returncode == 0, where.stderr
    upgraded = _run(installed, tmp_path, "db", "upgrade", **env)
    assert upgraded.returncode == 0, upgraded.stderr
    checked = _run(installed, tmp_path, "check-config", **env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    port = _free_port()
    server = subprocess.Popen(
        [str(installed / "bin" / "throughline"), "serve", "--no-worker", "--port", str(port)],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/programs/launch") as answer:
                    page = answer.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "Launch" in page
        assert "Ship it" in page
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    # The page came from the installed package, not from a checkout it might have found.
    assert str(ROOT) not in errors
