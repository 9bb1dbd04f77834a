"""Asana status history through the real connector, over HTTP to the fake, into the store.

The expectations come from the fake's own stories, not through the connector's mapping.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.store.engine import session_scope
from app.store.tables import SyncStateRow, TransitionRow
from connectors.base import WarningKind
from tests.connectors.asana.conftest import Harness
from vocabulary import StatusCategory


async def transitions(asana: Harness) -> dict[str, list[TransitionRow]]:
    async with session_scope(asana.sessionmaker) as session:
        rows = await session.scalars(
            select(TransitionRow)
            .where(TransitionRow.source_id == asana.source_id)
            .order_by(TransitionRow.at, TransitionRow.id)
        )
        found: dict[str, list[TransitionRow]] = {}
        for row in rows:
            found.setdefault(row.item_external_id, []).append(row)
        return found


async def cursors(asana: Harness) -> dict[str, object]:
    async with session_scope(asana.sessionmaker) as session:
        rows = await session.scalars(
            select(SyncStateRow).where(SyncStateRow.source_id == asana.source_id)
        )
        return {row.scope: row.cursor_at for row in rows}


async def test_a_full_sync_stores_each_section_move_and_completion(asana: Harness) -> None:
    outcome = await asana.sync(full=True)
    assert outcome.status == "succeeded", outcome.errors
    assert outcome.warnings == []
    stored = await transitions(asana)
    world = asana.fake.world
    reopened = 0
    for gid, task in asana.expected().items():
        if task.parent is not None or len(task.memberships) != 1:
            continue
        stories = [world.stories[s] for s in task.stories]
        moves = [s for s in stories if s.resource_subtype == "section_changed"]
        rows = {r.external_id: r for r in stored.get(gid, [])}
        for story in moves:
            row = rows[story.gid]
            assert row.to_status == world.sections[story.new_section or ""].name
            assert row.from_status == world.sections[story.old_section or ""].name
            assert row.at == story.created_at
        if task.completed:
            assert stored[gid][-1].to_category == StatusCategory.DONE, gid
        categories = [r.to_category for r in stored.get(gid, [])]
        if "marked_incomplete" in {s.resource_subtype for s in stories}:
            reopened += 1
            assert categories.count(StatusCategory.DONE) == 2, gid
            assert categories[-1] == StatusCategory.DONE
    assert reopened > 0  # the generated world has re-opened work to show


async def test_a_later_sync_reads_the_stories_of_changed_tasks_only(asana: Harness) -> None:
    await asana.sync(full=True)
    fake, world = asana.fake, asana.fake.world
    project = world.projects[asana.projects[0]]
    gid = next(g for g in project.tasks if not world.tasks[g].completed)
    doing = next(s for s in project.sections if world.sections[s].name == "In progress")
    done = project.sections[-1]
    before = fake.stats["story_listings"]
    world.edit_task(gid, section=doing)
    world.clock.advance(3_600)
    world.edit_task(gid, section=done, completed=True)
    outcome = await asana.sync()
    assert outcome.status == "succeeded", outcome.errors
    # Only what the incremental round listed (the change, and what the cursor's overlap
    # repeats) has its stories read; not every task again.
    read = fake.stats["story_listings"] - before
    assert 1 <= read <= outcome.items_seen < len(asana.expected()) // 4
    rows = (await transitions(asana))[gid]
    assert [(r.to_status, r.to_category) for r in rows[-2:]] == [
        ("In progress", StatusCategory.IN_PROGRESS),
        (world.sections[done].name, StatusCategory.DONE),
    ]
    assert rows[-1].at == world.tasks[gid].completed_at
    # A round that must list everything again (the event stream's token expired) still
    # reads only the histories that changed since the stored cursor.
    fake.expire_sync_tokens()
    world.clock.advance(60)
    world.edit_task(gid, section=doing, completed=False)
    before = fake.stats["story_listings"]
    outcome = await asana.sync()
    assert outcome.items_seen >= len(asana.expected())
    assert 1 <= fake.stats["story_listings"] - before < len(asana.expected()) // 4
    assert (await transitions(asana))[gid][-1].to_category == StatusCategory.IN_PROGRESS


async def test_the_periodic_full_listing_reads_only_recent_histories(asana: Harness) -> None:
    await asana.sync(full=True)
    fake, world = asana.fake, asana.fake.world
    project = world.projects[asana.projects[0]]
    gid = next(g for g in project.tasks if not world.tasks[g].completed)
    world.clock.advance(60)
    world.edit_task(gid, section=project.sections[-1], completed=True)
    before = fake.stats["story_listings"]
    outcome = await asana.sync(full=True, history_window=timedelta(days=8))
    assert outcome.status == "succeeded", outcome.errors
    assert outcome.items_seen >= len(asana.expected())
    # The generated history ended months ago: only the task changed since is read.
    assert fake.stats["story_listings"] - before == 1
    assert (await transitions(asana))[gid][-1].to_category == StatusCategory.DONE


async def test_an_unreadable_history_keeps_the_task_warns_and_holds_the_cursor(
    asana: Harness,
) -> None:
    await asana.sync(full=True)
    fake, world = asana.fake, asana.fake.world
    scope = asana.projects[0]
    project = world.projects[scope]
    gid = next(g for g in project.tasks if not world.tasks[g].completed)
    held = (await cursors(asana))[scope]
    world.clock.advance(60)
    world.edit_task(gid, name="Renamed while its history is unreadable")
    world.edit_task(gid, section=project.sections[-1], completed=True)
    fake.faults.story_errors = [gid]
    outcome = await asana.sync()
    assert [(w.key, w.kind) for w in outcome.warnings] == [(gid, WarningKind.UNREAD)]
    assert (await asana.stored())[gid].title == "Renamed while its history is unreadable"
    assert (await asana.stored())[gid].status_category == StatusCategory.DONE
    assert (await cursors(asana))[scope] == held
    last = world.stories[world.tasks[gid].stories[-2]]
    assert last.gid not in {r.external_id for r in (await transitions(asana)).get(gid, [])}
    fake.faults.story_errors = []
    outcome = await asana.sync()
    assert outcome.warnings == []
    assert last.gid in {r.external_id for r in (await transitions(asana))[gid]}
    assert (await cursors(asana))[scope] != held


async def test_a_reread_by_gid_carries_the_history(asana: Harness) -> None:
    """What the webhook path and the events' re-reads use: ``fetch_items``."""
    world = asana.fake.world
    project = world.projects[asana.projects[0]]
    gid = next(g for g in project.tasks if world.tasks[g].completed)
    page = await asana.connector().fetch_items([gid])
    (item,) = page.items
    assert item.transitions is not None
    moves = [
        s.gid for s in map(world.stories.get, world.tasks[gid].stories)
        if s is not None and s.resource_subtype == "section_changed"
    ]  # fmt: skip
    assert moves
    assert set(moves) <= {t.external_id for t in item.transitions}
    assert item.transitions[-1].to_category == StatusCategory.DONE
