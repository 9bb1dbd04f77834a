"""The Asana connector: projects as scopes, tasks and subtasks as items, events for deletions.

One round for a project (``fetch``) reads the project's event stream first — so changes
made while the project is listed land in the next round — then lists the project's tasks
through ``GET /tasks?project=`` (the endpoint that documents ``modified_since``), fetches
subtasks only under tasks that have them, re-reads what the events name and the listing
did not return, and ends with the new sync token. When the stream cannot say what changed
(first round, or its token expired), the project is read in full and the round ends with a
census of its ids, so the caller can tombstone what disappeared.

Each task on a board that changed since the cursor (all of them on a first round) also
has its stories read (``GET /tasks/{gid}/stories``, one listing a task), which become its
status history (``history``): a request per changed task, paced like every other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError

from connectors.asana import events, history
from connectors.asana.listing import ListingTooLarge, as_completed, iter_records, list_all
from connectors.asana.mapping import (
    Home,
    MappingRules,
    home_of,
    project_names,
    section_categories,
    to_item,
    to_status,
)
from connectors.asana.schemas import Named, PortfolioItem, StatusUpdate, Story, Task
from connectors.base import (
    ConnectorDataError,
    ConnectorError,
    Deletion,
    FetchStats,
    Page,
    ProjectStatus,
    SyncWarning,
    TrackerAuthError,
    TrackerItem,
    TrackerRequestError,
    Transition,
    WarningKind,
)
from connectors.http import TrackerClient

log = logging.getLogger(__name__)

TASK_FIELDS = ",".join(
    [
        "name", "resource_subtype", "completed", "completed_at", "approval_status",
        "created_at", "modified_at", "due_on", "due_at", "start_on", "start_at",
        "assignee.name", "assignee.email", "memberships.project.name",
        "memberships.section.name", "projects.name", "parent.name", "num_subtasks",
        "dependencies", "dependents", "custom_fields.name", "custom_fields.type",
        "custom_fields.number_value", "custom_fields.text_value",
        "custom_fields.display_value", "tags.name", "notes", "permalink_url",
    ]
)  # fmt: skip
"""Every field mapping reads, asked for explicitly: Asana's default is a compact record."""

STATUS_FIELDS = "status_type,title,text,created_at,author.name,parent.name"
MAX_SUBTASK_DEPTH = 5
MAX_NESTED_PORTFOLIOS = 50


class AsanaConnector:
    """Reads one Asana workspace's configured projects (listed, or from a team or portfolio)."""

    kind: ClassVar[str] = "asana"

    def __init__(
        self,
        client: TrackerClient,
        *,
        workspace: str,
        projects: Sequence[str] = (),
        team: str | None = None,
        portfolio: str | None = None,
        sections: Mapping[str, Sequence[str]] | None = None,
        estimate_field: str | None = None,
        reference_field: str | None = None,
        max_listings: int = 8,
        status_history: bool = True,
        history_window: timedelta | None = None,
    ) -> None:
        self._client = client
        self.source = client.source
        self.stats: FetchStats = client.stats
        self._workspace = workspace
        self._projects, self._team, self._portfolio = tuple(projects), team, portfolio
        self._rules = MappingRules(
            source=client.source,
            sections=section_categories(sections or {}),
            estimate_field=estimate_field,
            reference_field=reference_field,
        )
        self._max_listings = max_listings
        self._status_history = status_history
        self._history_window = history_window
        self._boards: dict[str, frozenset[str] | None] = {}
        self._histories: dict[str, asyncio.Future[tuple[Transition, ...] | SyncWarning | None]]
        self._histories = {}
        """Histories read in this job, by gid: a task in two projects is read once."""
        self._scopes: tuple[str, ...] | None = None

    async def scopes(self) -> Sequence[str]:
        """The configured projects, those of the team, and those under the portfolio.

        Resolved once per connector (a connector lives for one job), so every round of a
        sync agrees on which projects are in scope.
        """
        if self._scopes is None:
            found = dict.fromkeys(self._projects)
            if self._team:
                params = {"archived": "false", "opt_fields": "name"}
                for record in await list_all(self._client, f"/teams/{self._team}/projects", params):
                    found[Named.model_validate(record).gid] = None
            if self._portfolio:
                found.update(dict.fromkeys(await self._portfolio_projects(self._portfolio)))
            self._scopes = tuple(found)
            self._rules = MappingRules(
                source=self._rules.source,
                scopes=frozenset(self._scopes),
                sections=self._rules.sections,
                estimate_field=self._rules.estimate_field,
                reference_field=self._rules.reference_field,
            )
        return self._scopes

    async def _portfolio_projects(self, root: str) -> list[str]:
        """Projects of a portfolio and of the portfolios nested in it, each visited once."""
        projects: list[str] = []
        pending, seen = [root], {root}
        while pending and len(seen) <= MAX_NESTED_PORTFOLIOS:
            portfolio = pending.pop(0)
            # The compact records carry gid, resource_type and name: no opt_fields needed
            # (resource_type is not among this operation's opt_fields).
            for record in await list_all(self._client, f"/portfolios/{portfolio}/items", {}):
                item = PortfolioItem.model_validate(record)
                if item.resource_type == "portfolio":
                    if item.gid not in seen:
                        seen.add(item.gid)
                        pending.append(item.gid)
                elif item.resource_type in (None, "project"):
                    projects.append(item.gid)
        return projects

    async def fetch(
        self, scope: str, since: datetime | None, *, token: str | None = None
    ) -> AsyncIterator[Page]:
        """One round for a project: status, tasks and subtasks, event-named re-reads, token."""
        await self.scopes()
        changes = await events.read_changes(self._client, scope, token)
        full = since is None or changes.expired
        listed: set[str] = set()
        statuses = await self._latest_status(scope, None if full else since)
        # Subtasks are not in project listings and their edits do not mark the parent
        # modified: a full round lists them all; an incremental one relies on the events
        # for their changes and re-lists only under parents that moved between projects.
        moved = {g for g, action in changes.touched.items() if action in ("added", "removed")}
        expand = None if full else moved
        history_since, named = since, frozenset[str]()
        if since is None and token is not None and not changes.expired:
            # A listing of everything while the event stream is intact (the periodic
            # repair): histories the events say changed, and those of tasks changed
            # within the window (an event can be lost); not every task's again.
            named = frozenset(changes.touched)
            window = self._history_window
            history_since = datetime.now(UTC) - window if window is not None else None
        pages = self._list_project(
            scope, None if full else since, listed, expand, (history_since, named)
        )
        async for page in pages:
            yield Page(
                scope,
                page.items,
                warnings=page.warnings,
                statuses=statuses,
                project_names=page.project_names,
            )
            statuses = []
        if statuses:
            yield Page(scope, statuses=statuses)
        if not full:
            gone = [
                Deletion(self.source, gid, at)
                for gid, at in changes.deleted_at.items()
                if gid not in listed
            ]
            reread = [g for g in changes.touched if g not in listed and g not in changes.deleted_at]
            if gone or reread:
                again = await self.fetch_items(reread)
                yield Page(scope, again.items, [*gone, *again.deletions], again.warnings)
        yield Page(scope, token=changes.token, census=frozenset(listed) if full else None)

    async def census(self, scope: str) -> frozenset[str]:
        """Gids of the project's tasks and of all their subtasks, as Asana lists them now."""
        listed: set[str] = set()
        fields = {"opt_fields": "num_subtasks"}
        async for records in self._project_records(scope, None, fields):
            parents = [r["gid"] for r in records if (r.get("num_subtasks") or 0) > 0]
            listed.update(r["gid"] for r in records)
            async for gids in as_completed(
                (self._subtask_gids(p, 1) for p in parents), limit=self._max_listings
            ):
                listed.update(gids)
        return frozenset(listed)

    async def _subtask_gids(self, parent: str, depth: int) -> list[str]:
        records = await list_all(
            self._client, f"/tasks/{parent}/subtasks", {"opt_fields": "num_subtasks"}
        )
        gids = [r["gid"] for r in records]
        if depth < MAX_SUBTASK_DEPTH:
            for record in records:
                if (record.get("num_subtasks") or 0) > 0:
                    gids += await self._subtask_gids(record["gid"], depth + 1)
        return gids

    async def fetch_items(self, keys: Sequence[str]) -> Page:
        """Re-read tasks by gid: gone (404) or outside every configured project → Deletion."""
        scopes = await self.scopes()
        items: list[TrackerItem] = []
        deletions: list[Deletion] = []
        warnings: list[SyncWarning] = []
        async for gid, outcome in as_completed(
            (self._reread(gid) for gid in dict.fromkeys(keys)), limit=self._max_listings
        ):
            if isinstance(outcome, SyncWarning):
                warnings.append(outcome)
            elif outcome is None:
                deletions.append(Deletion(self.source, gid, datetime.now(UTC)))
            else:
                items.append(outcome)
        items, unread = await self._with_history(items, None)
        return Page(scopes[0] if scopes else "", items, deletions, [*warnings, *unread])

    async def _reread(self, gid: str) -> tuple[str, TrackerItem | SyncWarning | None]:
        raw = await self._get_task(gid, TASK_FIELDS)
        if raw is None:
            return gid, None
        try:
            task = Task.model_validate(raw)
            home = await self._home(task)
            return gid, to_item(task, self._rules, home) if home is not None else None
        except (ValidationError, ConnectorDataError) as exc:
            return gid, SyncWarning(gid, _reason(exc))

    async def _with_history(
        self, items: list[TrackerItem], since: datetime | None, named: frozenset[str] = frozenset()
    ) -> tuple[list[TrackerItem], list[SyncWarning]]:
        """The items, those changed at or after ``since`` (all when None) or ``named`` with
        the status history their stories record.

        A task on no board of its home project (a subtask) has no section to move through:
        its completion time is all its stories could add, and the record has it already,
        so its stories are not read. A task whose stories cannot be read stays as listed,
        its stored history untouched, with a warning: ``UNREAD`` (the scope's cursor
        holds, so the next sync reads them again) unless the token may not read stories.
        """
        wanted = [
            i
            for i in items
            if i.section is not None
            and (since is None or i.updated_at >= since or i.external_id in named)
        ]
        if not self._status_history or not wanted:
            return items, []
        for project in dict.fromkeys(i.project for i in wanted if i.project):
            await self._board(project)
        read: dict[str, TrackerItem] = {}
        warnings: list[SyncWarning] = []
        async for outcome in as_completed(
            (self._history_of(i) for i in wanted), limit=self._max_listings
        ):
            if isinstance(outcome, SyncWarning):
                warnings.append(outcome)
            else:
                read[outcome.external_id] = outcome
        return [read.get(i.external_id, i) for i in items], warnings

    async def _history_of(self, item: TrackerItem) -> TrackerItem | SyncWarning:
        """The item with its history, read once a job: a task in two configured projects
        is listed by both (often at once), and both wait on the same read."""
        reading = self._histories.get(item.external_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read_history(item))
            self._histories[item.external_id] = reading
        # Shielded: a listing that stops early must not cancel a read another one awaits.
        outcome = await asyncio.shield(reading)
        if isinstance(outcome, SyncWarning):
            return outcome
        return item if outcome is None else replace(item, transitions=outcome)

    async def _read_history(self, item: TrackerItem) -> tuple[Transition, ...] | SyncWarning | None:
        """The transitions a task's stories record; None when the task is gone (404)."""
        path = f"/tasks/{item.external_id}/stories"
        try:
            records = await list_all(self._client, path, {"opt_fields": history.STORY_FIELDS})
        except TrackerAuthError as exc:
            reason = f"status history not read (the token needs stories:read): {exc}"
            return SyncWarning(item.key, reason[:500])
        except ConnectorError as exc:
            if isinstance(exc, TrackerRequestError) and exc.status_code == 404:
                return None  # gone since it was listed: the events or the census say so
            reason = f"status history not read, read again next sync: {exc}"
            return SyncWarning(item.key, reason[:500], WarningKind.UNREAD)
        self.stats.extra["story_listings"] = self.stats.extra.get("story_listings", 0) + 1
        try:
            stories = [Story.model_validate(r) for r in records]
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"]))
            return SyncWarning(item.key, f"malformed story: {where}: {first['msg']}"[:500])
        board = self._boards.get(item.project) if item.project else None
        return history.transitions(item, stories, self._rules, board)

    async def _board(self, project: str) -> None:
        """Remember the section gids of a project (once per connector): a section move
        counts only on the home project's board."""
        if project in self._boards:
            return
        try:
            records = await list_all(
                self._client, f"/projects/{project}/sections", {"opt_fields": "name"}
            )
        except TrackerRequestError:
            self._boards[project] = None
            return
        self._boards[project] = frozenset(
            str(r["gid"]) for r in records if isinstance(r, dict) and "gid" in r
        )

    async def _home(self, task: Task) -> Home | None:
        """Where a task is counted, walking up from a subtask; None when out of every scope."""
        current = task
        for _ in range(MAX_SUBTASK_DEPTH + 1):
            home = home_of(current, self._rules)
            if home.project in self._rules.scopes:
                return home
            if current.projects or current.parent is None:
                return None
            raw = await self._get_task(current.parent.gid, "projects,memberships.project,parent")
            if raw is None:
                return None
            current = Task.model_validate({"modified_at": task.modified_at, **raw})
        return None

    async def _get_task(self, gid: str, fields: str) -> dict[str, Any] | None:
        try:
            response = await self._client.get(f"/tasks/{gid}", params={"opt_fields": fields})
        except TrackerRequestError as exc:
            if exc.status_code == 404:
                return None
            raise
        data = response.json().get("data")
        return data if isinstance(data, dict) else None

    async def _latest_status(self, scope: str, since: datetime | None) -> list[ProjectStatus]:
        params: dict[str, Any] = {"parent": scope, "opt_fields": STATUS_FIELDS}
        if since is not None:
            params["created_since"] = _asana_time(since)
        latest: StatusUpdate | None = None
        for record in await list_all(self._client, "/status_updates", params):
            try:
                update = StatusUpdate.model_validate(record)
            except ValidationError:
                continue
            if latest is None or update.created_at > latest.created_at:
                latest = update
        if latest is None:
            return []
        name = latest.parent.name if latest.parent else None
        try:
            return [to_status(latest, scope, name, self.source)]
        except ConnectorDataError:
            return []

    async def _project_records(
        self, scope: str, since: datetime | None, fields: Mapping[str, Any]
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Raw task records of a project, page by page; split by section when too large."""
        params: dict[str, Any] = {"project": scope, **fields}
        if since is not None:
            params["modified_since"] = _asana_time(since)
        try:
            async for records in iter_records(self._client, "/tasks", params):
                yield records
            return
        except ListingTooLarge as exc:
            log.warning(
                "%s: project %s is too large to list (%s); by section", self.source, scope, exc
            )
        sections = await list_all(
            self._client, f"/projects/{scope}/sections", {"opt_fields": "name"}
        )
        del params["project"]
        listings = (
            list_all(self._client, "/tasks", {**params, "section": s["gid"]}) for s in sections
        )
        async for records in as_completed(listings, limit=self._max_listings):
            yield records

    async def _list_project(
        self,
        scope: str,
        since: datetime | None,
        listed: set[str],
        expand: set[str] | None,
        wanted_history: tuple[datetime | None, frozenset[str]],
    ) -> AsyncIterator[Page]:
        """Pages of items of a project with the subtasks of the parents in ``expand`` (all
        when None), with the status history of those ``wanted_history`` names (see
        ``_with_history``); ``listed`` collects every gid seen."""
        async for records in self._project_records(scope, since, {"opt_fields": TASK_FIELDS}):
            items: list[TrackerItem] = []
            warnings: list[SyncWarning] = []
            parents: list[tuple[Task, Home]] = []
            names: dict[str, str] = {}
            for record in records:
                mapped = self._map(record, None)
                if isinstance(mapped, SyncWarning):
                    warnings.append(mapped)
                    continue
                task, item = mapped
                items.append(item)
                names.update(project_names(task))
                if task.num_subtasks > 0 and (expand is None or task.gid in expand):
                    parents.append((task, Home(item.project, item.projects)))
            async for below in as_completed(
                (self._subtasks(t.gid, home, 1) for t, home in parents), limit=self._max_listings
            ):
                for entry in below:
                    if isinstance(entry, SyncWarning):
                        warnings.append(entry)
                    else:
                        items.append(entry)
            items, unread = await self._with_history(items, *wanted_history)
            warnings += unread
            listed.update(i.external_id for i in items)
            listed.update(r["gid"] for r in records if isinstance(r, dict) and "gid" in r)
            yield Page(scope, items, warnings=warnings, project_names=tuple(sorted(names.items())))

    async def _subtasks(
        self, parent: str, home: Home, depth: int
    ) -> list[TrackerItem | SyncWarning]:
        """A task's subtasks and, below those that have some, theirs (a bounded depth)."""
        found: list[TrackerItem | SyncWarning] = []
        params = {"opt_fields": TASK_FIELDS}
        for record in await list_all(self._client, f"/tasks/{parent}/subtasks", params):
            mapped = self._map(record, home)
            if isinstance(mapped, SyncWarning):
                found.append(mapped)
                continue
            task, item = mapped
            found.append(item)
            if task.num_subtasks > 0 and depth < MAX_SUBTASK_DEPTH:
                found += await self._subtasks(
                    task.gid, Home(item.project, item.projects), depth + 1
                )
        return found

    def _map(self, record: Any, inherited: Home | None) -> tuple[Task, TrackerItem] | SyncWarning:
        try:
            task = Task.model_validate(record)
            return task, to_item(task, self._rules, home_of(task, self._rules, inherited))
        except (ValidationError, ConnectorDataError) as exc:
            gid = record.get("gid") if isinstance(record, dict) else None
            return SyncWarning(str(gid or "?")[:64], _reason(exc))


def _asana_time(moment: datetime) -> str:
    """Asana's date-time form: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"malformed task: {'.'.join(map(str, first['loc']))}: {first['msg']}"[:500]
    return str(exc)[:500]
