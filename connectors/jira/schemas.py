"""Private models of Jira's raw payloads: parsed at the boundary, unknown fields ignored.

Only what the mapping reads is declared. Shapes follow the reference (Cloud v3 and Data
Center v2 differ in users and rich text, not in what is declared here).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class StatusCategoryRaw(_Raw):
    key: str


class StatusRaw(_Raw):
    id: str | None = None
    name: str
    statusCategory: StatusCategoryRaw


class IssueTypeRaw(_Raw):
    name: str
    subtask: bool = False
    hierarchyLevel: int | None = None


class IssueRef(_Raw):
    id: str | None = None
    key: str


class LinkTypeRaw(_Raw):
    name: str
    inward: str | None = None
    outward: str | None = None


class IssueLinkRaw(_Raw):
    """One link as the reporting issue sees it: exactly one of the two ends is set."""

    type: LinkTypeRaw
    inwardIssue: IssueRef | None = None
    outwardIssue: IssueRef | None = None


class ProjectRaw(_Raw):
    key: str
    name: str | None = None


class UserRaw(_Raw):
    """Cloud names users by ``accountId``, Data Center by ``name``/``key``."""

    accountId: str | None = None
    name: str | None = None
    key: str | None = None
    displayName: str | None = None
    emailAddress: str | None = None


class NamedRaw(_Raw):
    name: str


class IssueFields(_Raw):
    """The fields we ask for by name; custom fields (ids vary per site) land in
    ``model_extra``. Only requested fields arrive, so keeping extras costs little."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    summary: str
    status: StatusRaw
    issuetype: IssueTypeRaw
    project: ProjectRaw
    updated: datetime
    created: datetime | None = None
    resolutiondate: datetime | None = None
    duedate: date | None = None
    parent: IssueRef | None = None
    issuelinks: list[IssueLinkRaw] = Field(default_factory=list)
    assignee: UserRaw | None = None
    labels: list[str] = Field(default_factory=list)
    components: list[NamedRaw] = Field(default_factory=list)
    fixVersions: list[NamedRaw] = Field(default_factory=list)
    description: Any = None

    def custom(self, field_id: str) -> Any:
        return (self.model_extra or {}).get(field_id)


class HistoryItem(_Raw):
    field: str | None = None
    fieldId: str | None = None
    from_: str | None = Field(default=None, alias="from")
    fromString: str | None = None
    to: str | None = None
    toString: str | None = None


class History(_Raw):
    id: str
    created: datetime
    author: UserRaw | None = None
    items: list[HistoryItem] = Field(default_factory=list)


class Changelog(_Raw):
    startAt: int = 0
    maxResults: int | None = None
    total: int | None = None
    histories: list[History] = Field(default_factory=list)

    @property
    def complete(self) -> bool:
        """False when Jira cut the embedded history short (search and bulk fetch cap it)."""
        return self.total is None or self.startAt + len(self.histories) >= self.total


class IssueRaw(_Raw):
    id: str
    key: str
    fields: IssueFields
    changelog: Changelog | None = None


class IssuePage(_Raw):
    """A page of ``/search/jql``, ``/search`` or ``/issue/bulkfetch``, parsed in one go.

    Parsing the response bytes straight into models skips building Python objects for
    everything we do not read; a page with a malformed issue fails as a whole, and the
    caller then parses it issue by issue to tell which one.
    """

    issues: list[IssueRaw] = Field(default_factory=list)


class IssueId(_Raw):
    id: str


class IdPage(_Raw):
    """Any issue page read for its ids only (sweeps, censuses, keyset bookkeeping)."""

    issues: list[IssueId] = Field(default_factory=list)


class IssueChangelogs(_Raw):
    issueId: str
    changeHistories: list[History] = Field(default_factory=list)


class ChangelogPage(_Raw):
    """A page of ``POST /rest/api/3/changelog/bulkfetch``."""

    issueChangeLogs: list[IssueChangelogs] = Field(default_factory=list)
    nextPageToken: str | None = None


class FieldSchemaRaw(_Raw):
    type: str | None = None
    custom: str | None = None


class FieldInfo(_Raw):
    id: str
    name: str
    custom: bool = False
    schema_: FieldSchemaRaw | None = Field(default=None, alias="schema")


class StatusInfo(_Raw):
    id: str
    name: str
    statusCategory: StatusCategoryRaw


class ServerInfo(_Raw):
    baseUrl: str | None = None
    deploymentType: str | None = None
    version: str | None = None


class ProjectPage(_Raw):
    values: list[ProjectRaw] = Field(default_factory=list)
    isLast: bool | None = None
