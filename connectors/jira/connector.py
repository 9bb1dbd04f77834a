"""The Jira connector: Cloud and Data Center, full and incremental, ids-then-details.

Cloud follows Atlassian's bulk pattern: one sequential sweep per project asks
``/search/jql`` for ids only (5,000 a page, ascending id, so issues created or edited
during the sweep can only append), and each thousand ids are loaded in parallel —
details through ``/issue/bulkfetch`` and status history through ``/changelog/bulkfetch``
— under the client's in-flight and rate limits, while earlier pages are being stored.
The sweep is the only sequential part, and at 5,000 ids a page it outruns the detail
loads many times over, so a big project needs no splitting into id ranges: the run is
bound by the tracker's rate limit (or our own CPU), not by one page chain.

Data Center has neither bulk endpoint: it pages ``/rest/api/2/search`` by ``startAt`` with
the changelog expanded, and restarts the query past the last id before the 10,000-result
window that DC's search index refuses to page beyond."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import httpx
from pydantic import ValidationError

from connectors.base import (
    ConnectorDataError,
    Deletion,
    FetchStats,
    Page,
    SyncWarning,
    TrackerItem,
    TrackerRequestError,
)
from connectors.http import TrackerClient
from connectors.jira import jql
from connectors.jira.mapping import Site, parse_issue, to_item
from connectors.jira.pipeline import chunked, pipeline
from connectors.jira.schemas import (
    CHANGELOG_PAGE_ADAPTER,
    ID_PAGE_ADAPTER,
    ISSUE_PAGE_ADAPTER,
    History,
    IssueRaw,
    complete,
)
from connectors.jira.site import discover_site
from connectors.pagination import StartAtPaginator, TokenPaginator, decode_json, iter_pages

log = logging.getLogger(__name__)

Deployment = Literal["auto", "cloud", "datacenter"]

FIELDS = (
    "summary",
    "status",
    "issuetype",
    "project",
    "parent",
    "issuelinks",
    "assignee",
    "labels",
    "components",
    "fixVersions",
    "created",
    "updated",
    "resolutiondate",
    "duedate",
    "description",
)
"""Always an explicit list: ``*all`` costs the tracker and us for fields nobody reads."""

ID_PAGE = 5_000
"""Ids per sweep page: the documented maximum when only ``id`` is requested."""
DETAIL_BATCH = 100
"""Issues per ``/issue/bulkfetch``: the limit that holds for every field list."""
NARROW_DETAIL_BATCH = 1_000
"""Issues per ``/issue/bulkfetch`` that newer Cloud sites allow for an explicit, narrow,
single-valued field list like ours; a site that refuses it gets ``DETAIL_BATCH``."""
HISTORY_BATCH = 1_000
"""Issues per ``/changelog/bulkfetch`` (its documented maximum) and per stored page."""
DC_PAGE = 1_000
"""Data Center's default ``jira.search.views.default.max``; a smaller cap is read back."""
DC_WINDOW = 10_000
"""Data Center refuses to page past this many results of one query."""


class JiraConnector:
    """Issues, epics, links and status history of a Jira site's configured projects."""

    kind: ClassVar[str] = "jira"

    def __init__(
        self,
        client: TrackerClient,
        *,
        projects: Sequence[str] = (),
        deployment: Deployment = "auto",
        estimate_field: str | None = None,
        dependency_link_types: Sequence[str] = ("Blocks",),
        chunks_in_flight: int = 4,
    ) -> None:
        self.client = client
        self.source = client.source
        self.stats: FetchStats = client.stats
        self._projects = tuple(projects)
        self._deployment = deployment
        self._estimate_field = estimate_field
        self._link_types = tuple(dependency_link_types)
        # Shared by every project being read: memory and the tracker's load stay the same
        # whether one project or twenty are synced at once.
        self._chunk_slots = asyncio.Semaphore(max(1, chunks_in_flight))
        self._site: tuple[Site, bool] | None = None
        self._detail_batch = NARROW_DETAIL_BATCH
        self._site_lock = asyncio.Lock()

    async def site(self) -> tuple[Site, bool]:
        """The site's field ids and statuses, and whether it is Cloud; asked once."""
        async with self._site_lock:
            if self._site is None:
                self._site = await discover_site(
                    self.client,
                    deployment=self._deployment,
                    estimate_field=self._estimate_field,
                    dependency_link_types=self._link_types,
                )
            return self._site

    async def scopes(self) -> Sequence[str]:
        if self._projects:
            return self._projects
        _, cloud = await self.site()
        if cloud:
            keys = []
            async for body in iter_pages(
                self.client,
                "/rest/api/3/project/search",
                params={"maxResults": 100},
                paginator=StartAtPaginator(values_field="values"),
                decode=decode_json,
            ):
                keys += [p["key"] for p in body.get("values", [])]
            return keys
        response = await self.client.get("/rest/api/2/project")
        return [p["key"] for p in response.json()]

    async def fetch(
        self,
        scope: str,
        since: datetime | None,
        *,
        token: str | None = None,
        after: str | None = None,
    ) -> AsyncIterator[Page]:
        """Issues of a project (updated since ``since``, with an id past ``after``); Jira
        issues no resume token. Pages carry the last id swept as their ``checkpoint``."""
        site, cloud = await self.site()
        after_id = int(after) if after is not None and after.isdigit() else None
        query = jql.issue_query(scope, updated_from=since, after_id=after_id)
        if cloud:
            chunks = _numbered(chunked(self._sweep_ids(query), HISTORY_BATCH))
            loaded = pipeline(
                chunks,
                lambda chunk: self._load_chunk(chunk, site, scope),
                slots=self._chunk_slots,
            )
            async for page in _in_sweep_order(loaded):
                yield page
        else:
            async for page in self._search_dc(scope, site, since=since, after=after_id):
                yield page

    async def census(self, scope: str) -> frozenset[str]:
        """Every issue id in the project now: ids only, the largest pages the API gives."""
        _, cloud = await self.site()
        if cloud:
            sweep = self._sweep_ids(jql.issue_query(scope))
            return frozenset([i async for batch in sweep for i in batch])
        ids: set[str] = set()
        async for response, _ in self._dc_pages(scope, fields=["id"], expand=False, since=None):
            ids.update(i["id"] for i in ID_PAGE_ADAPTER.validate_json(response.content)["issues"])
        return frozenset(ids)

    async def fetch_items(self, keys: Sequence[str]) -> Page:
        """The current state of named issues (keys or ids, a moved issue's old key too).

        An id the site no longer has comes back as a deletion. A missing key cannot: Jira
        does not say which id it had, so it is only left out.
        """
        site, cloud = await self.site()
        if cloud:
            chunks = [list(keys[i : i + HISTORY_BATCH]) for i in range(0, len(keys), HISTORY_BATCH)]
            pages = [await self._load(chunk, site, "*") for chunk in chunks]
            page = Page(
                "*",
                [i for p in pages for i in p.items],
                warnings=[w for p in pages for w in p.warnings],
            )
        else:
            found = await asyncio.gather(*(self._get_dc_issue(key, site) for key in keys))
            page = _page(
                "*", [issue for issue in found if issue is not None], [], site, histories=None
            )
        return _with_deletions(page, keys, self.source)

    async def _sweep_ids(self, query: str) -> AsyncIterator[list[str]]:
        async for page in iter_pages(
            self.client,
            "/rest/api/3/search/jql",
            method="POST",
            json={"jql": query, "fields": ["id"], "maxResults": ID_PAGE},
            paginator=TokenPaginator(),
            decode=ID_PAGE_ADAPTER.validate_json,
        ):
            yield [i["id"] for i in page["issues"]]

    async def _load_chunk(
        self, chunk: tuple[int, list[str]], site: Site, scope: str
    ) -> tuple[int, str, Page]:
        number, ids = chunk
        return number, ids[-1], await self._load(ids, site, scope)

    async def _load(self, ids: list[str], site: Site, scope: str) -> Page:
        """Details and status history of up to a thousand issues, fetched in parallel."""
        details, histories = await asyncio.gather(self._details(ids, site), self._changelogs(ids))
        issues = [issue for batch, _ in details for issue in batch]
        warnings = [warning for _, batch in details for warning in batch]
        return _page(scope, issues, warnings, site, histories=histories)

    async def _details(
        self, ids: list[str], site: Site
    ) -> list[tuple[list[IssueRaw], list[SyncWarning]]]:
        """Bulk-fetch details, a thousand a call where the site allows it, else a hundred."""
        size = self._detail_batch
        batches = [ids[i : i + size] for i in range(0, len(ids), size)]
        try:
            return list(await asyncio.gather(*(self._bulkfetch(b, site) for b in batches)))
        except TrackerRequestError as exc:
            if exc.status_code != 400 or size <= DETAIL_BATCH:
                raise
            log.info(
                "%s: bulk fetch refused %d issues a call; using %d", self.source, size, DETAIL_BATCH
            )
            self._detail_batch = DETAIL_BATCH
            return await self._details(ids, site)

    async def _bulkfetch(
        self, ids: list[str], site: Site
    ) -> tuple[list[IssueRaw], list[SyncWarning]]:
        response = await self.client.post(
            "/rest/api/3/issue/bulkfetch",
            json={"issueIdsOrKeys": ids, "fields": [*FIELDS, *site.custom_field_ids]},
        )
        return _parse_issues(response, self.source)

    async def _changelogs(self, ids: list[str]) -> dict[str, list[History]]:
        found: dict[str, list[History]] = {i: [] for i in ids}
        async for page in iter_pages(
            self.client,
            "/rest/api/3/changelog/bulkfetch",
            method="POST",
            json={"issueIdsOrKeys": ids, "fieldIds": ["status"], "maxResults": 1000},
            paginator=TokenPaginator(),
            decode=CHANGELOG_PAGE_ADAPTER.validate_json,
        ):
            for log in page["issueChangeLogs"]:
                found.setdefault(log["issueId"], []).extend(log["changeHistories"])
        return found

    async def _search_dc(
        self, scope: str, site: Site, *, since: datetime | None, after: int | None = None
    ) -> AsyncIterator[Page]:
        fields = [*FIELDS, *site.custom_field_ids]
        pages = self._dc_pages(scope, fields=fields, expand=True, since=since, after=after)
        async for response, last_id in pages:
            issues, warnings = _parse_issues(response, self.source)
            cut = [i["id"] for i in issues if not _has_full_history(i)]
            fuller = await asyncio.gather(*(self._get_dc_issue(key, site) for key in cut))
            replaced = {issue["id"]: issue for issue in fuller if issue is not None}
            issues = [replaced.get(issue["id"], issue) for issue in issues]
            page = _page(scope, issues, warnings, site, histories=None)
            yield replace(page, checkpoint=str(last_id))

    async def _dc_pages(
        self,
        scope: str,
        *,
        fields: list[str],
        expand: bool,
        since: datetime | None,
        after: int | None = None,
    ) -> AsyncIterator[tuple[httpx.Response, int]]:
        """Pages of one project's search (and each page's last id), ascending id, restarted
        past the last id seen before the result window closes (keyset paging also
        survives concurrent edits)."""
        while True:
            query = jql.issue_query(scope, updated_from=since, after_id=after)
            body: dict[str, Any] = {"jql": query, "fields": fields, "maxResults": DC_PAGE}
            if expand:
                body["expand"] = ["changelog"]
            paginator = StartAtPaginator()
            while True:
                response = await self.client.post("/rest/api/2/search", json=body)
                id_page = ID_PAGE_ADAPTER.validate_json(response.content)
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

    async def _get_dc_issue(self, key: str, site: Site) -> IssueRaw | None:
        try:
            response = await self.client.get(
                f"/rest/api/2/issue/{key}",
                params={
                    "fields": ",".join([*FIELDS, *site.custom_field_ids]),
                    "expand": "changelog",
                },
            )
        except TrackerRequestError as exc:
            if exc.status_code == 404:
                return None
            raise
        return parse_issue(response.json(), self.source)


async def _numbered(chunks: AsyncIterator[list[str]]) -> AsyncIterator[tuple[int, list[str]]]:
    number = 0
    async for chunk in chunks:
        yield number, chunk
        number += 1


async def _in_sweep_order(loaded: AsyncIterator[tuple[int, str, Page]]) -> AsyncIterator[Page]:
    """Pages as they finish loading, each carrying the furthest id up to which every
    chunk of the sweep has been handed out (chunks finish out of order)."""
    swept: dict[int, str] = {}
    following = 0
    async for number, last_id, page in loaded:
        swept[number] = last_id
        checkpoint = None
        while following in swept:
            checkpoint = swept.pop(following)
            following += 1
        yield replace(page, checkpoint=checkpoint) if checkpoint is not None else page


def _with_deletions(page: Page, asked: Sequence[str], source: str) -> Page:
    """``page`` plus a deletion for every asked-for id that did not come back.

    A page with warnings gets none: a malformed issue came back under its key, and an
    issue that exists must never be tombstoned because it could not be read.
    """
    if page.warnings:
        return page
    present = {i.external_id for i in page.items}
    now = datetime.now(UTC)
    gone = [Deletion(source, key, now) for key in asked if key.isdigit() and key not in present]
    return replace(page, deletions=[*page.deletions, *gone])


def _has_full_history(issue: IssueRaw) -> bool:
    changelog = issue.get("changelog")
    return changelog is not None and complete(changelog)


def _parse_issues(
    response: httpx.Response, source: str
) -> tuple[list[IssueRaw], list[SyncWarning]]:
    """A page's issues, parsed straight from bytes; issue by issue only if one is broken."""
    try:
        return ISSUE_PAGE_ADAPTER.validate_json(response.content)["issues"], []
    except ValidationError:
        pass
    issues: list[IssueRaw] = []
    warnings: list[SyncWarning] = []
    body = response.json()
    for raw in (body.get("issues") if isinstance(body, dict) else None) or []:
        try:
            issues.append(parse_issue(raw, source))
        except ConnectorDataError as exc:
            warnings.append(SyncWarning(exc.key, exc.reason))
    return issues, warnings


def _page(
    scope: str,
    issues: Sequence[IssueRaw],
    warnings: list[SyncWarning],
    site: Site,
    *,
    histories: dict[str, list[History]] | None,
) -> Page:
    """Map a batch; an issue that cannot be mapped becomes a warning and the rest go on."""
    items: list[TrackerItem] = []
    for issue in issues:
        try:
            found = None if histories is None else histories.get(issue["id"], [])
            items.append(to_item(issue, site, found))
        except ConnectorDataError as exc:
            warnings.append(SyncWarning(exc.key, exc.reason))
    return Page(scope, items, warnings=warnings)
