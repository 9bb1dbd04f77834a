"""Records as Asana returns them: compact by default, exactly the ``opt_fields`` asked for.

A record is first rendered in full (nested objects as dicts), then cut down to the field
tree of ``opt_fields`` (``a,b.c`` → ``{a: {}, b: {c: {}}}``); ``gid`` always stays. A field
the resource does not have is a 400, as a typo in a real integration would be.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from connectors.fake.asana.model import (
    CustomField,
    Project,
    Section,
    StatusUpdate,
    Story,
    Task,
    User,
)
from connectors.fake.asana.world import World

FieldTree = dict[str, "FieldTree"]

COMPACT: dict[str, tuple[str, ...]] = {
    "task": ("gid", "resource_type", "name", "resource_subtype"),
    "project": ("gid", "resource_type", "name"),
    "section": ("gid", "resource_type", "name"),
    "status_update": ("gid", "resource_type", "title", "resource_subtype"),
    "story": ("gid", "resource_type", "created_at", "created_by", "resource_subtype", "text"),
    "default": ("gid", "resource_type", "name"),
}


class UnknownField(ValueError):
    """``opt_fields`` named a field the resource does not have."""


def parse_fields(text: str | None) -> FieldTree | None:
    if not text:
        return None
    tree: FieldTree = {}
    for path in text.split(","):
        node = tree
        for part in path.strip().split("."):
            if part:
                node = node.setdefault(part, {})
    return tree


def select(record: dict[str, Any], tree: FieldTree | None) -> dict[str, Any]:
    """The record cut to ``tree``; the resource's compact form when no fields were asked."""
    if tree is None:
        keys = COMPACT.get(record.get("resource_type", ""), COMPACT["default"])
        return {k: record[k] for k in keys if k in record}
    out = {"gid": record["gid"]} if "gid" in record else {}
    for name, subtree in tree.items():
        if name not in record:
            if name not in record.get("_optional", ()):
                kind = record.get("resource_type", "object")
                raise UnknownField(f"opt_fields: Unknown field '{name}' on {kind}")
            continue
        out[name] = _cut(record[name], subtree)
    return out


def _cut(value: Any, subtree: FieldTree) -> Any:
    if isinstance(value, list):
        return [_cut(v, subtree) for v in value]
    if isinstance(value, dict):
        if not subtree:
            return {k: value[k] for k in ("gid", "resource_type") if k in value}
        return select(value, subtree)
    return value


def when(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.isoformat()


def user(world: World, gid: str | None) -> dict[str, Any] | None:
    if gid is None or gid not in world.users:
        return None
    found: User = world.users[gid]
    return {"gid": gid, "resource_type": "user", "name": found.name, "email": found.email}


def project(world: World, gid: str) -> dict[str, Any]:
    found: Project = world.projects[gid]
    return {
        "gid": gid,
        "resource_type": "project",
        "name": found.name,
        "archived": found.archived,
        "created_at": when(found.created_at),
        "modified_at": when(found.modified_at),
        "team": {"gid": found.team, "resource_type": "team", "name": world.teams[found.team].name},
        "permalink_url": f"{world.app_url}/1/{world.workspace}/project/{gid}",
        "workspace": workspace(world),
    }


def section(world: World, gid: str) -> dict[str, Any]:
    found: Section = world.sections[gid]
    return {
        "gid": gid,
        "resource_type": "section",
        "name": found.name,
        "created_at": when(found.created_at),
        "project": {"gid": found.project, "resource_type": "project"},
    }


def workspace(world: World) -> dict[str, Any]:
    return {"gid": world.workspace, "resource_type": "workspace", "name": world.workspace_name}


def task_compact(world: World, gid: str) -> dict[str, Any]:
    found = world.tasks[gid]
    return {
        "gid": gid,
        "resource_type": "task",
        "name": found.name,
        "resource_subtype": found.resource_subtype,
    }


def custom_value(definition: CustomField, value: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "gid": definition.gid,
        "resource_type": "custom_field",
        "name": definition.name,
        "type": definition.type,
        "resource_subtype": definition.type,
        "_optional": ("number_value", "text_value", "enum_value"),
    }
    if definition.type == "number":
        record["number_value"] = value
        record["display_value"] = None if value is None else str(value)
    elif definition.type == "text":
        record["text_value"] = value
        record["display_value"] = value
    else:
        option = definition.options.get(value) if value else None
        record["enum_value"] = (
            {"gid": value, "resource_type": "enum_option", "name": option, "enabled": True}
            if option
            else None
        )
        record["display_value"] = option
    return record


def full(record: dict[str, Any]) -> dict[str, Any]:
    """A record as a single-resource GET without ``opt_fields`` returns it: everything."""
    return {
        k: [full(v) if isinstance(v, dict) else v for v in value]
        if isinstance(value, list)
        else full(value)
        if isinstance(value, dict)
        else value
        for k, value in record.items()
        if k != "_optional"
    }


def task(world: World, found: Task) -> dict[str, Any]:
    """A task in full, custom fields of its projects included (empty ones as null).

    ``approval_status`` exists only on approval tasks (the document's enum has no null).
    """
    definitions = world.fields.values()
    approval = (
        {"approval_status": found.approval_status}
        if found.approval_status is not None
        else {"_optional": ("approval_status",)}
    )
    return {
        **approval,
        "gid": found.gid,
        "resource_type": "task",
        "name": found.name,
        "resource_subtype": found.resource_subtype,
        "completed": found.completed,
        "completed_at": when(found.completed_at),
        "created_at": when(found.created_at),
        "modified_at": when(found.modified_at),
        "due_on": when(found.due_on),
        "due_at": when(found.due_at),
        "start_on": when(found.start_on),
        "start_at": None,
        "notes": found.notes,
        "assignee": user(world, found.assignee),
        "memberships": [
            {"project": project(world, p), "section": section(world, s)}
            for p, s in found.memberships
        ],
        "projects": [project(world, p) for p in found.projects],
        "parent": task_compact(world, found.parent) if found.parent else None,
        "num_subtasks": len(found.subtasks),
        "dependencies": [task_compact(world, g) for g in found.dependencies],
        "dependents": [task_compact(world, g) for g in found.dependents],
        "custom_fields": [custom_value(d, found.custom.get(d.gid)) for d in definitions],
        "tags": [
            {"gid": t, "resource_type": "tag", "name": world.tags[t].name} for t in found.tags
        ],
        "permalink_url": f"{world.app_url}/1/{world.workspace}/task/{found.gid}",
        "workspace": workspace(world),
    }


def status_update(world: World, found: StatusUpdate) -> dict[str, Any]:
    parent = world.projects.get(found.parent)
    return {
        "gid": found.gid,
        "resource_type": "status_update",
        "resource_subtype": "project_status_update",
        "title": found.title,
        "text": found.text,
        "status_type": found.status_type,
        "created_at": when(found.created_at),
        "author": user(world, found.author),
        "parent": {
            "gid": found.parent,
            "resource_type": "project",
            "name": parent.name if parent else None,
        },
    }


STORY_CONDITIONAL = ("old_section", "new_section", "project")
"""Fields only some stories carry (*Conditional* in the document): asked of a story
without them, they are left out, not refused."""


def story(world: World, found: Story) -> dict[str, Any]:
    """A story in full (``StoryResponse``'s fields the fake knows), rendered once."""
    if found.rendered is not None:
        return found.rendered
    record: dict[str, Any] = {
        "gid": found.gid,
        "resource_type": "story",
        "created_at": when(found.created_at),
        "created_by": user(world, found.created_by),
        "resource_subtype": found.resource_subtype,
        "text": found.text,
        "type": "comment" if found.resource_subtype == "comment_added" else "system",
        "is_edited": False,
        "is_pinned": False,
        "target": task_compact(world, found.task) if found.task in world.tasks else None,
        "_optional": STORY_CONDITIONAL,
    }
    for name in ("old_section", "new_section"):
        gid = getattr(found, name)
        if gid is not None and gid in world.sections:
            record[name] = {
                "gid": gid,
                "resource_type": "section",
                "name": world.sections[gid].name,
            }
    if found.project is not None and found.project in world.projects:
        record["project"] = {
            "gid": found.project,
            "resource_type": "project",
            "name": world.projects[found.project].name,
        }
    found.rendered = record
    return record
