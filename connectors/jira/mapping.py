"""From Jira's issue JSON to tracker-neutral records.

What differs per site (custom field ids, the status catalogue, the browse URL) is found
once by the connector and passed in as a ``Site``; everything here is a pure function of
the payload, so a webhook's issue and a pulled issue map identically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from pydantic import ValidationError

from connectors.base import ConnectorDataError, LinkRef, TrackerItem, Transition
from connectors.crosslinks import MAX_SCANNED_CHARS, find_references
from connectors.jira.schemas import (
    ISSUE_ADAPTER,
    History,
    IssueFields,
    IssueLinkRaw,
    IssueRaw,
    IssueTypeRaw,
    UserRaw,
    complete,
)
from vocabulary import ItemKind, StatusCategory

CATEGORIES = {
    "new": StatusCategory.TODO,
    "indeterminate": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}
"""Jira's three status category keys; status names are per site and never mapped."""

_KINDS = {"bug": ItemKind.BUG, "story": ItemKind.STORY, "milestone": ItemKind.MILESTONE}
# A configured dependency type whose outward wording says "this waits for that" points the
# other way: ``A depends on B`` means B blocks A.
_INVERTED_WORDING = re.compile(
    r"\b(depends on|is blocked by|blocked by|requires|needs|waits for|is caused by)\b", re.I
)
_ADF_NODE_BUDGET = 20_000
"""Rich-text nodes walked per description: descriptions can be megabytes of ADF."""


@dataclass(frozen=True, slots=True)
class Site:
    """What one Jira site names differently: custom field ids, statuses, browse URL."""

    source: str
    browse_url: str
    estimate_fields: tuple[str, ...] = ()
    start_date_fields: tuple[str, ...] = ()
    epic_link_field: str | None = None
    status_categories: Mapping[str, StatusCategory] | None = None
    dependency_link_types: frozenset[str] = frozenset({"blocks"})

    @property
    def custom_field_ids(self) -> tuple[str, ...]:
        ids = (*self.estimate_fields, *self.start_date_fields)
        return ids + ((self.epic_link_field,) if self.epic_link_field else ())


def parse_issue(raw: Any, source: str) -> IssueRaw:
    """Validate one issue's JSON; ``ConnectorDataError`` names the issue and the reason."""
    key = str(raw.get("key") or raw.get("id") or "?")[:64] if isinstance(raw, dict) else "?"
    try:
        return ISSUE_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "issue"
        raise ConnectorDataError(source, key, f"{where}: {first['msg']}") from None


def to_item(issue: IssueRaw, site: Site, histories: Sequence[History] | None = None) -> TrackerItem:
    """Map one issue; ``histories`` (status changes) become transitions when given.

    Raises ``ConnectorDataError`` naming the issue and the reason when the payload is
    unusable, so the caller can warn and go on.
    """
    fields, key = issue["fields"], issue["key"]
    changelog = issue.get("changelog")
    if histories is None and changelog is not None and complete(changelog):
        histories = changelog["histories"]
    status, issue_type, assignee = fields["status"], fields["issuetype"], fields.get("assignee")
    created, resolved = fields.get("created"), fields.get("resolutiondate")
    return TrackerItem(
        source=site.source,
        external_id=issue["id"],
        key=key,
        kind=_kind(issue_type),
        title=fields["summary"],
        status=status["name"],
        status_category=_category(status["statusCategory"]["key"], key, site),
        updated_at=fields["updated"].astimezone(UTC),
        url=f"{site.browse_url}/browse/{key}",
        issue_type=issue_type["name"],
        hierarchy_level=issue_type.get("hierarchyLevel"),
        project=fields["project"]["key"],
        parent_key=_parent(fields, site),
        assignee=_assignee(assignee),
        assignee_email=assignee.get("emailAddress") if assignee else None,
        estimate=_first_number(fields, site.estimate_fields),
        created_at=created.astimezone(UTC) if created else None,
        resolved_at=resolved.astimezone(UTC) if resolved else None,
        start_on=_first_date(fields, site.start_date_fields),
        due_on=fields.get("duedate"),
        labels=tuple(fields.get("labels") or ()),
        components=tuple(c["name"] for c in fields.get("components") or ()),
        fix_versions=tuple(v["name"] for v in fields.get("fixVersions") or ()),
        links=tuple(_links(key, fields.get("issuelinks") or (), site)),
        references=find_references(fields["summary"], description_text(fields.get("description"))),
        transitions=None if histories is None else tuple(transitions(histories, site)),
    )


def _category(key: str, issue_key: str, site: Site) -> StatusCategory:
    try:
        return CATEGORIES[key]
    except KeyError:
        raise ConnectorDataError(
            site.source, issue_key, f"unknown status category {key[:40]!r}"
        ) from None


def _kind(issue_type: IssueTypeRaw) -> ItemKind:
    level = issue_type.get("hierarchyLevel")
    if issue_type.get("subtask") or (level is not None and level < 0):
        return ItemKind.SUBTASK
    if (level is not None and level >= 1) or issue_type["name"].casefold() == "epic":
        return ItemKind.EPIC
    return _KINDS.get(issue_type["name"].casefold(), ItemKind.TASK)


def _parent(fields: IssueFields, site: Site) -> str | None:
    """``fields.parent`` on Cloud (epics and subtasks); Data Center's Epic Link otherwise."""
    parent = fields.get("parent")
    if parent is not None:
        return parent["key"]
    if site.epic_link_field:
        epic = _custom(fields, site.epic_link_field)
        if isinstance(epic, str) and 0 < len(epic) <= 64:
            return epic
    return None


def _custom(fields: IssueFields, field_id: str) -> Any:
    return fields.get(field_id)


def _assignee(user: UserRaw | None) -> str | None:
    if not user:
        return None
    return user.get("displayName") or user.get("name") or user.get("accountId")


def _first_number(fields: IssueFields, ids: Iterable[str]) -> float | None:
    # A site may carry both "Story point estimate" and "Story Points"; the first set wins.
    for field_id in ids:
        value = _custom(fields, field_id)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _first_date(fields: IssueFields, ids: Iterable[str]) -> date | None:
    for field_id in ids:
        value = _custom(fields, field_id)
        if isinstance(value, str):
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def _links(key: str, links: Iterable[IssueLinkRaw], site: Site) -> Iterator[LinkRef]:
    """Dependency links as ``blocks`` edges, whichever end this issue's record is on.

    An entry with ``outwardIssue`` reads "this <outward> that"; with ``inwardIssue`` it
    reads "that <outward> this".
    """
    for link in links:
        link_type = link["type"]
        if link_type["name"].casefold() not in site.dependency_link_types:
            continue
        outward_words = link_type.get("outward")
        inverted = bool(outward_words and _INVERTED_WORDING.search(outward_words))
        if "outwardIssue" in link:
            blocker, blocked = key, link["outwardIssue"]["key"]
        elif "inwardIssue" in link:
            blocker, blocked = link["inwardIssue"]["key"], key
        else:
            continue
        if inverted:
            blocker, blocked = blocked, blocker
        if len(blocker) <= 64 and len(blocked) <= 64:
            yield LinkRef(site.source, blocker, site.source, blocked, link_type=link_type["name"])


def transitions(histories: Iterable[History], site: Site) -> Iterator[Transition]:
    """Status changes only; each keyed by its history id (several can share a second)."""
    categories = site.status_categories or {}
    for history in histories:
        changes = [i for i in history["items"] if (i.get("fieldId") or i.get("field")) == "status"]
        if not changes:
            continue
        at, author = history["created"].astimezone(UTC), _assignee(history.get("author"))
        for index, change in enumerate(changes):
            to_string, from_string = change.get("toString"), change.get("fromString")
            if not to_string:
                continue
            yield Transition(
                external_id=history["id"] if index == 0 else f"{history['id']}.{index}",
                at=at,
                to_status=to_string[:128],
                from_status=from_string[:128] if from_string else None,
                to_category=categories.get(change.get("to") or ""),
                from_category=categories.get(change.get("from") or ""),
                author=author,
            )


def description_text(value: Any) -> str | None:
    """Plain text of a description: v2 sends a string, v3 an ADF document.

    Link targets (``href``, ``url``) are kept beside the text, since that is where Jira and
    Asana URLs sit in rich text. Bounded in characters and in nodes walked.
    """
    if value is None or isinstance(value, str):
        return value[:MAX_SCANNED_CHARS] if value else None
    parts: list[str] = []
    size = 0
    stack: list[Any] = [value]
    walked = 0
    while stack and size < MAX_SCANNED_CHARS and walked < _ADF_NODE_BUDGET:
        node = stack.pop()
        walked += 1
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            for piece in _node_strings(node):
                parts.append(piece)
                size += len(piece) + 1
            content = node.get("content")
            if isinstance(content, list):
                stack.extend(reversed(content))
    return " ".join(parts)[:MAX_SCANNED_CHARS] or None


def _node_strings(node: Mapping[str, Any]) -> Iterator[str]:
    text = node.get("text")
    if isinstance(text, str):
        yield text
    attrs = node.get("attrs")
    if isinstance(attrs, dict) and isinstance(attrs.get("url"), str):
        yield attrs["url"]
    for mark in node.get("marks") or ():
        attrs = mark.get("attrs") if isinstance(mark, dict) else None
        if isinstance(attrs, dict) and isinstance(attrs.get("href"), str):
            yield attrs["href"]
