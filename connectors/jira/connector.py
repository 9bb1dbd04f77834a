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
from typing import ClassVar, Literal

from connectors.base import (
    ConnectorDataError,
    Deletion,
    FetchStats,
    Page,
    SyncWarning,
    TrackerItem,
)
from connectors.http import TrackerClient
from connectors.jira import datacenter, jql
from connectors.jira.bulk import BulkReader
from connectors.jira.mapping import Site, to_item
from connectors.jira.pipeline import chunked, pipeline
from connectors.jira.schemas import History, IssueRaw, decode_changelogs, decode_ids
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
HISTORY_BATCH = 1_000
"""Issues per ``/changelog/bulkfetch`` (its documented maximum) and per stored page."""
MAP_SLICE = 100
"""Issues mapped between two turns of the event loop."""


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
        self._site_lock = asyncio.Lock()
        self._bulk = BulkReader(client)

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
        if cloud:
            query = jql.issue_query(scope, updated_from=since, after_id=after_id)
            loaded = pipeline(
                _numbered(chunked(self._sweep_ids(query), HISTORY_BATCH)),
                lambda chunk: self._load_chunk(chunk, site, scope),
                slots=self._chunk_slots,
            )
            async for page in _in_sweep_order(loaded):
                yield page
        else:
            async for page in self._search_dc(scope, site, since=since, after=after_id):
                yield page

    async def census(self, scope: str) -> frozenset[str]:
        """Every issue id in the project now: ids only, the largest pages the API gives.

        Search is eventually consistent, so an issue created moments ago may be missing
        here: the caller re-reads missing ids by id (``fetch_items``) before deleting.
        """
        _, cloud = await self.site()
        if cloud:
            sweep = self._sweep_ids(jql.issue_query(scope))
            return frozenset([i async for batch in sweep for i in batch])
        ids: set[str] = set()
        pages = datacenter.pages(self.client, scope, fields=["id"], expand=False, since=None)
        async for response, _ in pages:
            ids.update(i["id"] for i in decode_ids(response.content)["issues"])
        return frozenset(ids)

    async def fetch_items(self, keys: Sequence[str]) -> Page:
        """The current state of named issues (ids or keys, a moved issue's old key too).

        Reads by id are consistent (no search index in between). An issue the site answers
        404 for, asked by id, comes back as a deletion, and so does one that moved out of
        every configured project. A missing key cannot: Jira does not say which id it had.
        """
        site, cloud = await self.site()
        if cloud:
            chunks = [list(keys[i : i + HISTORY_BATCH]) for i in range(0, len(keys), HISTORY_BATCH)]
            pages = [await self._load(chunk, site, "*") for chunk in chunks]
            page = Page(
                "*",
                [i for p in pages for i in p.items],
                [d for p in pages for d in p.deletions],
                [w for p in pages for w in p.warnings],
            )
        else:
            fields = [*FIELDS, *site.custom_field_ids]
            found = await asyncio.gather(
                *(datacenter.get_issue(self.client, key, fields) for key in keys)
            )
            page = _page("*", [issue for issue in found if issue is not None], [], site, None)
            gone = [k for k, issue in zip(keys, found, strict=True) if issue is None]
            page = Page("*", page.items, _deletions(gone, self.source), page.warnings)
        return self._within_projects(page)

    def _within_projects(self, page: Page) -> Page:
        """Items that left every configured project become deletions, as a census would."""
        if not self._projects:
            return page
        kept = [i for i in page.items if i.project in self._projects]
        left = [i.external_id for i in page.items if i.project not in self._projects]
        deletions = [*page.deletions, *_deletions(left, self.source)]
        return Page(page.scope, kept, deletions, page.warnings)

    async def _sweep_ids(self, query: str) -> AsyncIterator[list[str]]:
        async for page in iter_pages(
            self.client,
            "/rest/api/3/search/jql",
            method="POST",
            json={"jql": query, "fields": ["id"], "maxResults": ID_PAGE},
            paginator=TokenPaginator(),
            decode=decode_ids,
        ):
            yield [i["id"] for i in page["issues"]]

    async def _load_chunk(
        self, chunk: tuple[int, list[str]], site: Site, scope: str
    ) -> tuple[int, str, Page]:
        number, ids = chunk
        return number, ids[-1], await self._load(ids, site, scope)

    async def _load(self, ids: list[str], site: Site, scope: str) -> Page:
        """Details and status history of up to a thousand issues, fetched in parallel.

        Every asked-for id ends as an item, a warning, or (confirmed by a 404) a deletion.
        """
        fields = [*FIELDS, *site.custom_field_ids]
        details, histories = await asyncio.gather(
            self._bulk.read(ids, fields), self._changelogs(ids)
        )
        items: list[TrackerItem] = []
        warnings = details.warnings
        for start in range(0, len(details.issues), MAP_SLICE):
            # Mapping a thousand issues at once would hold the event loop for a tenth of
            # a second, and the requests due meanwhile would lose their turn at the rate.
            await asyncio.sleep(0)
            part = _page(scope, details.issues[start : start + MAP_SLICE], [], site, histories)
            items += part.items
            warnings += part.warnings
        return Page(scope, items, _deletions(details.gone, self.source), warnings)

    async def _changelogs(self, ids: list[str]) -> dict[str, list[History]]:
        found: dict[str, list[History]] = {i: [] for i in ids}
        async for page in iter_pages(
            self.client,
            "/rest/api/3/changelog/bulkfetch",
            method="POST",
            json={"issueIdsOrKeys": ids, "fieldIds": ["status"], "maxResults": 1000},
            paginator=TokenPaginator(),
            decode=decode_changelogs,
        ):
            for log in page["issueChangeLogs"]:
                found.setdefault(log["issueId"], []).extend(log["changeHistories"])
        return found

    async def _search_dc(
        self, scope: str, site: Site, *, since: datetime | None, after: int | None = None
    ) -> AsyncIterator[Page]:
        fields = [*FIELDS, *site.custom_field_ids]
        async for issues, warnings, last_id in datacenter.search(
            self.client, scope, site, fields, since=since, after=after
        ):
            page = _page(scope, issues, warnings, site, None)
            yield replace(page, checkpoint=str(last_id))


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


def _deletions(ids: Sequence[str], source: str) -> list[Deletion]:
    """Deletions of issues the site confirmed gone; only ids name a stored issue."""
    now = datetime.now(UTC)
    return [Deletion(source, i, now) for i in ids if i.isdigit()]


def _page(
    scope: str,
    issues: Sequence[IssueRaw],
    warnings: list[SyncWarning],
    site: Site,
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
