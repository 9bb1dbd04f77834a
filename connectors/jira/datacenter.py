"""Jira Data Center: ``/rest/api/2/search`` by ``startAt``, restarted before its window.

Data Center has neither bulk endpoint, so issues come from search pages with the changelog
expanded; an issue whose embedded history was cut short is read again on its own. DC's
search index refuses to page past 10,000 results of one query: the query is restarted
past the last id seen before that (keyset paging, which also survives concurrent edits).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import httpx

from connectors.base import SyncWarning, TrackerRequestError
from connectors.http import TrackerClient
from connectors.jira import jql
from connectors.jira.bulk import parse_bulk
from connectors.jira.mapping import Site, parse_issue
from connectors.jira.schemas import IssueRaw, complete, decode_ids
from connectors.pagination import StartAtPaginator

DC_PAGE = 1_000
"""Data Center's default ``jira.search.views.default.max``; a smaller cap is read back."""
DC_WINDOW = 10_000
"""Data Center refuses to page past this many results of one query."""


async def search(
    client: TrackerClient,
    scope: str,
    site: Site,
    fields: Sequence[str],
    *,
    since: datetime | None,
    after: int | None = None,
) -> AsyncIterator[tuple[list[IssueRaw], list[SyncWarning], int]]:
    """Pages of a project's issues (with an id past ``after``) with full histories, the
    warnings of broken ones, and each page's last id."""
    async for response, last_id in pages(
        client, scope, fields=fields, expand=True, since=since, after=after
    ):
        issues, warnings, _, _ = parse_bulk(response, client.source, fields)
        cut = [i["id"] for i in issues if not _has_full_history(i)]
        fuller = await asyncio.gather(*(get_issue(client, key, fields) for key in cut))
        replaced = {issue["id"]: issue for issue in fuller if issue is not None}
        yield [replaced.get(issue["id"], issue) for issue in issues], warnings, last_id


async def pages(
    client: TrackerClient,
    scope: str,
    *,
    fields: Sequence[str],
    expand: bool,
    since: datetime | None,
    after: int | None = None,
) -> AsyncIterator[tuple[httpx.Response, int]]:
    """Pages of one project's search (with each page's last id), ascending id, restarted
    past the last id seen before the result window closes."""
    while True:
        query = jql.issue_query(scope, updated_from=since, after_id=after)
        body: dict[str, Any] = {"jql": query, "fields": list(fields), "maxResults": DC_PAGE}
        if expand:
            body["expand"] = ["changelog"]
        paginator = StartAtPaginator()
        while True:
            response = await client.post("/rest/api/2/search", json=body)
            id_page = decode_ids(response.content)
            ids = id_page["issues"]
            if ids:
                after = int(ids[-1]["id"])
                yield response, after
            updates = paginator.next_params(id_page)
            if updates is None:
                return
            if int(updates["startAt"]) + DC_PAGE > DC_WINDOW:
                break
            body.update(updates)


async def get_issue(client: TrackerClient, key: str, fields: Sequence[str]) -> IssueRaw | None:
    """One issue with its whole history; None when the site answers 404."""
    try:
        response = await client.get(
            f"/rest/api/2/issue/{key}", params={"fields": ",".join(fields), "expand": "changelog"}
        )
    except TrackerRequestError as exc:
        if exc.status_code == 404:
            return None
        raise
    return parse_issue(response.json(), client.source)


def _has_full_history(issue: IssueRaw) -> bool:
    changelog = issue.get("changelog")
    return changelog is not None and complete(changelog)
