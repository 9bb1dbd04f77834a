"""Queries and the one write path for tracker records. Nothing here commits.

Every write of tracker data goes through ``save_page`` (pulls and webhooks alike), whose
upserts are bulk, idempotent and **newer-wins**: a record whose tracker ``updated`` time is
older than the stored one changes nothing, so pulls and pushes may arrive in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from app.store import bulk
from app.store.tables import (
    ItemRow,
    LinkRow,
    ProjectRow,
    ProjectStatusRow,
    SourceRow,
    SyncRunRow,
    SyncStateRow,
    TransitionRow,
)
from connectors.base import Deletion, Page, SyncWarning, TrackerItem
from connectors.base import ProjectStatus as ProjectStatusRecord
from vocabulary import RunMode, RunStatus

T = TypeVar("T")

# Rows per statement: far below SQLite's 32,766 bound parameters and PostgreSQL's 65,535
# for the widest table, and large enough that round trips do not dominate.
BATCH_ROWS = 500


@dataclass(slots=True)
class WriteCounts:
    items: int = 0
    links: int = 0
    transitions: int = 0
    deleted: int = 0

    def add(self, other: WriteCounts) -> None:
        self.items += other.items
        self.links += other.links
        self.transitions += other.transitions
        self.deleted += other.deleted


def _chunks(rows: Sequence[T], size: int = BATCH_ROWS) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which carries ``on_conflict_do_*`` on both databases."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_insert = dialect_insert

_ANALYZED = (ItemRow.__tablename__, TransitionRow.__tablename__, LinkRow.__tablename__)


async def refresh_statistics(session: AsyncSession) -> bool:
    """On PostgreSQL, ``ANALYZE`` the tables a sync fills; ``False`` elsewhere.

    Without statistics (a fresh bulk load, before autovacuum comes round, or with it off)
    the planner takes the tables for one row each and joins the items to their status
    history in a nested loop that aggregates the whole history once per item: seconds per
    roll-up at a few thousand items instead of milliseconds. SQLite needs nothing here.
    """
    if session.get_bind().dialect.name != "postgresql":
        return False
    await session.execute(text(f"ANALYZE {', '.join(_ANALYZED)}"))
    return True


def item_row(source_id: int, item: TrackerItem, now: datetime) -> dict[str, Any]:
    """The row that stores ``item`` (every column but the id), as the upsert binds it."""
    return {
        "source_id": source_id,
        "external_id": item.external_id,
        "key": item.key,
        "url": item.url,
        "title": item.title,
        "kind": str(item.kind),
        "issue_type": item.issue_type,
        "hierarchy_level": item.hierarchy_level,
        "status": item.status,
        "status_category": str(item.status_category),
        "project": item.project,
        "projects": list(item.projects),
        "section": item.section,
        "parent_key": item.parent_key,
        "assignee": item.assignee,
        "assignee_email": item.assignee_email,
        "estimate": item.estimate,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "resolved_at": item.resolved_at,
        "start_on": item.start_on,
        "due_on": item.due_on,
        "labels": list(item.labels),
        "components": list(item.components),
        "fix_versions": list(item.fix_versions),
        "custom_fields": dict(item.custom_fields),
        "deleted": False,
        "deleted_at": None,
        "synced_at": now,
    }


ITEM_COLUMNS = (
    "source_id",
    "external_id",
    "key",
    "url",
    "title",
    "kind",
    "issue_type",
    "hierarchy_level",
    "status",
    "status_category",
    "project",
    "projects",
    "section",
    "parent_key",
    "assignee",
    "assignee_email",
    "estimate",
    "created_at",
    "updated_at",
    "resolved_at",
    "start_on",
    "due_on",
    "labels",
    "components",
    "fix_versions",
    "custom_fields",
    "deleted",
    "deleted_at",
    "synced_at",
)
"""The columns ``item_values`` fills, in its order: every column but the id."""


def item_values(
    source_id: int, item: TrackerItem, now: datetime, *, postgres: bool
) -> tuple[Any, ...]:
    """``item_row`` as the bulk statement binds it, in ``ITEM_COLUMNS`` order: JSON-ready
    values on PostgreSQL, SQLite's own text on SQLite."""
    return item_rows(source_id, [item], now, postgres=postgres)[0]


def item_rows(
    source_id: int, items: Iterable[TrackerItem], now: datetime, *, postgres: bool
) -> list[tuple[Any, ...]]:
    """``item_values`` of many items (hot: one row per stored item), what is the same for
    every row (the sync's time, the converters) worked out once."""
    if postgres:
        stamp: Callable[[datetime | None], Any] = bulk.utc
        day: Callable[[date | None], Any] = _same
        deleted: Any = False
    else:
        stamp, day, deleted = bulk.sqlite_datetime, bulk.sqlite_date, 0
    as_json = bulk.json_text
    empty = as_json([])
    synced = stamp(now)
    return [
        (
            source_id,
            item.external_id,
            item.key,
            item.url,
            item.title,
            str(item.kind),
            item.issue_type,
            item.hierarchy_level,
            item.status,
            str(item.status_category),
            item.project,
            as_json(list(item.projects)) if item.projects else empty,
            item.section,
            item.parent_key,
            item.assignee,
            item.assignee_email,
            item.estimate,
            stamp(item.created_at),
            stamp(item.updated_at),
            stamp(item.resolved_at),
            day(item.start_on),
            day(item.due_on),
            as_json(list(item.labels)) if item.labels else empty,
            as_json(list(item.components)) if item.components else empty,
            as_json(list(item.fix_versions)) if item.fix_versions else empty,
            as_json(dict(item.custom_fields)),
            deleted,
            None,
            synced,
        )
        for item in items
    ]


def _same(value: T) -> T:
    return value


def _bulk_table(session: AsyncSession, table: Any, columns: Sequence[str]) -> bulk.BulkTable:
    postgres = _is_postgres(session)
    key = (table.name, postgres)
    found = _BULK_TABLES.get(key)
    if found is None:
        found = _BULK_TABLES[key] = bulk.BulkTable(table, tuple(columns), postgres)
    return found


_BULK_TABLES: dict[tuple[str, bool], bulk.BulkTable] = {}


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _newer_wins(target: bulk.BulkTable) -> str:
    kept = ("source_id", "external_id")
    assignments = ", ".join(f"{c} = excluded.{c}" for c in target.columns if c not in kept)
    false = "false" if target.postgres else "0"
    return (
        f"ON CONFLICT (source_id, external_id) DO UPDATE SET {assignments} "
        "WHERE excluded.updated_at > item.updated_at "
        f"OR (excluded.updated_at = item.updated_at AND item.deleted IS {false}) "
        "RETURNING external_id"
    )


async def upsert_items(
    session: AsyncSession, source_id: int, items: Sequence[TrackerItem], *, now: datetime
) -> set[str]:
    """Insert or update items, newer-wins; return the external ids that were written.

    An item is written when it is new, strictly newer than the stored row, or exactly as
    new and not deleted (re-applying the same version is harmless; resurrecting a deleted
    item takes a newer version).
    """
    latest: dict[str, TrackerItem] = {}
    for item in items:
        seen = latest.get(item.external_id)
        if seen is None or item.updated_at >= seen.updated_at:
            latest[item.external_id] = item
    if not latest:
        return set()
    target = _bulk_table(session, ItemRow.__table__, ITEM_COLUMNS)
    rows = item_rows(source_id, latest.values(), now, postgres=target.postgres)
    connection = await session.connection()
    return set(await bulk.insert_rows(connection, target, rows, _newer_wins))


def _ignore_duplicates(returning: str | None) -> Callable[[bulk.BulkTable], str]:
    def tail(_: bulk.BulkTable) -> str:
        return "ON CONFLICT DO NOTHING" + (f" RETURNING {returning}" if returning else "")

    return tail


LINK_COLUMNS = (
    "origin_source_id",
    "origin_external_id",
    "origin_updated_at",
    "from_source",
    "from_key",
    "to_source",
    "to_key",
    "kind",
    "link_type",
)
TRANSITION_COLUMNS = (
    "source_id",
    "item_external_id",
    "external_id",
    "at",
    "from_status",
    "to_status",
    "from_category",
    "to_category",
    "author",
)


async def _execute_many(
    session: AsyncSession, stmt: Any, rows: Sequence[dict[str, Any]]
) -> list[Any]:
    """Run one statement over many parameter sets; return the first RETURNING column.

    One cached statement with many parameter sets lets SQLAlchemy batch them into
    multi-row VALUES ("insertmanyvalues") without compiling a new statement per batch.
    """
    connection = await session.connection()
    returned: list[Any] = []
    for chunk in _chunks(rows):
        result = await connection.execute(stmt, list(chunk))
        if result.returns_rows:
            returned.extend(result.scalars())
    return returned


_DELETE_LINKS = (
    "DELETE FROM link USING unnest(%b::text[]) AS given(id) CROSS JOIN LATERAL ("
    "SELECT id FROM link WHERE origin_source_id = %s AND origin_external_id = given.id "
    "OFFSET 0) AS found WHERE link.id = found.id",
    "DELETE FROM link WHERE origin_source_id = ? AND origin_external_id IN {ids}",
)


async def replace_links(session: AsyncSession, source_id: int, items: Iterable[TrackerItem]) -> int:
    """Make each given item's stored links exactly the set its record lists."""
    items = list(items)
    if not items:
        return 0
    connection = await session.connection()
    await bulk.for_each_id(connection, _DELETE_LINKS, (source_id,), [i.external_id for i in items])
    target = _bulk_table(session, LinkRow.__table__, LINK_COLUMNS)
    stamp = bulk.utc if target.postgres else bulk.sqlite_datetime
    rows = [
        (
            source_id,
            item.external_id,
            stamp(item.updated_at),
            link.from_source,
            link.from_key,
            link.to_source,
            link.to_key,
            link.kind,
            link.link_type,
        )
        for item in items
        for link in item.links
    ]
    if rows:
        await bulk.insert_rows(connection, target, rows, _ignore_duplicates(None))
    return len(rows)


async def insert_transitions(
    session: AsyncSession, source_id: int, items: Iterable[TrackerItem]
) -> int:
    """Record status history; a transition already stored (same history id) is left as is."""
    target = _bulk_table(session, TransitionRow.__table__, TRANSITION_COLUMNS)
    stamp = bulk.utc if target.postgres else bulk.sqlite_datetime
    rows = [
        (
            source_id,
            item.external_id,
            t.external_id,
            stamp(t.at),
            t.from_status,
            t.to_status,
            str(t.from_category) if t.from_category else None,
            str(t.to_category) if t.to_category else None,
            t.author,
        )
        for item in items
        for t in item.transitions or ()
    ]
    if not rows:
        return 0
    connection = await session.connection()
    return await bulk.count_inserted(connection, target, rows, _ignore_duplicates(None))


async def mark_deleted(session: AsyncSession, source_id: int, deletions: Sequence[Deletion]) -> int:
    """Tombstone items: they leave every roll-up but keep their row and history."""
    count = 0
    for chunk in _chunks(list(deletions)):
        at = max(d.at for d in chunk)
        result = await session.execute(
            update(ItemRow)
            .where(
                ItemRow.source_id == source_id,
                ItemRow.external_id.in_([d.external_id for d in chunk]),
                ItemRow.deleted.is_(False),
            )
            .values(deleted=True, deleted_at=at)
            .returning(ItemRow.id)
        )
        count += len(result.all())
    return count


async def undelete(session: AsyncSession, source_id: int, external_ids: Iterable[str]) -> int:
    """Lift tombstones the tracker took back (a task restored from the trash)."""
    count = 0
    for chunk in _chunks(sorted(external_ids)):
        result = await session.execute(
            update(ItemRow)
            .where(
                ItemRow.source_id == source_id,
                ItemRow.external_id.in_(chunk),
                ItemRow.deleted.is_(True),
            )
            .values(deleted=False, deleted_at=None)
            .returning(ItemRow.id)
        )
        count += len(result.all())
    return count


async def lift_tombstones(
    session: AsyncSession, source_id: int, external_ids: Iterable[str], *, before: datetime
) -> int:
    """Lift tombstones set before ``before`` from items the tracker has just returned.

    An item read from the tracker after it was tombstoned exists, whatever its ``updated``:
    the tombstone came from a read that fell short. A tombstone set after the read began
    (a deletion that arrived meanwhile) stands.
    """
    connection = await session.connection()
    before_bound = bulk.utc(before) if _is_postgres(session) else bulk.sqlite_datetime(before)
    ids = sorted(set(external_ids))
    return await bulk.for_each_id(connection, _LIFT_TOMBSTONES, (source_id, before_bound), ids)


_LIFT_TOMBSTONES = (
    "UPDATE item SET deleted = false, deleted_at = NULL FROM unnest(%b::text[]) AS given(id) "
    "CROSS JOIN LATERAL (SELECT id FROM item WHERE source_id = %s AND external_id = given.id "
    "OFFSET 0) AS found WHERE item.id = found.id AND item.deleted IS true "
    "AND (item.deleted_at IS NULL OR item.deleted_at < %s) RETURNING item.id",
    "UPDATE item SET deleted = 0, deleted_at = NULL WHERE source_id = ? AND deleted IS 1 "
    "AND (deleted_at IS NULL OR deleted_at < ?) AND external_id IN {ids} RETURNING id",
)


async def upsert_project_statuses(
    session: AsyncSession,
    source_id: int,
    statuses: Sequence[ProjectStatusRecord],
    *,
    now: datetime,
) -> int:
    """Keep each project's latest status update: an older one than stored changes nothing."""
    latest: dict[str, ProjectStatusRecord] = {}
    for status in statuses:
        seen = latest.get(status.project)
        if seen is None or status.posted_at >= seen.posted_at:
            latest[status.project] = status
    rows = [
        {
            "source_id": source_id,
            "project": s.project,
            "project_name": s.project_name,
            "external_id": s.external_id,
            "status_type": s.status_type,
            "color": s.color,
            "title": s.title,
            "text": s.text,
            "author": s.author,
            "posted_at": s.posted_at,
            "synced_at": now,
        }
        for s in latest.values()
    ]
    if not rows:
        return 0
    stmt = _insert(session, ProjectStatusRow.__table__)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_id", "project"],
        set_={c: excluded[c] for c in rows[0] if c not in ("source_id", "project")},
        where=excluded.posted_at >= ProjectStatusRow.posted_at,
    ).returning(ProjectStatusRow.id)
    return len(await _execute_many(session, stmt, rows))


async def upsert_project_names(
    session: AsyncSession,
    source_id: int,
    names: Iterable[tuple[str, str | None]],
    *,
    now: datetime,
) -> int:
    """Remember what each project is called (the last name read wins)."""
    latest = {project: name for project, name in names if project and name}
    rows = [
        {"source_id": source_id, "project": project, "name": name, "updated_at": now}
        for project, name in sorted(latest.items())
    ]
    if not rows:
        return 0
    stmt = _insert(session, ProjectRow.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_id", "project"],
        set_={"name": stmt.excluded.name, "updated_at": stmt.excluded.updated_at},
    ).returning(ProjectRow.id)
    return len(await _execute_many(session, stmt, rows))


async def project_names(session: AsyncSession) -> dict[str, str]:
    """Every known project's name, by ``source/project``: what the trackers call them, and
    the names their status updates gave for projects no listing named yet."""
    found = {
        f"{s}/{p}": name
        for s, p, name in await session.execute(
            select(SourceRow.name, ProjectStatusRow.project, ProjectStatusRow.project_name).join(
                SourceRow, SourceRow.id == ProjectStatusRow.source_id
            )
        )
        if name
    }
    rows = await session.execute(
        select(SourceRow.name, ProjectRow.project, ProjectRow.name).join(
            SourceRow, SourceRow.id == ProjectRow.source_id
        )
    )
    found.update({f"{s}/{p}": name for s, p, name in rows})
    return found


async def list_project_statuses(
    session: AsyncSession, source_id: int
) -> Sequence[ProjectStatusRow]:
    """The latest status of each of the source's projects that has one."""
    return (
        await session.scalars(
            select(ProjectStatusRow)
            .where(ProjectStatusRow.source_id == source_id)
            .order_by(ProjectStatusRow.project)
        )
    ).all()


async def save_page(
    session: AsyncSession,
    source_id: int,
    page: Page,
    *,
    now: datetime,
    read_after: datetime | None = None,
) -> WriteCounts:
    """Store one page of records: items, then the links and history of those that won.

    ``read_after`` says the page was read from the tracker after that instant (a pull, not
    a webhook's payload): its items then lift tombstones set before it.
    """
    written = await upsert_items(session, source_id, page.items, now=now)
    if read_after is not None:
        await lift_tombstones(
            session, source_id, [i.external_id for i in page.items], before=read_after
        )
    applied = [i for i in page.items if i.external_id in written]
    counts = WriteCounts(
        items=len(written),
        links=await replace_links(session, source_id, applied),
        transitions=await insert_transitions(
            session, source_id, [i for i in page.items if i.transitions is not None]
        ),
        deleted=await mark_deleted(session, source_id, page.deletions),
    )
    await upsert_project_statuses(session, source_id, page.statuses, now=now)
    named = [*page.project_names, *((s.project, s.project_name) for s in page.statuses)]
    await upsert_project_names(session, source_id, named, now=now)
    return counts


def is_record_fault(exc: BaseException) -> bool:
    """Whether a failed write is the data's fault (a value the database refuses: out of
    range, not encodable) rather than the database's (gone, locked, out of connections)."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError):
        return False
    return isinstance(exc, StatementError | UnicodeError | OverflowError | ValueError | TypeError)


async def save_page_each(
    session: AsyncSession,
    source_id: int,
    page: Page,
    *,
    now: datetime,
    read_after: datetime | None = None,
) -> tuple[WriteCounts, list[SyncWarning]]:
    """``save_page`` record by record, each in a savepoint of the caller's transaction.

    For a page whose bulk write the database refused: a record it still cannot store is
    left out with a warning naming it, and every other record of the page is stored. An
    error that is the database's, not a record's, is raised.
    """
    counts, warnings = WriteCounts(), []
    parts: list[tuple[str, Page]] = [
        (item.key, Page(page.scope, items=[item])) for item in page.items
    ]
    parts += [(d.external_id, Page(page.scope, deletions=[d])) for d in page.deletions]
    parts += [(s.project, Page(page.scope, statuses=[s])) for s in page.statuses]
    for key, part in parts:
        try:
            async with session.begin_nested():
                counts.add(
                    await save_page(session, source_id, part, now=now, read_after=read_after)
                )
        except Exception as exc:
            if not is_record_fault(exc):
                raise
            warnings.append(SyncWarning(key, f"could not be stored: {_reason(exc)}"))
    return counts, warnings


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"[:300]


async def list_live_external_ids(
    session: AsyncSession, source_id: int, *, project: str | None = None
) -> set[str]:
    """External ids of the source's items that are not deleted (optionally one project's)."""
    stmt = select(ItemRow.external_id).where(
        ItemRow.source_id == source_id, ItemRow.deleted.is_(False)
    )
    if project is not None:
        stmt = stmt.where(ItemRow.project == project)
    return set(await session.scalars(stmt))


async def list_deleted_external_ids(session: AsyncSession, source_id: int) -> set[str]:
    """External ids of the source's tombstoned items."""
    stmt = select(ItemRow.external_id).where(
        ItemRow.source_id == source_id, ItemRow.deleted.is_(True)
    )
    return set(await session.scalars(stmt))


async def list_live_in_scope(session: AsyncSession, source_id: int, scope: str) -> dict[str, str]:
    """External id → key of the source's live items that belong to ``scope``.

    An item belongs to every project it is in (``projects``), not just its home project,
    so a multi-homed item is a member of each.
    """
    rows = await session.execute(
        select(ItemRow.external_id, ItemRow.key, ItemRow.project, ItemRow.projects).where(
            ItemRow.source_id == source_id, ItemRow.deleted.is_(False)
        )
    )
    return {
        external_id: key
        for external_id, key, project, projects in rows
        if project == scope or scope in (projects or ())
    }


async def get_sync_state(session: AsyncSession, source_id: int, scope: str) -> SyncStateRow | None:
    return await session.scalar(
        select(SyncStateRow).where(SyncStateRow.source_id == source_id, SyncStateRow.scope == scope)
    )


async def list_sync_states(session: AsyncSession, source_id: int) -> Sequence[SyncStateRow]:
    return (
        await session.scalars(select(SyncStateRow).where(SyncStateRow.source_id == source_id))
    ).all()


async def advance_cursor(
    session: AsyncSession,
    source_id: int,
    scope: str,
    cursor_at: datetime | None,
    *,
    run_started_at: datetime,
    status: RunStatus = RunStatus.SUCCEEDED,
    error: str | None = None,
    token: str | None = None,
) -> SyncStateRow:
    """Record a scope's run in the caller's transaction; the cursor never moves backwards.

    Call it in the same transaction as the rows the cursor covers: if that transaction
    fails, the cursor stays where it was and the next run repeats the window.
    """
    state = await get_sync_state(session, source_id, scope)
    if state is None:
        state = SyncStateRow(source_id=source_id, scope=scope)
        session.add(state)
    if cursor_at is not None and (state.cursor_at is None or cursor_at > state.cursor_at):
        state.cursor_at = cursor_at
    if token is not None:
        state.token = token
    state.last_run_started_at = run_started_at
    state.last_run_status = status
    state.last_error = error
    if status == RunStatus.SUCCEEDED:
        # The listing reached its end: nothing is left to resume.
        state.checkpoint = state.checkpoint_since = state.checkpoint_started_at = None
    await session.flush()
    return state


async def save_checkpoint(
    session: AsyncSession,
    source_id: int,
    scope: str,
    checkpoint: str,
    *,
    since: datetime | None,
    started_at: datetime,
) -> None:
    """Record how far a listing of ``scope`` got, in the transaction of the rows it covers."""
    state = await get_sync_state(session, source_id, scope)
    if state is None:
        state = SyncStateRow(source_id=source_id, scope=scope)
        session.add(state)
    state.checkpoint = checkpoint[:64]
    state.checkpoint_since, state.checkpoint_started_at = since, started_at
    await session.flush()


async def get_source(session: AsyncSession, name: str) -> SourceRow | None:
    return await session.scalar(select(SourceRow).where(SourceRow.name == name))


async def count_items(session: AsyncSession, source_id: int, *, deleted: bool = False) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ItemRow)
            .where(ItemRow.source_id == source_id, ItemRow.deleted.is_(deleted))
        )
        or 0
    )


async def upsert_source(
    session: AsyncSession,
    *,
    name: str,
    kind: str,
    base_url: str,
    options: Mapping[str, Any],
    now: datetime,
) -> SourceRow:
    """Create or refresh the row of a configured source (the configuration is the truth)."""
    source = await get_source(session, name)
    if source is None:
        source = SourceRow(name=name, kind=kind, base_url=base_url, created_at=now)
        session.add(source)
    source.kind, source.base_url, source.options, source.updated_at = (
        kind,
        base_url,
        dict(options),
        now,
    )
    await session.flush()
    return source


async def get_last_run(
    session: AsyncSession, source_id: int, *, statuses: Sequence[str] | None = None
) -> SyncRunRow | None:
    """The source's most recent pull (not census), optionally only one that ended so."""
    stmt = select(SyncRunRow).where(
        SyncRunRow.source_id == source_id, SyncRunRow.mode != RunMode.CENSUS
    )
    if statuses is not None:
        stmt = stmt.where(SyncRunRow.status.in_(list(statuses)))
    return await session.scalar(
        stmt.order_by(SyncRunRow.started_at.desc(), SyncRunRow.id.desc()).limit(1)
    )


async def list_sync_runs(
    session: AsyncSession, *, source_id: int | None = None, limit: int = 50
) -> Sequence[tuple[SyncRunRow, str]]:
    """Recent runs, newest first, each with its source's name."""
    stmt = select(SyncRunRow, SourceRow.name).join(SourceRow, SourceRow.id == SyncRunRow.source_id)
    if source_id is not None:
        stmt = stmt.where(SyncRunRow.source_id == source_id)
    stmt = stmt.order_by(SyncRunRow.started_at.desc(), SyncRunRow.id.desc()).limit(limit)
    return [(run, name) for run, name in (await session.execute(stmt)).all()]
