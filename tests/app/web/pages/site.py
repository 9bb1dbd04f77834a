"""A realistic site for browser tests: a fake Asana and a fake Jira synced over real HTTP
for six weeks of history, recomputed each week, then Throughline served on a loopback port.

The fake's workspace already holds tasks with hostile names; this adds hostile text where
else a tracker can put it (a section, an assignee, a project name, a status update), so
every page shows what trackers can send.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig, parse_config
from app.programs.recompute import recompute
from app.sync import pull
from connectors.fake.asana import FakeAsana, generate
from connectors.fake.asana.model import User
from connectors.fake.jira import FakeJira
from connectors.fake.jira import generate as generate_jira

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
TOKEN_ENV = {
    "FAKE_ASANA_TOKEN": "fake-token",
    "FAKE_JIRA_EMAIL": "pm@example.com",
    "FAKE_JIRA_TOKEN": "fake-token",
    "T_VIEWER": "viewer-secret",
    "T_ADMIN": "admin-secret",
}
WEEKS = 6
WEEK = timedelta(weeks=1)


def config_for(fake: FakeAsana, base: str, jira_base: str) -> ThroughlineConfig:
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
  - name: acme-jira
    kind: jira
    url: {jira_base}
    deployment: cloud
    auth: {{email_env: FAKE_JIRA_EMAIL, token_env: FAKE_JIRA_TOKEN}}
    projects: [PAY, WEB]
programs:
  - key: checkout
    name: Checkout v2
    timezone: Europe/Berlin
    outcomes:
      - {{key: fast-pay, name: Pay in one click, target: 2027-01-29,
          match: [{{source: acme-asana, projects: ["{p[0]}"]}},
                  {{source: acme-jira, projects: [PAY]}}]}}
      - {{key: web, name: Web checkout, target: 2026-12-18,
          match: [{{source: acme-asana, projects: ["{p[1]}"]}},
                  {{source: acme-jira, projects: [WEB]}}]}}
  - key: mobile
    name: Mobile relaunch
    timezone: America/New_York
    outcomes:
      - {{key: app, name: App store release, target: 2027-03-01,
          match: [{{source: acme-asana, projects: ["{p[2]}", "{p[3]}"]}}]}}
teams:
  - {{key: payments, name: Payments squad,
      members: [Ada Lovelace, Grace Hopper, Ken Thompson, '{IMG} Mallory']}}
  - {{key: web, name: Web crew, members: [Linus Torvalds, Barbara Liskov, Alan Turing]}}
resources: {{wip_limit: 2}}
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


def jira_site(asana: FakeAsana) -> FakeJira:
    """A fake Jira Cloud on the Asana fake's clock, its history ending a week ago; one
    issue carries a hostile summary."""
    clock = asana.world.clock
    jira = FakeJira(generate_jira(240, seed=7, anchor=clock.now() - WEEK, clock=clock.now))
    first = min(jira.data.issues.values(), key=lambda i: i.id)
    jira.edit(first.key, summary=f"{SCRIPT} {IMG} Jira")
    return jira


def _work_a_week(fake: FakeAsana, jira: FakeJira, rng: random.Random) -> None:
    """The teams finish some work and start some more, in both trackers."""
    world = fake.world
    for project in list(world.projects.values()):
        open_tasks = [g for g in project.tasks if not world.tasks[g].completed]
        for gid in rng.sample(open_tasks, k=min(len(open_tasks), rng.randint(3, 8))):
            world.edit_task(gid, completed=True)
        for gid in rng.sample(open_tasks, k=min(len(open_tasks), 2)):
            if not world.tasks[gid].completed:
                world.edit_task(gid, section=project.sections[-2])
    issues = sorted(
        (i for i in jira.data.issues.values() if i.project.key in ("PAY", "WEB")),
        key=lambda i: i.id,
    )
    for issue in rng.sample(issues, k=min(len(issues), 8)):
        if issue.status.category != "done":
            started = issue.status.category == "indeterminate"
            jira.edit(issue.key, status="Done" if started else "In Progress")


async def build_history(
    fake: FakeAsana,
    jira: FakeJira,
    config: ThroughlineConfig,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Six weeks: each week the teams finish and start some work, then syncs and a
    recomputation store that week's snapshot, as the scheduler would.

    The fakes' clock runs ahead of the wall clock, so the week's recomputation is the
    newest and is stored (a sync's own recomputation, at the wall clock's time, is older).
    """
    rng = random.Random(7)
    for week in range(WEEKS + 1):
        if week:
            fake.world.clock.advance(WEEK.total_seconds())
            _work_a_week(fake, jira, rng)
        for source in ("acme-asana", "acme-jira"):
            outcome = await pull.sync_source(sessionmaker, config, source, environ=TOKEN_ENV)
            assert outcome.status == "succeeded", (source, outcome.errors)
        await recompute(sessionmaker, config, now=fake.world.clock.now())
