"""Reading Jira Cloud issues by id without losing one: ``/issue/bulkfetch`` and its gaps.

The official document (``POST /rest/api/3/issue/bulkfetch``) says: "You can request up to
100 issues"; an issue Jira cannot return "due to a retriable error or payload constraint"
comes back in ``issueErrors``; an issue that is not found *or not visible* is simply left
out. A missing id is therefore not a deleted one, and an errored id is not a missing one:

- ids in ``issueErrors`` are asked again in a smaller batch, then one by one through
  ``GET /issue/{id}``; one that still fails becomes an ``UNREAD`` warning (kept as stored);
- an id left out of the answer is asked for by ``GET /issue/{id}``: a 404 confirms it is
  gone, anything else returns it or leaves it unread;
- batches hold the documented 100 ids, never more: some sites accept 1,000 for a narrow,
  single-valued field list, but ours has links, labels, components and versions, and a
  refused wider batch would cost a round trip before every run's first page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NotRequired

import httpx
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from connectors.base import (
    ConnectorDataError,
    SyncWarning,
    TrackerRequestError,
    TrackerUnavailable,
    WarningKind,
)
from connectors.http import TrackerClient
from connectors.jira.mapping import parse_issue
from connectors.jira.schemas import IssueRaw, decode_issue_page

log = logging.getLogger(__name__)

DOCUMENTED_BATCH = 100
"""The limit the official document states: "You can request up to 100 issues"."""
RETRY_BATCH = 10
"""Errored ids are asked again this many at a time before being read one by one."""


class IssueErrorRaw(TypedDict):
    id: NotRequired[str]
    errorMessage: NotRequired[str]


class BulkPage(TypedDict):
    issues: list[IssueRaw]
    issueErrors: NotRequired[list[IssueErrorRaw]]


_BULK_PAGE = TypeAdapter(BulkPage)


@dataclass(slots=True)
class Details:
    """What reading a set of ids gave: the issues, what could not be used, what is gone."""

    issues: list[IssueRaw] = field(default_factory=list)
    warnings: list[SyncWarning] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    """Asked-for identifiers the site answered 404 for, by id: deleted or out of sight."""


@dataclass(slots=True)
class _Answer:
    issues: list[IssueRaw]
    warnings: list[SyncWarning]
    errors: dict[str, str]
    missing: list[str]


class BulkReader:
    """Reads issues by id or key, the documented hundred a call."""

    def __init__(self, client: TrackerClient) -> None:
        self._client = client

    async def read(self, ids: Sequence[str], fields: Sequence[str]) -> Details:
        """Every asked-for issue that exists, warnings for those that could not be read."""
        pending = list(dict.fromkeys(ids))
        size = DOCUMENTED_BATCH
        batches = [pending[i : i + size] for i in range(0, len(pending), size)]
        answers = await asyncio.gather(*(self._bulkfetch(b, fields) for b in batches))
        details = Details()
        errors: dict[str, str] = {}
        missing: list[str] = []
        for answer in answers:
            details.issues += answer.issues
            details.warnings += answer.warnings
            errors.update(answer.errors)
            missing += answer.missing
        if errors:
            await self._retry(errors, fields, details)
        if missing:
            await self._one_by_one(missing, {}, fields, details)
        return details

    async def _retry(self, errors: dict[str, str], fields: Sequence[str], into: Details) -> None:
        """Errored ids: once more in small batches, then one by one."""
        ids = list(errors)
        batches = [ids[i : i + RETRY_BATCH] for i in range(0, len(ids), RETRY_BATCH)]
        still: dict[str, str] = {}
        missing: list[str] = []
        for answer in await asyncio.gather(*(self._bulkfetch(b, fields) for b in batches)):
            into.issues += answer.issues
            into.warnings += answer.warnings
            still.update(answer.errors)
            missing += answer.missing
        await self._one_by_one([*still, *missing], still, fields, into)

    async def _one_by_one(
        self, ids: list[str], errors: dict[str, str], fields: Sequence[str], into: Details
    ) -> None:
        found = await asyncio.gather(*(self._get(i, fields) for i in ids))
        for asked, outcome in zip(ids, found, strict=True):
            if isinstance(outcome, SyncWarning):
                earlier = errors.get(asked)
                reason = f"{earlier}; then {outcome.reason}" if earlier else outcome.reason
                into.warnings.append(SyncWarning(asked, reason[:500], outcome.kind))
            elif outcome is None:
                into.gone.append(asked)
            else:
                into.issues.append(outcome)

    async def _get(self, id_or_key: str, fields: Sequence[str]) -> IssueRaw | SyncWarning | None:
        try:
            response = await self._client.get(
                f"/rest/api/3/issue/{id_or_key}", params={"fields": ",".join(fields)}
            )
            return parse_issue(response.json(), self._client.source)
        except ConnectorDataError as exc:
            return SyncWarning(exc.key, exc.reason)
        except TrackerRequestError as exc:
            if exc.status_code == 404:
                return None
            return _unread(id_or_key, exc)
        except TrackerUnavailable as exc:
            # Retried already; credentials refused (TrackerAuthError) still stop the run.
            return _unread(id_or_key, exc)

    async def _bulkfetch(self, ids: list[str], fields: Sequence[str]) -> _Answer:
        response = await self._client.post(
            "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": ids, "fields": list(fields)}
        )
        issues, warnings, errors, seen = parse_bulk(response, self._client.source, fields)
        errored = {k: v for k, v in errors.items() if k in ids}
        # An id Jira names in issueErrors although we asked by key cannot be matched: that
        # key counts as missing and is read one by one, which comes to the same.
        missing = [i for i in ids if i.upper() not in seen and i not in errored]
        return _Answer(issues, warnings, errored, missing)


def _unread(id_or_key: str, exc: Exception) -> SyncWarning:
    reason = f"could not be read on this run: {exc}"[:500]
    return SyncWarning(id_or_key, reason, WarningKind.UNREAD)


def parse_bulk(
    response: httpx.Response, source: str, fields: Sequence[str] = ()
) -> tuple[list[IssueRaw], list[SyncWarning], dict[str, str], set[str]]:
    """A page's issues, warnings for broken ones, ``issueErrors`` by id, and every id and
    key (upper case) the page answered for; issue by issue only if one issue is broken.

    ``fields`` are the fields asked for, so that custom ones are kept by the fast decoder.
    """
    page: BulkPage | None = decode_issue_page(response.content, fields)  # type: ignore[assignment]
    if page is None:
        try:
            page = _BULK_PAGE.validate_json(response.content)
        except ValidationError:
            page = None
    if page is not None:
        errors = {
            str(e.get("id")): e.get("errorMessage", "") for e in page.get("issueErrors") or []
        }
        return page["issues"], [], errors, _answered(page["issues"])
    body = response.json()
    if not isinstance(body, dict):
        raise ConnectorDataError(source, "?", "the answer is not a JSON object")
    issues: list[IssueRaw] = []
    warnings: list[SyncWarning] = []
    for raw in body.get("issues") or []:
        try:
            issues.append(parse_issue(raw, source))
        except ConnectorDataError as exc:
            warnings.append(SyncWarning(exc.key, exc.reason))
    errors = {
        str(e["id"]): str(e.get("errorMessage", ""))
        for e in body.get("issueErrors") or []
        if isinstance(e, dict) and "id" in e
    }
    raw = [r for r in body.get("issues") or [] if isinstance(r, dict)]
    return issues, warnings, errors, _answered(raw)


def _answered(issues: Sequence[Mapping[str, object]]) -> set[str]:
    return {str(i[k]).upper() for i in issues for k in ("id", "key") if i.get(k) is not None}
