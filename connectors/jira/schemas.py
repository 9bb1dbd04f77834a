"""Private schemas of Jira's raw payloads: validated at the boundary, unknown fields ignored.

Only what the mapping reads is declared. Shapes follow the reference (Cloud v3 and Data
Center v2 differ in users and rich text, not in what is declared here).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NotRequired

import msgspec
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


# Issues and histories are TypedDicts validated by pydantic rather than models: a full sync
# parses every issue of a site, and validating response bytes into dicts is about four
# times faster than into model instances (and faster than json.loads alone), which is the
# difference between a sync bound by the API and one bound by parsing. TypedDicts ignore
# unknown keys when validated.


class StatusCategoryRaw(TypedDict):
    key: str


class StatusRaw(TypedDict):
    name: str
    statusCategory: StatusCategoryRaw
    id: NotRequired[str | None]


class IssueTypeRaw(TypedDict):
    name: str
    subtask: NotRequired[bool]
    hierarchyLevel: NotRequired[int | None]


class IssueRef(TypedDict):
    key: str
    id: NotRequired[str]


class LinkTypeRaw(TypedDict):
    name: str
    outward: NotRequired[str | None]


class IssueLinkRaw(TypedDict):
    """One link as the reporting issue sees it: exactly one of the two ends is set."""

    type: LinkTypeRaw
    inwardIssue: NotRequired[IssueRef]
    outwardIssue: NotRequired[IssueRef]


class ProjectRaw(TypedDict):
    key: str
    name: NotRequired[str | None]


class UserRaw(TypedDict, total=False):
    """Cloud names users by ``accountId``, Data Center by ``name``/``key``."""

    accountId: str | None
    name: str | None
    displayName: str | None
    emailAddress: str | None


class NamedRaw(TypedDict):
    name: str


@with_config(ConfigDict(extra="allow"))
class IssueFields(TypedDict):
    """The fields we ask for by name; custom fields (ids vary per site) are kept as extra
    keys. Only requested fields arrive, so keeping extras costs little."""

    summary: str
    status: StatusRaw
    issuetype: IssueTypeRaw
    project: ProjectRaw
    updated: datetime
    created: NotRequired[datetime | None]
    resolutiondate: NotRequired[datetime | None]
    duedate: NotRequired[date | None]
    parent: NotRequired[IssueRef | None]
    issuelinks: NotRequired[list[IssueLinkRaw] | None]
    assignee: NotRequired[UserRaw | None]
    labels: NotRequired[list[str] | None]
    components: NotRequired[list[NamedRaw] | None]
    fixVersions: NotRequired[list[NamedRaw] | None]
    description: NotRequired[Any]


HistoryItem = TypedDict(
    "HistoryItem",
    {
        "field": NotRequired[str | None],
        "fieldId": NotRequired[str | None],
        "from": NotRequired[str | None],
        "fromString": NotRequired[str | None],
        "to": NotRequired[str | None],
        "toString": NotRequired[str | None],
    },
)
"""One changed field of a history entry (``from`` is a Python keyword, hence this form)."""


class History(TypedDict):
    id: str
    created: datetime
    author: NotRequired[UserRaw | None]
    items: list[HistoryItem]


class Changelog(TypedDict):
    histories: list[History]
    startAt: NotRequired[int]
    total: NotRequired[int | None]


def complete(changelog: Changelog) -> bool:
    """False when Jira cut an embedded history short (search and bulk fetch cap it)."""
    total = changelog.get("total")
    return total is None or changelog.get("startAt", 0) + len(changelog["histories"]) >= total


class IssueRaw(TypedDict):
    id: str
    key: str
    fields: IssueFields
    changelog: NotRequired[Changelog | None]


class IssuePage(TypedDict):
    """A page of ``/search/jql``, ``/search`` or ``/issue/bulkfetch``, parsed in one go.

    A page with a malformed issue fails as a whole; the caller then parses it issue by
    issue to tell which one.
    """

    issues: list[IssueRaw]


class IssueId(TypedDict):
    id: str


class IdPage(TypedDict):
    """Any issue page read for its ids only (sweeps, censuses, keyset bookkeeping), with
    the paging fields of either search (``nextPageToken``/``isLast``, ``startAt``/``total``)."""

    issues: list[IssueId]
    nextPageToken: NotRequired[str | None]
    isLast: NotRequired[bool | None]
    startAt: NotRequired[int]
    total: NotRequired[int]


class IssueChangelogs(TypedDict):
    issueId: str
    changeHistories: list[History]


class ChangelogPage(TypedDict):
    """A page of ``POST /rest/api/3/changelog/bulkfetch``."""

    issueChangeLogs: list[IssueChangelogs]
    nextPageToken: NotRequired[str | None]


ISSUE_ADAPTER = TypeAdapter(IssueRaw)
ISSUE_PAGE_ADAPTER = TypeAdapter(IssuePage)
ID_PAGE_ADAPTER = TypeAdapter(IdPage)
CHANGELOG_PAGE_ADAPTER = TypeAdapter(ChangelogPage)


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


# Fast decoding. msgspec decodes a page straight into these TypedDicts about eight times
# faster than pydantic (17 vs 130 µs an issue, measured on the fake's bulk pages), which
# is most of a full sync's CPU. It keeps only declared keys, so the custom fields a
# request named are declared per field list. Anything it refuses (a malformed issue, a
# shape it reads differently) goes to the pydantic adapters, which stay the reference:
# they name the broken issue and the reason.


def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind, include_extras=True)


class _IssueError(TypedDict):
    id: NotRequired[str]
    errorMessage: NotRequired[str]


_typed_dict: Any = TypedDict
"""Called with names and types known only at run time (a site's custom fields)."""


@functools.lru_cache(maxsize=32)
def page_type(extra_fields: tuple[str, ...]) -> Any:
    """A page of issues whose ``fields`` also hold ``extra_fields`` (custom fields), kept as
    they came; ``issueErrors`` as bulk fetch gives it."""
    known = _hints(IssueFields)
    extras = {name: NotRequired[Any] for name in extra_fields if name not in known}
    fields = _typed_dict("IssueFields", {**known, **extras})
    issue = _typed_dict("IssueRaw", {**_hints(IssueRaw), "fields": fields})
    errors = NotRequired[list[_IssueError]]
    return _typed_dict("IssuePage", {"issues": list[issue], "issueErrors": errors})  # type: ignore[valid-type]


@functools.lru_cache(maxsize=32)
def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind, strict=False)


def decode_issue_page(content: bytes, extra_fields: Sequence[str]) -> dict[str, Any] | None:
    """A page of issues decoded fast, or None when the fast decoder refuses it."""
    try:
        page: dict[str, Any] = _decoder(page_type(tuple(extra_fields))).decode(content)
    except msgspec.DecodeError:
        return None
    return page


def decode_ids(content: bytes) -> IdPage:
    """A page read for its ids (``ID_PAGE_ADAPTER``, fast when the page is well formed)."""
    try:
        page: IdPage = _decoder(IdPage).decode(content)
    except msgspec.DecodeError:
        return ID_PAGE_ADAPTER.validate_json(content)
    return page


def decode_changelogs(content: bytes) -> ChangelogPage:
    """A page of bulk changelogs (``CHANGELOG_PAGE_ADAPTER``, fast when well formed)."""
    try:
        page: ChangelogPage = _decoder(ChangelogPage).decode(content)
    except msgspec.DecodeError:
        return CHANGELOG_PAGE_ADAPTER.validate_json(content)
    return page
