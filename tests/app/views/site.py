"""A realistic site for browser and fuzz tests: a fake Asana synced over real HTTP for six
weeks of history, recomputed each week, then Throughline served on a loopback port.

The fake's workspace already holds tasks with hostile names; this adds hostile text where
else a tracker can put it (a section, an assignee, a project name, a status update), so
every page shows what trackers can send.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import jobs
from app.config import ThroughlineConfig, parse_config
from app.recompute import recompute
from connectors.fake.asana import FakeAsana, generate
from connectors.fake.asana.model import User

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
TOKEN_ENV = {
    "FAKE_ASANA_TOKEN": "fake-token",
    "T_VIEWER": "viewer-secret",
    "T_ADMIN": "admin-secret",
}
WEEKS = 6


@dataclass(frozen=True, slots=True)
class Fake:
    asana: FakeAsana
    config: ThroughlineConfig


def config_for(fake: FakeAsana, base: str) -> ThroughlineConfig:
    p = list(fake.world.projects)
    return parse_config(
        f"""
server:
  auth: tokens
  tokens:
    - {{name: pm-team, role: viewer, token_env: T_VIEWER}}
    - {{name: ops, role: admin, token_env: T_ADMIN}}
sources:
  - name: acme-asana
    kind: asana
    url: {base}/api/1.0
    auth: {{token_env: FAKE_ASANA_TOKEN}}
    workspace: "{fake.world.workspace}"
    projects: ["{p[0]}", "{p[1]}", "{p[2]}", "{p[3]}"]
programs:
  - key: checkout
    name: Checkout v2
    timezone: Europe/Berlin
    outcomes:
      - {{key: fast-pay, name: Pay in one click, target: 2027-01-29,
          match: [{{source: acme-asana, projects: ["{p[0]}"]}}]}}
      - {{key: web, name: Web checkout, target: 2026-12-18,
          match: [{{source: acme-asana, projects: ["{p[1]}"]}}]}}
  - key: mobile
    name: Mobile relaunch
    timezone: America/New_York
    outcomes:
      - {{key: app, name: App store release, target: 2027-03-01,
          match: [{{source: acme-asana, projects: ["{p[2]}", "{p[3]}"]}}]}}
"""
    )


def hostile_world(tasks: int = 320) -> FakeAsana:
    """A generated workspace with tracker text built to break careless pages."""
    fake = FakeAsana(generate(tasks, seed=7, projects=4))
    world = fake.world
    first = next(iter(world.projects.values()))
    first.name = f"{IMG} Payments {SCRIPT}"
    world.sections[first.sections[1]].name = f"{SCRIPT} Doing"
    villain = world.new_gid()
    world.users[villain] = User(villain, f"{IMG} Mallory", "mallory@acme.test")
    for gid in first.tasks[:12]:
        world.tasks[gid].assignee = villain
    world.add_status_update(
        first.gid, "at_risk", f"We are late. {IMG} {SCRIPT}", title=SCRIPT, author=villain
    )
    return fake


@contextmanager
def rewound(fake: FakeAsana) -> Iterator[None]:
    """The fake's clock set back over the weeks of history, then forward to now again."""
    fake.world.clock.advance(-WEEKS * 7 * 86_400)
    try:
        yield
    finally:
        fake.world.clock.offset = 0.0


async def build_history(
    fake: FakeAsana, config: ThroughlineConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Six weeks: each week the teams finish and start some work, then a sync and a
    recomputation store that week's snapshot, as the scheduler would."""
    world = fake.world
    rng = random.Random(7)
    with rewound(fake):
        for week in range(WEEKS + 1):
            if week:
                world.clock.advance(7 * 86_400)
                for project in list(world.projects.values()):
                    open_tasks = [g for g in project.tasks if not world.tasks[g].completed]
                    for gid in rng.sample(open_tasks, k=min(len(open_tasks), rng.randint(3, 8))):
                        world.edit_task(gid, completed=True)
                    for gid in rng.sample(open_tasks, k=min(len(open_tasks), 2)):
                        world.edit_task(gid, section=project.sections[-2])
            outcome = await jobs.sync_source(sessionmaker, config, "acme-asana", environ=TOKEN_ENV)
            assert outcome.status == "succeeded", outcome.errors
            await recompute(sessionmaker, config, now=world.clock.now())
