"""Where real sites — and so the fakes — may differ from their official documents.

This is the one list of allowed differences, each with its reason. A difference not listed
here fails the test that produced it: a fake field or a connector parameter that leaves
the document is caught, whether the document or our reading of it is at fault.

Two kinds: ``PATCHES`` change the vendored document before validation (a field a real
site sends as null though the document says otherwise, a format the site does not
follow); ``UNDOCUMENTED`` names answers the document does not describe at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Patch = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Deviation:
    tracker: str
    where: str
    """A JSON pointer into the document (patches) or ``METHOD path-regex [status]``."""
    reason: str
    patch: Patch | None = None


JIRA_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})$"


def _jira_timestamps(document: dict[str, Any]) -> None:
    """Every ``format: date-time`` of the document becomes Jira's own timestamp form."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("format") == "date-time":
                del node["format"]
                node["pattern"] = JIRA_TIMESTAMP
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (``nullable`` alone does not reach into an ``allOf``/``$ref``)."""
    return {"anyOf": [schema, {"nullable": True, "enum": [None]}]}


def _nullable(*names: str) -> Patch:
    def patch(node: dict[str, Any]) -> None:
        for name in names:
            node["properties"][name] = _or_null(node["properties"][name])

    return patch


def _in_all_of(*names: str) -> Patch:
    """Nullable properties of a schema written as ``allOf: [base, {properties}]``."""

    def patch(node: dict[str, Any]) -> None:
        for part in node["allOf"]:
            for name in names:
                if name in part.get("properties", {}):
                    part["properties"][name] = _or_null(part["properties"][name])

    return patch


def _add_opt_fields(*fields: str) -> Patch:
    def patch(node: dict[str, Any]) -> None:
        for parameter in node.get("parameters", []):
            if parameter.get("name") == "opt_fields":
                parameter["schema"]["items"]["enum"].extend(fields)

    return patch


_TASK_LISTINGS = ("/tasks", "/tasks/{task_gid}", "/tasks/{task_gid}/subtasks")

PATCHES: tuple[Deviation, ...] = (
    Deviation(
        "jira",
        "",
        "Jira writes timestamps with a colon-less offset (2026-10-01T09:00:00.000+1200), "
        "which is not RFC 3339's date-time: every date-time of the document takes that form.",
        _jira_timestamps,
    ),
    Deviation(
        "jira",
        "/components/schemas/ChangeDetails",
        "A change item's from, fromString, to and toString are null when the field was "
        "empty before or after (a first assignee, a cleared field): real changelogs say null.",
        _nullable("from", "fromString", "to", "toString"),
    ),
    Deviation(
        "asana",
        "/components/schemas/TaskResponse",
        "A task without a parent or an assignee has parent: null and assignee: null on real "
        "sites, though the document does not say nullable.",
        _in_all_of("parent", "assignee"),
    ),
    Deviation(
        "asana",
        "/components/schemas/EventResponse",
        "An event with no parent (a change, not an add or a remove) carries parent: null.",
        _nullable("parent"),
    ),
    *(
        Deviation(
            "asana",
            f"/paths/{path.replace('/', '~1')}/get",
            "opt_fields may name any field of a nested record in dot notation (the "
            "input/output options page); the operation's enum lists only the common ones. "
            "assignee.email matches people across trackers.",
            _add_opt_fields("assignee.email"),
        )
        for path in _TASK_LISTINGS
    ),
)

UNDOCUMENTED: tuple[Deviation, ...] = (
    Deviation(
        "jira",
        "* .* 429",
        "Rate limits answer 429 with Retry-After on any operation (the rate-limiting page); "
        "operations do not list it.",
    ),
    Deviation("asana", "* .* 429", "As for Jira: the rate-limits page, not each operation."),
    *(
        Deviation(tracker, f"* .* {status}", "Outages: any operation may answer 5xx.")
        for tracker in ("jira", "asana")
        for status in (500, 502, 503, 504)
    ),
    Deviation(
        "jira",
        "* /rest/api/[23]/search 410",
        "The old search was removed from Jira Cloud (CHANGE-2046): 410 Gone, after the "
        "document that still lists it was written.",
    ),
    Deviation(
        "jira",
        "* /rest/api/3/.* 404",
        "Data Center has no version 3 API; the Cloud document does not describe it.",
    ),
)


def apply(tracker: str, document: dict[str, Any]) -> dict[str, Any]:
    for deviation in PATCHES:
        if deviation.tracker != tracker or deviation.patch is None:
            continue
        node: Any = document
        for part in filter(None, deviation.where.strip("/").split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        deviation.patch(node)
    return document


def undocumented(tracker: str, method: str, path: str, status: int | None = None) -> bool:
    """Whether this request (or this answer) is one the document does not describe."""
    for deviation in UNDOCUMENTED:
        if deviation.tracker != tracker:
            continue
        verb, pattern, *code = deviation.where.split()
        if verb not in ("*", method.upper()) or not re.fullmatch(pattern, path):
            continue
        if not code or (status is not None and str(status) == code[0]):
            return True
    return False
