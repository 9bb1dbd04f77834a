"""Private models of Asana's raw payloads: parsed at the boundary, unknown fields ignored.

Only what the connector asks for through ``opt_fields`` is modelled; every field is
optional because Asana returns just ``gid`` plus the requested fields. Gids are strings of
digits (never integers: Asana's ids outgrew them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Gid = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,64}$")]


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Named(_Raw):
    gid: Gid
    name: str | None = None
    resource_type: str | None = None


class User(Named):
    email: str | None = None


class Membership(_Raw):
    project: Named | None = None
    section: Named | None = None


class EnumOption(_Raw):
    name: str | None = None


class CustomFieldValue(_Raw):
    gid: Gid
    name: str | None = None
    type: str | None = None
    resource_subtype: str | None = None
    number_value: float | None = None
    text_value: str | None = None
    display_value: str | None = None
    enum_value: EnumOption | None = None


class Parent(Named):
    resource_subtype: str | None = None


class Task(_Raw):
    """A task as the listing and ``GET /tasks/{gid}`` return it with ``TASK_FIELDS``."""

    gid: Gid
    name: str = ""
    resource_subtype: str | None = None
    completed: bool = False
    completed_at: datetime | None = None
    approval_status: str | None = None
    created_at: datetime | None = None
    modified_at: datetime
    due_on: date | None = None
    due_at: datetime | None = None
    start_on: date | None = None
    start_at: datetime | None = None
    assignee: User | None = None
    memberships: list[Membership] = Field(default_factory=list)
    projects: list[Named] = Field(default_factory=list)
    parent: Parent | None = None
    num_subtasks: int = 0
    dependencies: list[Named] = Field(default_factory=list)
    dependents: list[Named] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    tags: list[Named] = Field(default_factory=list)
    notes: str | None = None
    permalink_url: str | None = None


class Project(Named):
    archived: bool | None = None
    permalink_url: str | None = None


class PortfolioItem(Named):
    """An item of a portfolio: a project, or a nested portfolio (``resource_type``)."""


class Section(Named):
    pass


class StatusUpdate(_Raw):
    gid: Gid
    status_type: str | None = None
    title: str | None = None
    text: str | None = None
    created_at: datetime
    author: User | None = None
    parent: Named | None = None


class EventResource(_Raw):
    gid: Gid
    resource_type: str | None = None


class Event(_Raw):
    """One change from the Events API; it names resources, it does not carry their data."""

    action: str
    resource: EventResource
    parent: EventResource | None = None
    created_at: datetime | None = None


class EventsPage(_Raw):
    data: list[Event] = Field(default_factory=list)
    sync: str
    has_more: bool = False


class Story(_Raw):
    """One story of a task (``GET /tasks/{gid}/stories`` with ``STORY_FIELDS``).

    Only ``section_changed`` stories carry ``old_section``/``new_section`` and only
    project stories (``added_to_project``) carry ``project``; the document marks them
    *Conditional*. Section records are compact: they do not name their project.
    """

    gid: Gid
    created_at: datetime
    resource_subtype: str | None = None
    created_by: Named | None = None
    old_section: Named | None = None
    new_section: Named | None = None
    project: Named | None = None
