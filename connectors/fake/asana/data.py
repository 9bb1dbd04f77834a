"""A deterministic, realistic Asana workspace: the same seed always builds the same world.

Teams own projects with board sections; tasks carry assignees, dates, story points,
priorities and tags; some are milestones or approvals, some have subtasks (and a few
sub-subtasks), some live in two projects, some depend on tasks in other projects, some
mention Jira issues, and a few have names built to break careless code.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from connectors.fake.asana.model import (
    CustomField,
    Portfolio,
    Project,
    Section,
    StatusUpdate,
    Tag,
    Task,
    Team,
    User,
)
from connectors.fake.asana.world import World, to_millis

EPOCH = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
"""Generated history ends here; later changes happen at the fake's clock."""

TEAMS = ("Payments", "Web", "Mobile", "Platform")
SECTION_SETS = (
    ("Backlog", "To do", "In progress", "In review", "Done"),
    ("To do", "Doing", "Done"),
    ("Ideas", "Planned", "In progress", "Shipped"),
)
VERBS = ("Implement", "Design", "Migrate", "Test", "Document", "Review", "Fix", "Ship", "Spike")
THINGS = (
    "checkout flow",
    "payment retries",
    "card vault",
    "login page",
    "push notifications",
    "search index",
    "audit log",
    "rate limiter",
    "invoice PDF",
    "onboarding emails",
    "feature flags",
    "dark mode",
)
FIRST = ("Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Alan", "Frances", "Edsger")
LAST = ("Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Turing", "Allen")
JIRA_KEYS = ("PAY", "WEB")
HOSTILE_NAMES = (
    "<script>alert('owned')</script> Checkout banner",
    "Quote \"double\" and 'single' and `back` ticks",
    "Emoji launch 🚀🔥✅ — ünïcödé — 日本語",
    "<img src=x onerror=alert(1)> & &amp; &lt;b&gt;",
    "Right-to-left \u202e txet desrever",
    "Long " + "name " * 600,
)
STATUS_TYPES = ("on_track", "at_risk", "off_track", "on_hold")


def generate(
    tasks: int = 2_000,
    *,
    seed: int = 1,
    projects: int | None = None,
    subtask_share: float = 0.05,
    jira_url: str = "https://acme.atlassian.net",
) -> World:
    """A world with ``tasks`` top-level tasks spread over ``projects`` projects.

    ``subtask_share`` of the tasks get one to three subtasks (more records, not counted in
    ``tasks``). Five hostile names are always among the first project's tasks.
    """
    rng = random.Random(seed)
    world = World(
        workspace="1200000000000001", workspace_name="Acme", next_gid=1_200_000_000_000_100
    )
    _people(world)
    _catalogue(world)
    count = projects or max(3, math.ceil(tasks / 500))
    _projects(world, rng, count)
    _portfolios(world)
    _tasks(world, rng, tasks, subtask_share, jira_url)
    _status_updates(world, rng)
    _histories(world, random.Random(seed * 7_919 + 17))
    world.events.clear()
    return world


def _at(rng: random.Random, days_back: float) -> datetime:
    return to_millis(EPOCH - timedelta(seconds=rng.uniform(0, days_back * 86_400)))


def _people(world: World) -> None:
    for first in FIRST:
        for last in LAST[:4]:
            gid = world.new_gid()
            email = f"{first.lower()}.{last.lower()}@acme.test"
            world.users[gid] = User(gid, f"{first} {last}", email)
    gid = world.new_gid()
    world.users[gid] = User(gid, "Zoë O'Brien-Ñúñez", "zoe.obrien@acme.test")
    world.actor = next(iter(world.users))
    for name in TEAMS:
        gid = world.new_gid()
        world.teams[gid] = Team(gid, name)


def _catalogue(world: World) -> None:
    for name, kind in (("Story points", "number"), ("Priority", "enum"), ("Jira link", "text")):
        gid = world.new_gid()
        world.fields[gid] = CustomField(gid, name, kind)
        if kind == "enum":
            for option in ("Low", "Medium", "High"):
                world.fields[gid].options[world.new_gid()] = option
    for name in ("checkout-v2", "tech-debt", "customer", "security", "q3", "design", "infra"):
        gid = world.new_gid()
        world.tags[gid] = Tag(gid, name)


def _projects(world: World, rng: random.Random, count: int) -> None:
    teams = list(world.teams)
    for index in range(count):
        team = teams[index % len(teams)]
        gid = world.new_gid()
        created = _at(rng, 400)
        name = f"{world.teams[team].name} · {THINGS[index % len(THINGS)].title()} {index + 1}"
        project = Project(gid, name, team, created_at=created, modified_at=created)
        for section_name in SECTION_SETS[index % len(SECTION_SETS)]:
            section = Section(world.new_gid(), section_name, gid, created)
            world.sections[section.gid] = section
            project.sections.append(section.gid)
        world.projects[gid] = project


def _portfolios(world: World) -> None:
    """A company roadmap holding one portfolio per team (nested) and one project directly."""
    owner = next(iter(world.users))
    root = Portfolio(world.new_gid(), "Company roadmap", owner)
    world.portfolios[root.gid] = root
    for team in world.teams.values():
        child = Portfolio(world.new_gid(), f"{team.name} portfolio", owner)
        child.items = [p.gid for p in world.projects.values() if p.team == team.gid]
        world.portfolios[child.gid] = child
        root.items.append(child.gid)
    first = next(iter(world.projects))
    root.items.append(first)


def _tasks(
    world: World, rng: random.Random, count: int, subtask_share: float, jira_url: str
) -> None:
    project_ids = list(world.projects)
    users = list(world.users)
    fields = {f.type: f for f in world.fields.values()}
    tags = list(world.tags)
    made: list[str] = []
    for index in range(count):
        project = world.projects[project_ids[index % len(project_ids)]]
        hostile = index // len(project_ids) < len(HOSTILE_NAMES) and index % len(project_ids) == 0
        name = (
            HOSTILE_NAMES[index // len(project_ids)]
            if hostile
            else f"{rng.choice(VERBS)} {rng.choice(THINGS)} #{index}"
        )
        gid = _task(world, rng, project, name, users, fields, tags, jira_url)
        made.append(gid)
        task = world.tasks[gid]
        if hostile and "Long" in name:
            task.notes = "Very long notes. " * 12_000 + " Blocked by PAY-7."
        if rng.random() < 0.03 and len(project_ids) > 1:
            other = world.projects[rng.choice([p for p in project_ids if p != project.gid])]
            task.memberships.append((other.gid, other.sections[0]))
            other.tasks.append(gid)
        if rng.random() < 0.08 and len(made) > 1:
            for blocker in rng.sample(made[:-1], k=min(2, len(made) - 1)):
                if blocker not in task.dependencies:
                    task.dependencies.append(blocker)
                    world.tasks[blocker].dependents.append(gid)
        if rng.random() < subtask_share:
            for n in range(rng.randint(1, 3)):
                child = _subtask(world, rng, gid, f"Step {n + 1} of {name[:60]}", users)
                if rng.random() < 0.1:
                    _subtask(world, rng, child, "Check the step", users)


def _task(
    world: World,
    rng: random.Random,
    project: Project,
    name: str,
    users: list[str],
    fields: dict[str, CustomField],
    tags: list[str],
    jira_url: str,
) -> str:
    created = _at(rng, 300)
    modified = to_millis(created + (EPOCH - created) * rng.random())
    roll = rng.random()
    subtype = "milestone" if roll < 0.03 else "approval" if roll < 0.04 else "default_task"
    position = rng.random()
    section = project.sections[
        min(len(project.sections) - 1, int(position * len(project.sections)))
    ]
    completed = section == project.sections[-1] or rng.random() < 0.05
    gid = world.new_gid()
    task = world.tasks[gid] = _new_task(gid, name, created, modified)
    task.resource_subtype = subtype
    task.completed = completed
    task.completed_at = modified if completed else None
    task.approval_status = (
        ("approved" if completed else "pending") if subtype == "approval" else None
    )
    task.assignee = rng.choice(users) if rng.random() < 0.8 else None
    if rng.random() < 0.6:
        due = (created + timedelta(days=rng.randint(5, 120))).date()
        if rng.random() < 0.08:
            task.due_at = datetime.combine(due, datetime.min.time(), UTC) + timedelta(hours=17)
        else:
            task.due_on = due
            if subtype != "milestone" and rng.random() < 0.5:
                task.start_on = due - timedelta(days=rng.randint(1, 20))
    if subtype != "milestone" and rng.random() < 0.7:
        task.custom[fields["number"].gid] = rng.choice((1, 2, 3, 5, 8, 13))
    if rng.random() < 0.5:
        task.custom[fields["enum"].gid] = rng.choice(list(fields["enum"].options))
    task.tags = rng.sample(tags, k=rng.randint(1, 2)) if rng.random() < 0.3 else []
    _mention_jira(rng, task, fields["text"], jira_url)
    task.memberships.append((project.gid, section))
    project.tasks.append(gid)
    return gid


def _mention_jira(rng: random.Random, task: Task, link_field: CustomField, jira_url: str) -> None:
    roll = rng.random()
    if roll >= 0.05:
        return
    key = f"{rng.choice(JIRA_KEYS)}-{rng.randint(1, 60)}"
    if roll < 0.015:
        task.name = f"[{key}] {task.name}"
    elif roll < 0.03:
        task.notes = f"Blocked by {key} until the API ships."
    elif roll < 0.04:
        task.notes = f"This blocks {jira_url}/browse/{key}, see there."
    else:
        task.custom[link_field.gid] = f"{jira_url}/browse/{key}"


def _subtask(world: World, rng: random.Random, parent: str, name: str, users: list[str]) -> str:
    above = world.tasks[parent]
    created = min(EPOCH, above.created_at + timedelta(hours=rng.randint(1, 72)))
    gid = world.new_gid()
    task = world.tasks[gid] = _new_task(
        gid, name, created, to_millis(created + (EPOCH - created) * rng.random())
    )
    task.parent = parent
    task.completed = rng.random() < 0.4
    task.completed_at = task.modified_at if task.completed else None
    task.assignee = rng.choice(users) if rng.random() < 0.7 else None
    above.subtasks.append(gid)
    return gid


def _new_task(gid: str, name: str, created: datetime, modified: datetime) -> Task:
    return Task(gid, name, created_at=created, modified_at=modified, touched_at=modified)


def _status_updates(world: World, rng: random.Random) -> None:
    authors = list(world.users)
    for project in world.projects.values():
        for n in range(rng.randint(0, 3)):
            at = EPOCH - timedelta(days=14 * (3 - n))
            update = _update(
                world.new_gid(), project.gid, rng.choice(STATUS_TYPES), rng.choice(authors), at
            )
            world.status_updates[update.gid] = update
            project.status_updates.append(update.gid)


def _update(gid: str, project: str, status_type: str, author: str, at: datetime) -> StatusUpdate:
    words = status_type.replace("_", " ")
    return StatusUpdate(
        gid, project, status_type, f"Week update: {words}", f"We are {words}.", author, at
    )


REOPEN_SHARE = 0.12
"""Finished tasks that were re-opened once (moved back a section) before finishing again."""


def _histories(world: World, rng: random.Random) -> None:
    """Stories for every task, consistent with where it is now: a top-level task walked
    through its project's sections one by one, from its creation to its last change
    (when it reached the section it is in), and was marked complete when it finished;
    some finished ones were re-opened and finished again; a task completed outside the
    last section was just marked complete. Drawn from their own generator (and after
    every other record), so the rest of the world is what it was without them."""
    for task in list(world.tasks.values()):
        if not task.memberships:
            if task.completed and task.completed_at is not None:
                world.write_story(task, "marked_complete", "marked complete", task.completed_at)
            continue
        project_gid, section = task.memberships[0]
        sections = world.projects[project_gid].sections
        path = sections[: sections.index(section) + 1]
        span = (task.modified_at - task.created_at).total_seconds()
        steps = len(path) - 1
        reopened = task.completed and section == sections[-1] and steps >= 2
        reopened = reopened and rng.random() < REOPEN_SHARE
        moves = steps + (2 if reopened else 0)
        times = sorted(rng.uniform(0.05, 0.95) * span for _ in range(max(0, moves - 1)))
        stamps = [to_millis(task.created_at + timedelta(seconds=t)) for t in times]
        stamps.append(task.modified_at)
        for before, after, when in zip(path, path[1:], stamps, strict=False):
            _move(world, task, before, after, when)
        if reopened:
            last, back = path[-1], path[-2]
            _mark(world, task, True, stamps[steps - 1])
            _mark(world, task, False, stamps[steps])
            _move(world, task, last, back, stamps[steps])
            _move(world, task, back, last, stamps[steps + 1])
        if task.completed and task.completed_at is not None:
            _mark(world, task, True, task.completed_at)


def _move(world: World, task: Task, before: str, after: str, at: datetime) -> None:
    name = world.sections[after].name
    world.write_story(
        task, "section_changed", f"moved this Task to {name}", at,
        author=task.assignee, old_section=before, new_section=after,
    )  # fmt: skip


def _mark(world: World, task: Task, done: bool, at: datetime) -> None:
    subtype = "marked_complete" if done else "marked_incomplete"
    world.write_story(task, subtype, subtype.replace("_", " "), at, author=task.assignee)
