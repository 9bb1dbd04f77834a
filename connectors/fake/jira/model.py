"""The fake Jira's memory: issues, links and histories, indexed for 100,000 issues.

Mutations (edit, add, delete, move, link) behave as Jira's do where it matters to a
sync: every change bumps ``updated`` and writes a history entry, a moved issue keeps its
id and gets a new key (the old key still resolves), a deleted issue simply vanishes.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Status:
    id: str
    name: str
    category: str
    """new | indeterminate | done"""


STATUSES = (
    Status("10000", "To Do", "new"),
    Status("10001", "In Progress", "indeterminate"),
    Status("10002", "In Review", "indeterminate"),
    Status("10003", "Done", "done"),
    Status("10004", "Won't Do", "done"),
)
STATUS_BY_ID = {s.id: s for s in STATUSES}
STATUS_BY_NAME = {s.name.casefold(): s for s in STATUSES}


@dataclass(frozen=True, slots=True)
class IssueType:
    id: str
    name: str
    hierarchy_level: int

    @property
    def subtask(self) -> bool:
        return self.hierarchy_level < 0


ISSUE_TYPES = {
    t.name: t
    for t in (
        IssueType("10000", "Epic", 1),
        IssueType("10001", "Story", 0),
        IssueType("10002", "Task", 0),
        IssueType("10003", "Bug", 0),
        IssueType("10004", "Sub-task", -1),
    )
}


@dataclass(frozen=True, slots=True)
class LinkType:
    id: str
    name: str
    inward: str
    outward: str


LINK_TYPES = {
    t.name: t
    for t in (
        LinkType("10000", "Blocks", "is blocked by", "blocks"),
        LinkType("10001", "Relates", "relates to", "relates to"),
        LinkType("10002", "Cloners", "is cloned by", "clones"),
    )
}


@dataclass(frozen=True, slots=True)
class User:
    account_id: str
    name: str
    display_name: str
    email: str
    email_visible: bool


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    key: str
    name: str
    components: tuple[str, ...]


@dataclass(slots=True)
class History:
    id: int
    at: datetime
    author: User | None
    field: str
    """status | assignee | summary (only status changes are what a sync keeps)"""
    from_value: str | None
    from_string: str | None
    to_value: str | None
    to_string: str | None


@dataclass(slots=True)
class Issue:
    id: int
    key: str
    project: Project
    type: IssueType
    summary: str
    status: Status
    created: datetime
    updated: datetime
    description: str | None = None
    resolved: datetime | None = None
    due: date | None = None
    start: date | None = None
    points: float | None = None
    parent_id: int | None = None
    """Held by id, as Jira does: a parent moved to another project keeps its children."""
    assignee: User | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    histories: list[History] = field(default_factory=list)
    old_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IssueLink:
    id: int
    type: LinkType
    outward_id: int
    """The issue the link starts from: ``outward`` blocks ``inward``."""
    inward_id: int


class JiraData:
    """Every issue of the fake site with the indexes its queries need."""

    def __init__(
        self,
        projects: Iterable[Project],
        users: Iterable[User],
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.projects = {p.key: p for p in projects}
        self.users = list(users)
        self.clock = clock
        self.issues: dict[int, Issue] = {}
        self._by_key: dict[str, int] = {}
        self._ids_by_project: dict[str, list[int]] = {k: [] for k in self.projects}
        self.links: dict[int, IssueLink] = {}
        self._links_of: dict[int, list[int]] = {}
        self._next_id = 10_000
        self._next_link = 20_000
        self._next_history = 50_000
        self._next_number: dict[str, int] = dict.fromkeys(self.projects, 1)
        self.version = 0
        """Bumped by every change, so cached query results know when they are stale."""

    # Reading -------------------------------------------------------------------------

    def get(self, id_or_key: str) -> Issue | None:
        if id_or_key.isdigit():
            return self.issues.get(int(id_or_key))
        found = self._by_key.get(id_or_key.upper())
        return self.issues.get(found) if found is not None else None

    def in_projects(self, keys: Iterable[str] | None) -> Iterator[Issue]:
        """Issues of the projects (all when None), in ascending id order per project."""
        for key in self.projects if keys is None else keys:
            for issue_id in self._ids_by_project.get(key, ()):
                yield self.issues[issue_id]

    def links_of(self, issue: Issue) -> list[IssueLink]:
        return [self.links[i] for i in self._links_of.get(issue.id, ())]

    def __len__(self) -> int:
        return len(self.issues)

    # Writing -------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def add(
        self, project: str, type_name: str, summary: str, *, at: datetime, **values: object
    ) -> Issue:
        """Create an issue as Jira would: the next id, the project's next number."""
        proj = self.projects[project]
        number = self._next_number[project]
        self._next_number[project] = number + 1
        issue = Issue(
            id=self._next_id,
            key=f"{proj.key}-{number}",
            project=proj,
            type=ISSUE_TYPES[type_name],
            summary=summary,
            status=STATUSES[0],
            created=at,
            updated=at,
        )
        for name, value in values.items():
            setattr(issue, name, value)
        self._next_id += 1
        self.version += 1
        self.issues[issue.id] = issue
        self._by_key[issue.key] = issue.id
        self._ids_by_project[project].append(issue.id)
        return issue

    def history(
        self,
        issue: Issue,
        field_name: str,
        old: tuple[str | None, str | None],
        new: tuple[str | None, str | None],
        *,
        at: datetime,
        author: User | None,
    ) -> None:
        issue.histories.append(History(self._next_history, at, author, field_name, *old, *new))
        self._next_history += 1
        self.version += 1

    def transition(
        self, issue: Issue, status: Status, *, at: datetime, author: User | None = None
    ) -> None:
        self.history(
            issue,
            "status",
            (issue.status.id, issue.status.name),
            (status.id, status.name),
            at=at,
            author=author,
        )
        issue.status = status
        issue.resolved = at if status.category == "done" else None
        issue.updated = max(issue.updated, at)

    def link(
        self, type_name: str, outward: Issue, inward: Issue, *, at: datetime | None = None
    ) -> IssueLink:
        link = IssueLink(self._next_link, LINK_TYPES[type_name], outward.id, inward.id)
        self._next_link += 1
        self.version += 1
        self.links[link.id] = link
        for end in (outward, inward):
            self._links_of.setdefault(end.id, []).append(link.id)
            if at is not None:
                self.touch(end, at)
        return link

    def touch(self, issue: Issue, at: datetime | None = None) -> datetime:
        """Bump ``updated`` strictly forward (Jira keeps milliseconds)."""
        when = at or self.now()
        issue.updated = max(when, issue.updated + timedelta(milliseconds=1))
        self.version += 1
        return issue.updated

    def delete(self, issue: Issue) -> None:
        self.version += 1
        del self.issues[issue.id]
        for key in (issue.key, *issue.old_keys):
            self._by_key.pop(key, None)
        ids = self._ids_by_project[issue.project.key]
        del ids[bisect.bisect_left(ids, issue.id)]
        for link_id in self._links_of.pop(issue.id, []):
            link = self.links.pop(link_id)
            other = link.inward_id if link.outward_id == issue.id else link.outward_id
            if other in self._links_of:
                self._links_of[other].remove(link_id)

    def move(self, issue: Issue, project: str) -> None:
        """Move to another project: same id, a new key; the old key keeps resolving."""
        target = self.projects[project]
        old_ids = self._ids_by_project[issue.project.key]
        del old_ids[bisect.bisect_left(old_ids, issue.id)]
        bisect.insort(self._ids_by_project[project], issue.id)
        number = self._next_number[project]
        self._next_number[project] = number + 1
        issue.old_keys = (*issue.old_keys, issue.key)
        issue.key = f"{target.key}-{number}"
        issue.project = target
        self._by_key[issue.key] = issue.id
        self.touch(issue)

    def edit(
        self, issue: Issue, changes: Mapping[str, object], *, at: datetime | None = None
    ) -> None:
        """Change fields as a person would: a status change is a transition with history."""
        when = self.touch(issue, at)
        for name, value in changes.items():
            if name == "status":
                status = (
                    value if isinstance(value, Status) else STATUS_BY_NAME[str(value).casefold()]
                )
                self.transition(issue, status, at=when)
            elif name == "summary":
                self.history(
                    issue,
                    "summary",
                    (None, issue.summary),
                    (None, str(value)),
                    at=when,
                    author=None,
                )
                issue.summary = str(value)
            elif name in EDITABLE:
                setattr(issue, name, value)
            else:
                raise ValueError(f"the fake cannot edit {name!r}")


EDITABLE = frozenset(
    {
        "points",
        "due",
        "start",
        "labels",
        "components",
        "fix_versions",
        "assignee",
        "description",
        "parent_id",
    }
)
