"""Tracker-neutral records, the connector protocol and the errors connectors raise.

A connector turns one tracker's API into these records and nothing else: no database, no
settings. ``app`` stores the records; ``rollup`` never sees them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from operator import attrgetter
from typing import ClassVar, Protocol

from connectors import text
from vocabulary import ItemKind, StatusCategory

MAX_TITLE_CHARS = 2_000
"""Titles are bounded: a tracker may hold megabytes in a field we show on every page."""

# Longest accepted identifier-like values; a longer one is malformed, not truncated.
_ID_LIMITS = {"external_id": 64, "key": 64}
# Longest kept display values; longer text is cut, since it is shown, not matched.
_TEXT_LIMITS = {
    "title": MAX_TITLE_CHARS,
    "status": 128,
    "issue_type": 64,
    "project": 128,
    "section": 256,
    "assignee": 256,
    "assignee_email": 256,
}
_TEXT_FIELDS = attrgetter(*_TEXT_LIMITS)
_SHORTEST_TEXT_LIMIT = min(_TEXT_LIMITS.values())


@dataclass(frozen=True, slots=True)
class LinkRef:
    """A directed dependency: ``from_key`` blocks ``to_key``.

    Keys are the tracker's keys; ``*_source`` is the configured source name of each end,
    which differs from the reporting item's source only for cross-tracker links.
    """

    from_source: str
    from_key: str
    to_source: str
    to_key: str
    kind: str = "blocks"
    link_type: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """A mention, in an item's own text or remote links, of an item in another tracker.

    ``target`` is a Jira key (``PAY-12``), a Jira browse URL or an Asana task URL; ``app``
    resolves it against the configured sources and stores a dependency when it matches.
    ``blocks`` is True when the wording says this item blocks the target, False when the
    target blocks this item, None when the wording does not say.
    """

    target: str
    blocks: bool | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """One status change, identified by the tracker's own history id."""

    external_id: str
    at: datetime
    to_status: str
    from_status: str | None = None
    to_category: StatusCategory | None = None
    from_category: StatusCategory | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class TrackerItem:
    """One issue/task/epic/milestone as the tracker describes it now.

    ``links`` is the complete set of dependencies this item's record lists; ``transitions``
    is None when the history was not fetched (so stored history is left alone).
    """

    source: str
    external_id: str
    key: str
    kind: ItemKind
    title: str
    status: str
    status_category: StatusCategory
    updated_at: datetime
    url: str | None = None
    issue_type: str | None = None
    hierarchy_level: int | None = None
    project: str | None = None
    projects: tuple[str, ...] = ()
    section: str | None = None
    parent_key: str | None = None
    assignee: str | None = None
    assignee_email: str | None = None
    estimate: float | None = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    start_on: date | None = None
    due_on: date | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    custom_fields: tuple[tuple[str, str], ...] = ()
    links: tuple[LinkRef, ...] = ()
    references: tuple[Reference, ...] = ()
    transitions: tuple[Transition, ...] | None = None

    def __post_init__(self) -> None:
        _clean(self)
        for name, limit in _ID_LIMITS.items():
            value = getattr(self, name)
            if not value or len(value) > limit:
                raise ConnectorDataError(
                    self.source, str(self.key)[:64], f"{name} is empty or longer than {limit}"
                )
        if self.parent_key is not None and len(self.parent_key) > 64:
            raise ConnectorDataError(self.source, self.key, "parent_key is longer than 64")
        if self.updated_at.tzinfo is None:
            raise ConnectorDataError(self.source, self.key, "updated_at has no time zone")
        # Most records hold no display value longer than the shortest bound: one C-level
        # pass over their lengths spares the field-by-field check.
        if max(map(len, filter(None, _TEXT_FIELDS(self))), default=0) > _SHORTEST_TEXT_LIMIT:
            for name, limit in _TEXT_LIMITS.items():
                value = getattr(self, name)
                if value is not None and len(value) > limit:
                    # Frozen record: bounding happens once, here, before anyone holds it.
                    object.__setattr__(self, name, value[: limit - 1] + "…")
        if self.url is not None and (len(self.url) > 1024 or not self.url.startswith("http")):
            object.__setattr__(self, "url", None)


@dataclass(frozen=True, slots=True)
class Deletion:
    """An item the tracker says no longer exists (or left the configured scope)."""

    source: str
    external_id: str
    at: datetime

    def __post_init__(self) -> None:
        _clean(self)


class WarningKind(StrEnum):
    MALFORMED = "malformed"
    """The tracker returned the record, but it cannot be used (skipped)."""
    UNREAD = "unread"
    """The record exists but could not be read on this run (kept as stored, read again)."""


@dataclass(frozen=True, slots=True)
class SyncWarning:
    """A record that could not be used or read; the sync goes on without it.

    An ``UNREAD`` warning means the tracker did not give the record although it exists: the
    stored copy is kept as it is (never tombstoned for it) and the scope's cursor does not
    move, so the next sync asks for it again.
    """

    key: str
    reason: str
    kind: WarningKind = WarningKind.MALFORMED

    def __post_init__(self) -> None:
        _clean(self)


_STATUS_LIMITS = {"project_name": 256, "title": 512, "text": 20_000, "author": 256}


@dataclass(frozen=True, slots=True)
class ProjectStatus:
    """What a team last said about its project (an Asana status update): newest wins.

    ``status_type`` is the tracker's word (``on_track``, ``at_risk``, ``off_track``,
    ``on_hold``, ``complete``, ``dropped``); ``color`` is its RAG reading (green, amber,
    red, grey) so a page can show both without knowing the tracker.
    """

    source: str
    project: str
    external_id: str
    status_type: str
    color: str
    posted_at: datetime
    project_name: str | None = None
    title: str | None = None
    text: str | None = None
    author: str | None = None

    def __post_init__(self) -> None:
        _clean(self)
        if not self.project or len(self.project) > 64 or len(self.external_id) > 64:
            raise ConnectorDataError(self.source, self.project[:64], "project status id too long")
        if len(self.status_type) > 32 or self.posted_at.tzinfo is None:
            raise ConnectorDataError(self.source, self.project, "malformed project status")
        for name, limit in _STATUS_LIMITS.items():
            value = getattr(self, name)
            if value is not None and len(value) > limit:
                object.__setattr__(self, name, value[: limit - 1] + "…")


def _clean(record: object) -> None:
    """Replace text no database can store (NUL, unpaired surrogates) in a record being made:
    the one place tracker text is cleaned, for pulled and pushed records alike."""
    for name, value in text.cleaned_fields(record).items():
        # Frozen record: cleaning happens once, here, before anyone holds it.
        object.__setattr__(record, name, value)


@dataclass(frozen=True, slots=True)
class Page:
    """What one round of fetching produced, stored together in one transaction.

    ``token`` is a resume token the tracker issued for the scope (an Asana Events sync
    token); the sync stores the last one given with the scope's cursor.
    ``project_names`` are the names of the projects this round's records belong to, by
    the id items carry in ``project`` (an Asana project's gid → its name), so pages name
    projects rather than show ids. ``census`` is set
    when this round listed the scope completely: every external id it holds now. Stored
    items of the scope missing from it are re-checked through ``fetch_items`` and
    tombstoned when the tracker confirms they are gone. ``checkpoint`` is a position in
    the scope's listing (the last id swept): every record before it came in this page or
    an earlier one, so a listing cut short may continue after it (``fetch(after=...)``).
    """

    scope: str
    items: Sequence[TrackerItem] = ()
    deletions: Sequence[Deletion] = ()
    warnings: Sequence[SyncWarning] = ()
    statuses: Sequence[ProjectStatus] = ()
    project_names: tuple[tuple[str, str], ...] = ()
    token: str | None = None
    census: frozenset[str] | None = None
    checkpoint: str | None = None


@dataclass(slots=True)
class FetchStats:
    """Counters a connector's HTTP client keeps for the sync run record."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Connector(Protocol):
    """A tracker connection. Stateless apart from its HTTP client; cursors belong to the caller.

    ``fetch(scope, None)`` is a full load of a scope; ``fetch(scope, since)`` returns every
    item of the scope updated at or after ``since`` and may return some older ones too
    (at-least-once). ``token`` is the scope's stored resume token (see ``Page.token``),
    None when there is none or the tracker issues none. A connector whose pages carry a
    ``checkpoint`` also takes ``after=`` one, and lists only what lies beyond it (the
    caller passes it only to such a connector). ``census(scope)`` lists the
    external ids that exist in the scope now; ``fetch_items(keys)`` re-reads items and
    returns a ``Deletion`` for each key that no longer exists or left every scope.
    """

    kind: ClassVar[str]
    stats: FetchStats

    async def scopes(self) -> Sequence[str]: ...

    def fetch(
        self, scope: str, since: datetime | None, *, token: str | None = None
    ) -> AsyncIterator[Page]: ...

    async def census(self, scope: str) -> frozenset[str]: ...

    async def fetch_items(self, keys: Sequence[str]) -> Page: ...


class ConnectorError(Exception):
    """Base of every error a connector raises."""


class ConnectorDataError(ConnectorError):
    """A tracker record is malformed; the sync records a warning and skips it."""

    def __init__(self, source: str, key: str, reason: str) -> None:
        self.source, self.key, self.reason = source, key, reason
        super().__init__(f"{source}: {key}: {reason}")


class TrackerUnavailable(ConnectorError):
    """429, 5xx or a transport failure: worth retrying after a pause."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class TrackerAuthError(ConnectorError):
    """401/403: the credentials are wrong or lack permission; retrying will not help."""


class TrackerRequestError(ConnectorError):
    """Another 4xx: the request itself is wrong; the tracker's message says why.

    ``body`` is the parsed JSON error body when there was one: some answers carry data a
    connector needs (Asana's 412 carries a fresh sync token).
    """

    def __init__(self, message: str, *, status_code: int, body: object = None) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(message)


class PaginationLoopError(ConnectorError):
    """The tracker handed out a page token it had already given: stop instead of looping."""
