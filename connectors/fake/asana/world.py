"""The fake Asana's state and the changes a person makes in Asana, each leaving events.

Every mutation takes the world's lock: tests and the demo change the world from their own
thread while the server reads it from the event loop's thread. Timestamps come from
``clock``, so a test can move time forward and see tokens and offsets expire.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.fake.asana.model import (
    Changes,
    CustomField,
    Event,
    Portfolio,
    Project,
    Section,
    StatusUpdate,
    Story,
    Tag,
    Task,
    Team,
    User,
)


def to_millis(moment: datetime) -> datetime:
    """Asana keeps times to the millisecond; so does the fake, or equality tests would lie."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class FakeClock:
    """Wall-clock time (to the millisecond) plus an offset a test can advance."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return to_millis(datetime.fromtimestamp(datetime.now(UTC).timestamp() + self.offset, UTC))

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class World:
    """Everything the fake serves; gids are handed out from one counter, as strings."""

    workspace: str
    workspace_name: str
    clock: FakeClock = field(default_factory=FakeClock)
    users: dict[str, User] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    fields: dict[str, CustomField] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)
    portfolios: dict[str, Portfolio] = field(default_factory=dict)
    status_updates: dict[str, StatusUpdate] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    next_gid: int = 1_200_000_000_000_000
    actor: str | None = None
    app_url: str = "https://app.asana.com"
    """Where the web app's pages are: records' ``permalink_url`` point there (the demo
    points them at the fake itself, which serves those pages)."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    listeners: list[Callable[[Event], None]] = field(default_factory=list)
    keep_event: Callable[[], bool] = lambda: True
    """Asked before each event is recorded: False loses it (the fake's at-most-once)."""
    stories: dict[str, Story] = field(default_factory=dict)
    """Every story by gid: comments people leave, and the changes Asana writes down."""

    def new_gid(self) -> str:
        self.next_gid += 1
        return str(self.next_gid)

    # Reading -----------------------------------------------------------------------

    def top_projects(self, task: Task) -> list[str]:
        """The projects whose streams see this task: its own, or its top ancestor's."""
        current = task
        while not current.memberships and current.parent is not None:
            current = self.tasks[current.parent]
        return current.projects

    def section_tasks(self, section: str) -> list[str]:
        project = self.projects[self.sections[section].project]
        return [
            gid for gid in project.tasks if (project.gid, section) in self.tasks[gid].memberships
        ]

    # Changing ----------------------------------------------------------------------

    def add_task(
        self,
        name: str,
        *,
        project: str | None = None,
        section: str | None = None,
        parent: str | None = None,
        **values: Any,
    ) -> str:
        """Create a task in a project (first section unless named) or under a parent."""
        with self.lock:
            now = self.clock.now()
            task = Task(self.new_gid(), name, created_at=now, modified_at=now, touched_at=now)
            for key, value in values.items():
                setattr(task, key, value)
            self.tasks[task.gid] = task
            if parent is not None:
                task.parent = parent
                self.tasks[parent].subtasks.append(task.gid)
                self._record("added", task, parent=parent, parent_type="task")
            if project is not None:
                self._join(task, project, section)
            return task.gid

    def edit_task(self, gid: str, **changes: Any) -> None:
        """Change task properties (``section=`` moves it within its home project)."""
        with self.lock:
            task = self.tasks[gid]
            now = self.clock.now()
            for key, value in changes.items():
                if key == "section":
                    project = self.sections[value].project
                    old = next((s for p, s in task.memberships if p == project), None)
                    task.memberships = [
                        (p, value if p == project else s) for p, s in task.memberships
                    ]
                    if old != value:
                        name = self.sections[value].name
                        self.write_story(
                            task, "section_changed", f"moved this Task to {name}", now,
                            old_section=old, new_section=value,
                        )  # fmt: skip
                elif key == "completed":
                    if bool(value) != task.completed:
                        done = "marked_complete" if value else "marked_incomplete"
                        self.write_story(task, done, done.replace("_", " "), now)
                    task.completed = bool(value)
                    task.completed_at = now if value else None
                elif key == "points":
                    points = next(f for f in self.fields.values() if f.type == "number")
                    task.custom[points.gid] = value
                else:
                    setattr(task, key, value)
                self._record("changed", task, field=key)
            task.modified_at = task.touched_at = now

    def delete_task(self, gid: str, *, quiet: bool = False) -> None:
        """Trash a task and its subtasks: they vanish from every listing.

        ``quiet`` leaves no event, as when Asana's at-most-once event stream drops one.
        """
        with self.lock:
            task = self.tasks[gid]
            for child in list(task.subtasks):
                self.delete_task(child, quiet=quiet)
            if not quiet:
                self._record("deleted", task)
            for project in task.projects:
                self.projects[project].tasks.remove(gid)
            if task.parent is not None:
                self.tasks[task.parent].subtasks.remove(gid)
            for other in task.dependencies:
                self.tasks[other].dependents.remove(gid)
            for other in task.dependents:
                self.tasks[other].dependencies.remove(gid)
            del self.tasks[gid]
            Changes.count += 1  # no record was assigned to, yet others' renderings change

    def move_task(self, gid: str, to_project: str, *, from_project: str | None = None) -> None:
        """Take a task out of a project (or all of them) and into another.

        As in Asana, this changes associations, not properties: ``modified_at`` stays, and
        only ``modified_since`` (and the events) see it.
        """
        with self.lock:
            task = self.tasks[gid]
            for project in [from_project] if from_project else task.projects:
                self.projects[project].tasks.remove(gid)
                task.memberships = [(p, s) for p, s in task.memberships if p != project]
                self.write_story(
                    task, "removed_from_project", "removed this task", self.clock.now(),
                    project=project,
                )  # fmt: skip
                self._record("removed", task, parent=project, parent_type="project")
            self._join(task, to_project, None)

    def add_story(self, gid: str, text: str) -> str:
        """Comment on a task: a story is added, and the task's ``modified_at`` moves."""
        with self.lock:
            task = self.tasks[gid]
            now = self.clock.now()
            story = self.write_story(task, "comment_added", text, now, author=self.actor)
            task.modified_at = task.touched_at = now
            self._record("added", task, story=story)
            return story

    def write_story(
        self,
        task: Task,
        subtype: str,
        text: str,
        at: datetime,
        *,
        author: str | None = None,
        old_section: str | None = None,
        new_section: str | None = None,
        project: str | None = None,
    ) -> str:
        """Write a story down on a task (as Asana does for each change it records)."""
        with self.lock:
            gid = self.new_gid()
            self.stories[gid] = Story(
                gid, task.gid, subtype, at, author or self.actor, text,
                old_section=old_section, new_section=new_section, project=project,
            )  # fmt: skip
            task.stories.append(gid)
            return gid

    def add_dependency(self, gid: str, depends_on: str) -> None:
        with self.lock:
            task, blocker = self.tasks[gid], self.tasks[depends_on]
            if depends_on not in task.dependencies:
                task.dependencies.append(depends_on)
                blocker.dependents.append(gid)
                task.modified_at = task.touched_at = self.clock.now()
                self._record("changed", task, field="dependencies")

    def add_status_update(
        self, project: str, status_type: str, text: str, *, title: str = "", author: str
    ) -> str:
        with self.lock:
            update = StatusUpdate(
                self.new_gid(), project, status_type, title, text, author, self.clock.now()
            )
            self.status_updates[update.gid] = update
            self.projects[project].status_updates.append(update.gid)
            return update.gid

    def _join(self, task: Task, project: str, section: str | None) -> None:
        chosen = section or self.projects[project].sections[0]
        task.memberships.append((project, chosen))
        self.projects[project].tasks.append(task.gid)
        task.touched_at = self.clock.now()
        name = self.projects[project].name
        self.write_story(
            task, "added_to_project", f"added to {name}", task.touched_at, project=project
        )
        self._record("added", task, parent=project, parent_type="project")

    def _record(
        self,
        action: str,
        task: Task,
        *,
        parent: str | None = None,
        parent_type: str | None = None,
        field: str | None = None,
        story: str | None = None,
    ) -> None:
        """Record an event on a task (or, with ``story``, a story added to the task)."""
        if not self.keep_event():
            return
        projects = set(self.top_projects(task))
        if parent_type == "project" and parent is not None:
            projects.add(parent)
        if story is not None:
            parent, parent_type = task.gid, "task"
        event = Event(
            seq=len(self.events) + 1,
            action=action,
            resource=story or task.gid,
            resource_type="story" if story else "task",
            created_at=self.clock.now(),
            user=self.actor,
            parent=parent,
            parent_type=parent_type,
            field=field,
            projects=frozenset(projects),
        )
        self.events.append(event)
        for listener in self.listeners:
            listener(event)

    def events_after(self, resource: str, seq: int, limit: int) -> tuple[list[Event], bool]:
        """Events for a project (or a task) after ``seq``; and whether more follow."""
        found: list[Event] = []
        for event in self.events[seq:]:
            if resource in event.projects or resource in (event.resource, event.parent):
                if len(found) == limit:
                    return found, True
                found.append(event)
        return found, False


def ordered(gids: Iterable[str], table: dict[str, Any]) -> list[Any]:
    """The records of ``gids`` that still exist, in the given order."""
    return [table[g] for g in gids if g in table]
