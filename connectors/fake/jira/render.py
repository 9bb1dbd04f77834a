"""Issues as Jira's REST API shows them: Cloud v3 (ADF, accountId) or Data Center v2.

Timestamps are written in the searching user's time zone with a colon-less offset, as Jira
writes them, so a client that forgets to convert to UTC is caught.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.fake.jira.model import (
    ISSUE_TYPES,
    STATUSES,
    History,
    Issue,
    IssueLink,
    JiraData,
    Status,
    User,
)
from connectors.fake.jira.rendered import RenderedCache, dumps

ALL = frozenset({"*all"})
NAVIGABLE = (
    "summary",
    "status",
    "issuetype",
    "project",
    "parent",
    "issuelinks",
    "assignee",
    "reporter",
    "priority",
    "labels",
    "components",
    "fixVersions",
    "created",
    "updated",
    "resolutiondate",
    "duedate",
    "description",
    "resolution",
    "watches",
    "votes",
)

CLOUD_FIELDS = {
    "story_points": (
        "customfield_10016",
        "Story point estimate",
        "number",
        "com.pyxis.greenhopper.jira:jsw-story-points",
    ),
    "legacy_points": (
        "customfield_10028",
        "Story Points",
        "number",
        "com.atlassian.jira.plugin.system.customfieldtypes:float",
    ),
    "start": (
        "customfield_10015",
        "Start date",
        "date",
        "com.atlassian.jira.plugin.system.customfieldtypes:datepicker",
    ),
    "rank": ("customfield_10019", "Rank", "any", "com.pyxis.greenhopper.jira:gh-lexo-rank"),
}
DC_FIELDS = {
    "story_points": (
        "customfield_10106",
        "Story Points",
        "number",
        "com.atlassian.jira.plugin.system.customfieldtypes:float",
    ),
    "start": (
        "customfield_10015",
        "Start date",
        "date",
        "com.atlassian.jira.plugin.system.customfieldtypes:datepicker",
    ),
    "epic_link": (
        "customfield_10014",
        "Epic Link",
        "any",
        "com.pyxis.greenhopper.jira:gh-epic-link",
    ),
    "rank": ("customfield_10019", "Rank", "any", "com.pyxis.greenhopper.jira:gh-lexo-rank"),
}


def requested_fields(raw: Any, default: Iterable[str]) -> frozenset[str]:
    """The field names a request asks for (list or comma string; ``*all``; ``-name``)."""
    if raw is None or raw == [] or raw == "":
        names = list(default)
    elif isinstance(raw, str):
        names = [n.strip() for n in raw.split(",")]
    else:
        names = [n.strip() for item in raw for n in str(item).split(",")]
    if "*all" in names or "*navigable" in names:
        excluded = {n[1:] for n in names if n.startswith("-")}
        return frozenset({"*all"} | {f"-{n}" for n in excluded})
    return frozenset(n for n in names if n)


def timestamp(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + local.strftime("%z")
    )


@dataclass(frozen=True, slots=True)
class Renderer:
    data: JiraData
    base_url: str
    cloud: bool
    api: str
    """"2" or "3": rich text is ADF on 3, a string on 2."""
    zone: ZoneInfo
    visible: Callable[[Issue], bool] = lambda _: True
    """Links to issues the user cannot see are left out; a parent is shown regardless
    (what a real site shows of a parent in a hidden project is unverified)."""
    cache: RenderedCache | None = None
    view: Hashable = None
    """What else decides what is shown (the hidden projects and issues), part of the key
    under which renderings are kept."""

    def issue_json(
        self,
        issue: Issue,
        fields: frozenset[str],
        *,
        changelog_cap: int | None = None,
        expand_changelog: bool = False,
    ) -> bytes:
        """``issue`` as JSON bytes, rendered once per change of the site."""

        def render() -> dict[str, Any]:
            return self.issue(
                issue, fields, changelog_cap=changelog_cap, expand_changelog=expand_changelog
            )

        if self.cache is None:
            return dumps(render())
        key = ("issue", issue.id, self.base_url, self.api, fields, changelog_cap)
        return self.cache.get((*key, expand_changelog, self.view), render)

    def history_json(self, history: History) -> bytes:
        """A history entry as JSON bytes, rendered once per change of the site."""
        if self.cache is None:
            return dumps(self.history(history))
        key = ("history", history.id, self.api, self.view)
        return self.cache.get(key, lambda: self.history(history))

    @property
    def custom(self) -> dict[str, tuple[str, str, str, str]]:
        return CLOUD_FIELDS if self.cloud else DC_FIELDS

    def issue(
        self,
        issue: Issue,
        fields: frozenset[str],
        *,
        changelog_cap: int | None = None,
        expand_changelog: bool = False,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"id": str(issue.id)}
        wanted = self._field_names(fields)
        if wanted or "key" in fields or fields == ALL:
            body = {
                "expand": "renderedFields,names,schema,operations,editmeta,changelog",
                "id": str(issue.id),
                "self": f"{self.base_url}/rest/api/{self.api}/issue/{issue.id}",
                "key": issue.key,
            }
        if wanted:
            values = self._values(issue, wanted)
            body["fields"] = {name: values[name] for name in wanted if name in values}
        if expand_changelog:
            histories = issue.histories[:changelog_cap] if changelog_cap else issue.histories
            body["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(issue.histories),
                "histories": [self.history(h) for h in histories],
            }
        return body

    def _field_names(self, fields: frozenset[str]) -> list[str]:
        if "*all" in fields:
            excluded = {f[1:] for f in fields if f.startswith("-")}
            names = [*NAVIGABLE, *(spec[0] for spec in self.custom.values())]
            return [n for n in names if n not in excluded]
        return [f for f in fields if f not in ("id", "key")]

    def _values(self, issue: Issue, wanted: list[str]) -> dict[str, Any]:
        parent = self.data.issues.get(issue.parent_id) if issue.parent_id is not None else None
        values: dict[str, Any] = {
            "summary": issue.summary,
            "status": self.status(issue.status),
            "issuetype": self.issue_type(issue),
            "project": {
                "self": f"{self.base_url}/rest/api/{self.api}/project/{issue.project.id}",
                "id": issue.project.id,
                "key": issue.project.key,
                "name": issue.project.name,
                "projectTypeKey": "software",
            },
            "issuelinks": [
                self.link(link, issue)
                for link in self.data.links_of(issue)
                if self.visible(self.data.issues[_other_end(link, issue)])
            ],
            "assignee": self.user(issue.assignee),
            "reporter": self.user(issue.assignee),
            "priority": {"id": "3", "name": "Medium"},
            "labels": list(issue.labels),
            "components": [
                {
                    "id": str(10_000 + issue.project.components.index(c))
                    if c in issue.project.components
                    else "10999",
                    "name": c,
                }
                for c in issue.components
            ],
            "fixVersions": [
                {"id": str(11_000 + i), "name": v, "released": False}
                for i, v in enumerate(issue.fix_versions)
            ],
            "created": timestamp(issue.created, self.zone),
            "updated": timestamp(issue.updated, self.zone),
            "resolutiondate": timestamp(issue.resolved, self.zone) if issue.resolved else None,
            "resolution": {"name": "Done"} if issue.resolved else None,
            "duedate": issue.due.isoformat() if issue.due else None,
            "description": self.rich_text(issue.description),
            "watches": {"watchCount": 1, "isWatching": False},
            "votes": {"votes": 0, "hasVoted": False},
            self.custom["story_points"][0]: issue.points,
            self.custom["start"][0]: issue.start.isoformat() if issue.start else None,
            self.custom["rank"][0]: f"0|i{issue.id:07d}:",
        }
        if self.cloud:
            values[CLOUD_FIELDS["legacy_points"][0]] = None
        if parent is not None and (self.cloud or issue.type.subtask):
            values["parent"] = self.issue_ref(parent)
        if not self.cloud:
            epic = parent.key if parent is not None and parent.type.name == "Epic" else None
            values[DC_FIELDS["epic_link"][0]] = epic
        return values

    def status(self, status: Status) -> dict[str, Any]:
        category_ids = {"new": 2, "indeterminate": 4, "done": 3}
        category_names = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
        colours = {"new": "blue-gray", "indeterminate": "yellow", "done": "green"}
        return {
            "self": f"{self.base_url}/rest/api/{self.api}/status/{status.id}",
            "description": "",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "id": category_ids[status.category],
                "key": status.category,
                "colorName": colours[status.category],
                "name": category_names[status.category],
            },
        }

    def issue_type(self, issue: Issue) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": issue.type.id,
            "name": issue.type.name,
            "subtask": issue.type.subtask,
            "description": "",
        }
        if self.cloud:
            body["hierarchyLevel"] = issue.type.hierarchy_level
        return body

    def issue_ref(self, other: Issue) -> dict[str, Any]:
        return {
            "id": str(other.id),
            "key": other.key,
            "self": f"{self.base_url}/rest/api/{self.api}/issue/{other.id}",
            "fields": {
                "summary": other.summary,
                "status": self.status(other.status),
                "priority": {"id": "3", "name": "Medium"},
                "issuetype": self.issue_type(other),
            },
        }

    def link(self, link: IssueLink, issue: Issue) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(link.id),
            "type": {
                "id": link.type.id,
                "name": link.type.name,
                "inward": link.type.inward,
                "outward": link.type.outward,
            },
        }
        if link.outward_id == issue.id:
            body["outwardIssue"] = self.issue_ref(self.data.issues[link.inward_id])
        else:
            body["inwardIssue"] = self.issue_ref(self.data.issues[link.outward_id])
        return body

    def user(self, user: User | None) -> dict[str, Any] | None:
        if user is None:
            return None
        if self.cloud:
            body: dict[str, Any] = {
                "accountId": user.account_id,
                "displayName": user.display_name,
                "active": True,
                "timeZone": "Europe/Berlin",
                "accountType": "atlassian",
            }
            if user.email_visible:
                body["emailAddress"] = user.email
            return body
        return {
            "name": user.name,
            "key": user.name,
            "displayName": user.display_name,
            "emailAddress": user.email,
            "active": True,
        }

    def rich_text(self, text: str | None) -> Any:
        if text is None or not self.cloud or self.api == "2":
            return text
        paragraphs = [
            {"type": "paragraph", "content": [{"type": "text", "text": line}]}
            for line in text.split("\n\n")
            if line
        ]
        return {"type": "doc", "version": 1, "content": paragraphs}

    def history(self, history: History) -> dict[str, Any]:
        body: dict[str, Any] = {"id": str(history.id)}
        if history.author is not None:
            # The document's author is an object; a change made by no one (an automation
            # or an import) has none, so the key is left out rather than null.
            body["author"] = self.user(history.author)
        return body | {
            "created": timestamp(history.at, self.zone),
            "items": [
                {
                    "field": history.field,
                    "fieldtype": "jira",
                    "fieldId": history.field,
                    "from": history.from_value,
                    "fromString": history.from_string,
                    "to": history.to_value,
                    "toString": history.to_string,
                }
            ],
        }

    def field_catalogue(self) -> list[dict[str, Any]]:
        system = [
            {
                "id": name,
                "key": name,
                "name": name[0].upper() + name[1:],
                "custom": False,
                "navigable": True,
                "searchable": True,
                "schema": {"type": "any", "system": name},
            }
            for name in NAVIGABLE
        ]
        custom = [
            {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": True,
                "navigable": True,
                "searchable": True,
                "schema": {"type": kind, "custom": plugin, "customId": int(fid.rsplit("_", 1)[1])},
            }
            for fid, name, kind, plugin in self.custom.values()
        ]
        return system + custom

    def status_catalogue(self) -> list[dict[str, Any]]:
        return [self.status(s) for s in STATUSES]

    def issue_types(self) -> list[dict[str, Any]]:
        return [
            {"id": t.id, "name": t.name, "subtask": t.subtask, "hierarchyLevel": t.hierarchy_level}
            for t in ISSUE_TYPES.values()
        ]


def _other_end(link: IssueLink, issue: Issue) -> int:
    return link.inward_id if link.outward_id == issue.id else link.outward_id
