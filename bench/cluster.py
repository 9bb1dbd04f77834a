"""A deployment on one machine: ``throughline serve`` replicas and ``throughline worker``
processes started as real processes on one database, as an operator runs them.

Used by the multi-process tests and the scale-out benchmark.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

Role = Literal["serve", "worker"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Member:
    role: Role
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    """Processes sharing ``env`` (database URL, configuration, secrets), logs in ``workdir``."""

    workdir: Path
    env: dict[str, str]
    members: list[Member] = field(default_factory=list)

    def start(self, role: Role, *arguments: str) -> Member:
        port = free_port()
        log = self.workdir / f"{role}-{len(self.members)}-{port}.log"
        command = [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            role,
            "--port",
            str(port),
            *(("--no-migrate",) if role == "serve" else ()),
            *arguments,
        ]
        env = {**os.environ, **self.env}
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        member = Member(role, port, process, log)
        self.members.append(member)
        return member

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every member answers ``/readyz`` with 200 (or raise, with its log)."""
        deadline = time.monotonic() + timeout
        for member in self.members:
            while True:
                if member.process.poll() is not None:
                    raise RuntimeError(
                        f"{member.role} on {member.port} exited: {member.output()[-3000:]}"
                    )
                try:
                    if httpx.get(f"{member.url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{member.role} on {member.port} not ready: {member.output()[-3000:]}"
                    )
                time.sleep(0.2)

    def metric(self, name: str, labels: dict[str, str]) -> float:
        """The sum over every live member of one sample of its ``/metrics``."""
        wanted = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
        total = 0.0
        for member in self.members:
            if member.process.poll() is not None:
                continue
            for line in httpx.get(f"{member.url}/metrics", timeout=5).text.splitlines():
                series, _, value = line.rpartition(" ")
                if _same_series(series, wanted):
                    total += float(value)
        return total

    def stop(self, timeout: float = 30.0) -> dict[int, int | None]:
        """SIGTERM every member, wait up to ``timeout``, SIGKILL what is left; exit codes."""
        for member in self.members:
            if member.process.poll() is None:
                member.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        codes: dict[int, int | None] = {}
        for member in self.members:
            try:
                codes[member.port] = member.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()
                codes[member.port] = None
        return codes


def _same_series(series: str, wanted: str) -> bool:
    """Whether a Prometheus text series equals ``wanted`` whatever its labels' order."""
    name, _, rest = series.partition("{")
    want_name, _, want_rest = wanted.partition("{")
    if name != want_name:
        return False
    return sorted(rest.rstrip("}").split(",")) == sorted(want_rest.rstrip("}").split(","))
