"""Asana tasks and status updates as tracker-neutral records. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from connectors.asana.schemas import CustomFieldValue, StatusUpdate, Task
from connectors.base import LinkRef, ProjectStatus, TrackerItem
from connectors.crosslinks import find_references
from vocabulary import ItemKind, StatusCategory

DEFAULT_SECTIONS: Mapping[StatusCategory, tuple[str, ...]] = {
    StatusCategory.IN_PROGRESS: (
        "in progress",
        "doing",
        "in review",
        "review",
        "wip",
        "started",
        "active",
        "ongoing",
        "in development",
        "testing",
        "in qa",
    ),
    StatusCategory.DONE: ("done", "complete", "completed", "shipped", "closed", "finished"),
}
"""Section names read as a status category when the configuration does not say."""

DEFAULT_ESTIMATE_FIELDS = ("story points", "points", "estimate", "estimated hours", "effort")
"""Number fields taken as the estimate when no ``estimate_field`` is configured."""

STATUS_COLORS: Mapping[str, str] = {
    "on_track": "green",
    "at_risk": "amber",
    "off_track": "red",
    "on_hold": "grey",
    "complete": "green",
    "dropped": "grey",
}

MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_VALUE_CHARS = 512
MAX_TAGS = 64


def normalise(name: str) -> str:
    return " ".join(name.casefold().split())


def section_categories(
    configured: Mapping[str, Sequence[str]],
) -> dict[str, StatusCategory]:
    """Normalised section name → category: the defaults, overridden by the configuration."""
    table = {normalise(n): category for category, names in DEFAULT_SECTIONS.items() for n in names}
    for category, names in configured.items():
        table.update({normalise(n): StatusCategory(category) for n in names})
    return table


@dataclass(frozen=True, slots=True)
class MappingRules:
    """Everything mapping needs from the configuration."""

    source: str
    scopes: frozenset[str] = frozenset()
    sections: Mapping[str, StatusCategory] = field(default_factory=lambda: section_categories({}))
    estimate_field: str | None = None
    reference_field: str | None = None


@dataclass(frozen=True, slots=True)
class Home:
    """The project a task is counted under, and every project it belongs to."""

    project: str | None
    projects: tuple[str, ...]


def home_of(task: Task, rules: MappingRules, inherited: Home | None = None) -> Home:
    """A task's home: its first configured project; a subtask without projects inherits."""
    projects = tuple(p.gid for p in task.projects)
    if not projects:
        projects = tuple(m.project.gid for m in task.memberships if m.project is not None)
    if not projects and inherited is not None:
        return inherited
    configured = [p for p in projects if p in rules.scopes]
    return Home(configured[0] if configured else (projects[0] if projects else None), projects)


def to_item(task: Task, rules: MappingRules, home: Home) -> TrackerItem:
    """The tracker-neutral record of one task, counted under ``home``."""
    section = next(
        (
            m.section.name
            for m in task.memberships
            if m.project is not None and m.project.gid == home.project and m.section is not None
        ),
        None,
    )
    reference_text = _field_text(task.custom_fields, rules.reference_field)
    return TrackerItem(
        source=rules.source,
        external_id=task.gid,
        key=task.gid,
        kind=_kind(task),
        issue_type=task.resource_subtype,
        title=task.name,
        status=_status_name(task, section),
        status_category=_category(task, section, rules),
        updated_at=task.modified_at,
        url=task.permalink_url,
        project=home.project,
        projects=home.projects,
        section=section,
        parent_key=task.parent.gid if task.parent else None,
        assignee=task.assignee.name if task.assignee else None,
        assignee_email=task.assignee.email if task.assignee else None,
        estimate=_estimate(task.custom_fields, rules.estimate_field),
        created_at=task.created_at,
        resolved_at=task.completed_at if task.completed else None,
        start_on=task.start_on or _day(task.start_at),
        due_on=task.due_on or _day(task.due_at),
        labels=tuple(t.name for t in task.tags[:MAX_TAGS] if t.name),
        custom_fields=_custom_fields(task.custom_fields),
        links=_links(task, rules.source),
        references=find_references(task.name, task.notes, reference_text),
    )


MAX_PROJECT_NAME = 256


def project_names(task: Task) -> dict[str, str]:
    """The names of the projects a task lists (its ``projects`` and memberships), by gid."""
    named = [*task.projects, *(m.project for m in task.memberships if m.project is not None)]
    return {p.gid: p.name[:MAX_PROJECT_NAME] for p in named if p.name}


def to_status(
    update: StatusUpdate, project: str, project_name: str | None, source: str
) -> ProjectStatus:
    """The record of a project's status update, read as RAG."""
    status_type = update.status_type or "unknown"
    return ProjectStatus(
        source=source,
        project=project,
        external_id=update.gid,
        status_type=status_type,
        color=STATUS_COLORS.get(status_type, "grey"),
        posted_at=update.created_at,
        project_name=project_name,
        title=update.title,
        text=update.text,
        author=update.author.name if update.author else None,
    )


def _kind(task: Task) -> ItemKind:
    if task.resource_subtype == "milestone":
        return ItemKind.MILESTONE
    return ItemKind.SUBTASK if task.parent is not None else ItemKind.TASK


def _status_name(task: Task, section: str | None) -> str:
    if task.resource_subtype == "approval" and task.approval_status:
        return task.approval_status.replace("_", " ").capitalize()
    if section:
        return section
    return "Completed" if task.completed else "Open"


def _category(task: Task, section: str | None, rules: MappingRules) -> StatusCategory:
    if task.completed:
        return StatusCategory.DONE
    if section is None:
        return StatusCategory.TODO
    return rules.sections.get(normalise(section), StatusCategory.TODO)


def _find_field(fields: Iterable[CustomFieldValue], wanted: str | None) -> CustomFieldValue | None:
    names = (normalise(wanted),) if wanted else DEFAULT_ESTIMATE_FIELDS
    for custom in fields:
        if wanted and custom.gid == wanted:
            return custom
    for name in names:
        for custom in fields:
            if custom.name and normalise(custom.name) == name:
                return custom
    return None


def _estimate(fields: Sequence[CustomFieldValue], wanted: str | None) -> float | None:
    custom = _find_field([f for f in fields if f.number_value is not None], wanted)
    return custom.number_value if custom is not None else None


def _field_text(fields: Sequence[CustomFieldValue], wanted: str | None) -> str | None:
    if not wanted:
        return None
    custom = _find_field(fields, wanted)
    if custom is None:
        return None
    return custom.text_value or custom.display_value


def _custom_fields(fields: Sequence[CustomFieldValue]) -> tuple[tuple[str, str], ...]:
    kept: dict[str, str] = {}
    for custom in fields:
        if custom.name and custom.display_value is not None and len(kept) < MAX_CUSTOM_FIELDS:
            kept[custom.name[:128]] = custom.display_value[:MAX_CUSTOM_VALUE_CHARS]
    return tuple(kept.items())


def _links(task: Task, source: str) -> tuple[LinkRef, ...]:
    before = [
        LinkRef(source, d.gid, source, task.gid, link_type="dependency") for d in task.dependencies
    ]
    after = [
        LinkRef(source, task.gid, source, d.gid, link_type="dependency") for d in task.dependents
    ]
    return tuple(dict.fromkeys(before + after))


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(UTC).date() if moment is not None else None
