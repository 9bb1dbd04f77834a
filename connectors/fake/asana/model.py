"""The fake Asana's records: plain mutable objects, as an in-memory Asana keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


class Changes:
    """How many times a record of any fake Asana world was changed: pre-rendered task
    JSON (``connectors.fake.asana.rendered``) is kept only while this stays the same."""

    count = 0


class _Record:
    """A record whose every assignment counts as a change (tests and the demo change
    records directly, as well as through ``World``'s methods)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        Changes.count += 1


@dataclass(slots=True)
class User(_Record):
    gid: str
    name: str
    email: str


@dataclass(slots=True)
class Team(_Record):
    gid: str
    name: str


@dataclass(slots=True)
class Section(_Record):
    gid: str
    name: str
    project: str
    created_at: datetime


@dataclass(slots=True)
class CustomField(_Record):
    gid: str
    name: str
    type: str
    """number | text | enum"""
    options: dict[str, str] = field(default_factory=dict)
    """Enum option gid → name."""


@dataclass(slots=True)
class Tag(_Record):
    gid: str
    name: str


@dataclass(slots=True)
class Project(_Record):
    gid: str
    name: str
    team: str
    created_at: datetime
    modified_at: datetime
    sections: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    """Top-level tasks in the project's order (Asana lists a project "by priority")."""
    archived: bool = False
    status_updates: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Portfolio(_Record):
    gid: str
    name: str
    owner: str
    items: list[str] = field(default_factory=list)
    """Project and portfolio gids."""


@dataclass(slots=True)
class StatusUpdate:
    gid: str
    parent: str
    status_type: str
    title: str
    text: str
    author: str
    created_at: datetime


@dataclass(slots=True)
class Task(_Record):
    gid: str
    name: str
    created_at: datetime
    modified_at: datetime
    notes: str = ""
    resource_subtype: str = "default_task"
    completed: bool = False
    completed_at: datetime | None = None
    approval_status: str | None = None
    due_on: date | None = None
    due_at: datetime | None = None
    start_on: date | None = None
    assignee: str | None = None
    memberships: list[tuple[str, str]] = field(default_factory=list)
    """(project gid, section gid) in the order the task joined its projects."""
    parent: str | None = None
    subtasks: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    dependents: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    """Custom field gid → number, text, or enum option gid."""
    tags: list[str] = field(default_factory=list)
    touched_at: datetime | None = None
    """Last change of properties *or associations* (what ``modified_since`` compares)."""
    stories: list[str] = field(default_factory=list)
    """The task's stories, oldest first (``GET /tasks/{gid}/stories`` order)."""

    @property
    def projects(self) -> list[str]:
        return [project for project, _ in self.memberships]


@dataclass(slots=True)
class Story:
    """What happened to a task: a comment, or a change Asana wrote down itself.

    ``resource_subtype`` is Asana's word: ``comment_added``, ``section_changed`` (with
    ``old_section``/``new_section``), ``marked_complete``, ``marked_incomplete``,
    ``added_to_project``/``removed_from_project`` (with ``project``).
    """

    gid: str
    task: str
    resource_subtype: str
    created_at: datetime
    created_by: str | None
    text: str
    old_section: str | None = None
    new_section: str | None = None
    project: str | None = None
    rendered: dict[str, Any] | None = None
    """The full record, rendered once: a story never changes."""


@dataclass(slots=True)
class Event:
    seq: int
    action: str
    resource: str
    resource_type: str
    created_at: datetime
    user: str | None
    parent: str | None = None
    parent_type: str | None = None
    field: str | None = None
    projects: frozenset[str] = frozenset()
    """Projects whose event streams carry it (events bubble up from subtasks)."""
