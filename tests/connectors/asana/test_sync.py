"""The Asana connector against the fake over real HTTP, through the real sync loop and store.

Each story compares the store with the fake's own records after the sync, so a mapping
or paging bug shows as a difference, not as a count that happens to match.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import parse_config
from app.store.engine import session_scope
from app.store.tables import ItemRow, ProjectStatusRow
from app.sync.crosslinks import MENTION, ReferenceResolver
from connectors.fake.asana import FakeAsana, generate
from connectors.fake.asana.data import HOSTILE_NAMES
from connectors.fake.server import serve_in_thread
from tests.connectors.asana.conftest import Harness, expected_title, open_harness
from vocabulary import StatusCategory


def assert_store_equals_fake(stored: dict[str, ItemRow], asana: Harness) -> None:
    expected = asana.expected()
    assert set(stored) == set(expected)
    world = asana.fake.world
    for gid, task in expected.items():
        row = stored[gid]
        assert row.title == expected_title(task.name), gid
        assert row.parent_key == task.parent
        assert set(row.projects) == set(world.top_projects(task))
        assert row.updated_at == task.modified_at
        assert row.labels == [world.tags[t].name for t in task.tags]
        if task.completed:
            assert row.status_category == StatusCategory.DONE


async def test_full_sync_stores_exactly_what_the_fake_holds(asana: Harness) -> None:
    outcome = await asana.sync(full=True)
    assert outcome.status == "succeeded", outcome.errors
    assert outcome.warnings == []
    stored = await asana.stored()
    assert_store_equals_fake(stored, asana)
    world = asana.fake.world
    edges = {(d, gid) for gid, t in asana.expected().items() for d in t.dependencies}
    assert edges <= {(a, b) for a, b, kind in await asana.links() if kind == "dependency"}
    kinds = {row.kind for row in stored.values()}
    assert {"task", "subtask", "milestone"} <= kinds
    points = next(f.gid for f in world.fields.values() if f.type == "number")
    with_points = [g for g, t in asana.expected().items() if points in t.custom]
    assert all(stored[g].estimate == world.tasks[g].custom[points] for g in with_points)


async def test_full_sync_keeps_each_projects_latest_status_update(asana: Harness) -> None:
    await asana.sync(full=True)
    world = asana.fake.world
    async with session_scope(asana.sessionmaker) as session:
        rows = {r.project: r for r in await session.scalars(select(ProjectStatusRow))}
    for project in world.projects.values():
        if not project.status_updates:
            assert project.gid not in rows
            continue
        latest = world.status_updates[project.status_updates[-1]]
        row = rows[project.gid]
        assert (row.external_id, row.status_type, row.text) == (
            latest.gid,
            latest.status_type,
            latest.text,
        )
        assert row.author == world.users[latest.author].name
        assert row.project_name == project.name


async def test_incremental_sync_converges_after_edits_deletes_and_moves(asana: Harness) -> None:
    await asana.sync(full=True)
    fake, world = asana.fake, asana.fake.world
    first, second, third = asana.projects
    edited = world.projects[first].tasks[3]
    doomed = world.projects[second].tasks[4]
    moved = world.projects[first].tasks[5]
    parent = next(g for g in world.projects[third].tasks if world.tasks[g].subtasks)
    child = world.tasks[parent].subtasks[0]
    fake.edit_task(edited, name="Renamed while nobody watched", completed=True)
    fake.delete_task(doomed)
    fake.move_task(moved, second, from_project=first)
    fake.edit_task(child, name="Subtask edits do not touch the parent")
    new = fake.add_task("Brand new", project=third)
    fake.add_task("New subtask", parent=new)

    before = asana.fake.stats["requests"]
    outcome = await asana.sync()
    assert outcome.status == "succeeded", outcome.errors
    stored = await asana.stored()
    assert_store_equals_fake(stored, asana)
    assert stored[edited].status_category == StatusCategory.DONE
    assert stored[moved].projects == [second]
    assert doomed not in stored
    # An incremental round costs a few requests per project, not a re-read.
    assert asana.fake.stats["requests"] - before < 40


async def test_moving_a_task_out_of_every_configured_project_removes_it(asana: Harness) -> None:
    asana.projects = asana.projects[:2]
    await asana.sync(full=True)
    world = asana.fake.world
    leaving = world.projects[asana.projects[0]].tasks[2]
    asana.fake.move_task(leaving, list(world.projects)[2])
    await asana.sync()
    assert leaving not in await asana.stored()


async def test_expired_sync_token_rereads_the_project_and_finds_deletions(asana: Harness) -> None:
    await asana.sync(full=True)
    world = asana.fake.world
    multi = next(g for g, t in world.tasks.items() if len(t.memberships) > 1 and not t.parent)
    home, other = world.tasks[multi].projects[:2]
    doomed = next(g for g in world.projects[home].tasks if g != multi)
    asana.fake.delete_task(doomed)
    asana.fake.move_task(multi, other, from_project=home)
    asana.fake.expire_sync_tokens()
    outcome = await asana.sync()
    assert outcome.status == "succeeded", outcome.errors
    stored = await asana.stored()
    assert doomed not in stored
    assert multi in stored, "a task still in another configured project is not deleted"
    assert_store_equals_fake(stored, asana)


async def test_census_keeps_multi_homed_tasks_and_tombstones_vanished_ones(
    asana: Harness,
) -> None:
    await asana.sync(full=True)
    world = asana.fake.world
    victim = next(g for g in world.projects[asana.projects[1]].tasks if not world.tasks[g].subtasks)
    asana.fake.delete_task(victim, quiet=True)
    outcome = await asana.census()
    assert (outcome.status, outcome.counts.deleted) == ("succeeded", 1)
    assert_store_equals_fake(await asana.stored(), asana)


async def test_expired_offsets_restart_the_listing(asana: Harness) -> None:
    fake = asana.fake
    seen = {"pages": 0}

    async def expire_after_second_page(response: object) -> None:
        request = response.request
        if request.url.path.endswith("/tasks") and "offset" in request.url.params:
            seen["pages"] += 1
            if seen["pages"] == 2:
                fake.expire_offsets()

    asana.http.event_hooks["response"].append(expire_after_second_page)
    outcome = await asana.sync(full=True)
    assert outcome.status == "succeeded", outcome.errors
    assert_store_equals_fake(await asana.stored(), asana)


async def test_a_project_too_large_to_list_is_read_by_section(asana: Harness) -> None:
    asana.fake.faults.too_large = 30
    outcome = await asana.sync(full=True)
    assert outcome.status == "succeeded", outcome.errors
    assert_store_equals_fake(await asana.stored(), asana)


async def test_rate_limits_and_server_errors_are_ridden_out(asana: Harness) -> None:
    faults = asana.fake.faults
    faults.fail_next = [429, 503, 500, 429, 502, 504]
    faults.retry_after = 0
    faults.error_rate = 0.15
    outcome = await asana.sync(full=True)
    assert outcome.status == "succeeded", outcome.errors
    assert asana.fake.stats["errors"] > 0
    async with session_scope(asana.sessionmaker) as session:
        from app.store.tables import SyncRunRow

        run = await session.get_one(SyncRunRow, outcome.run_id)
    assert run.retries > 0
    assert run.rate_limited >= 2
    assert_store_equals_fake(await asana.stored(), asana)


async def test_bad_credentials_stop_the_sync_with_a_clear_message(
    asana: Harness, fake: FakeAsana
) -> None:
    fake.tokens = frozenset({"the-right-token"})
    outcome = await asana.sync(full=True)
    assert outcome.status == "failed"
    assert "refused our credentials" in outcome.errors["*"]
    assert "Not Authorized" in outcome.errors["*"]
    assert "test-token" not in outcome.errors["*"]


@pytest.mark.parametrize("killed_after", [2, 7, 14])
async def test_a_killed_sync_resumes_without_loss_or_duplicates(
    asana: Harness, killed_after: int
) -> None:
    fake = asana.fake
    answered = 0

    async def kill(response: object) -> None:
        nonlocal answered
        answered += 1
        if answered == killed_after:
            running.cancel()

    asana.http.event_hooks["response"].append(kill)
    running = asyncio.create_task(asana.sync(full=True))
    with pytest.raises((asyncio.CancelledError, BaseExceptionGroup)):
        await running
    asana.http.event_hooks["response"].remove(kill)
    fake.edit_task(fake.world.projects[asana.projects[0]].tasks[0], name="Edited in between")
    outcome = await asana.sync()
    assert outcome.status == "succeeded", outcome.errors
    assert_store_equals_fake(await asana.stored(), asana)


async def test_edits_while_syncing_converge_on_the_next_round(asana: Harness) -> None:
    asana.fake.faults.edit_every = 2
    await asana.sync(full=True)
    asana.fake.faults.edit_every = 0
    await asana.sync()
    assert_store_equals_fake(await asana.stored(), asana)


async def test_hostile_names_round_trip(asana: Harness) -> None:
    await asana.sync(full=True)
    titles = {row.title for row in (await asana.stored()).values()}
    for name in HOSTILE_NAMES:
        assert expected_title(name) in titles


async def test_projects_come_from_a_team_or_a_nested_portfolio(asana: Harness) -> None:
    world = asana.fake.world
    team = next(iter(world.teams))
    by_team = asana.connector(projects=(), team=team)
    assert set(await by_team.scopes()) == {p.gid for p in world.projects.values() if p.team == team}
    root = next(p for p in world.portfolios.values() if p.name == "Company roadmap")
    by_portfolio = asana.connector(projects=(), portfolio=root.gid)
    assert set(await by_portfolio.scopes()) == set(world.projects)


async def test_jira_mentions_become_cross_tracker_links(asana: Harness) -> None:
    config = parse_config(
        "server: {auth: none}\nsources:\n"
        "  - {name: jira, kind: jira, url: 'https://acme.atlassian.net',"
        " auth: {token_env: T}, projects: [PAY, WEB]}\n"
        "  - {name: asana, kind: asana, auth: {token_env: A}, workspace: '1'}\n"
    )
    asana.resolver = ReferenceResolver.from_config(config)
    asana.options["reference_field"] = "Jira link"
    await asana.sync(full=True)
    mentions = {(a, b) for a, b, kind in await asana.links() if kind == MENTION}
    jira_keys = {k for pair in mentions for k in pair if "-" in k}
    assert jira_keys, "the fake's tasks mention Jira issues in names, notes and a field"
    assert all(k.split("-")[0] in ("PAY", "WEB") for k in jira_keys)
    blocked = next(g for g, t in asana.expected().items() if t.notes.startswith("Blocked by"))
    key = asana.fake.world.tasks[blocked].notes.split()[2]
    assert (key, blocked) in mentions


@pytest.mark.slow
async def test_twenty_thousand_tasks_sync_exactly(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    big = FakeAsana(generate(20_000, seed=5, projects=40))
    with serve_in_thread(big) as base:
        async with open_harness(big, f"{base}/api/1.0", sessionmaker) as asana:
            outcome = await asana.sync(full=True)
            assert outcome.status == "succeeded", outcome.errors
            assert_store_equals_fake(await asana.stored(), asana)


def a_subtask(asana: Harness) -> str:
    world = asana.fake.world
    return next(g for g, t in sorted(world.tasks.items()) if t.parent is not None)


async def test_a_subtask_change_whose_event_was_lost_is_repaired_by_the_full_listing(
    asana: Harness,
) -> None:
    await asana.sync(full=True)
    await asana.sync()  # every project holds a sync token now
    subtask = a_subtask(asana)
    asana.fake.faults.drop_events = 1
    asana.fake.edit_task(subtask, name="Renamed, and the event was lost")
    assert asana.fake.stats["events_dropped"] == 1
    await asana.sync()
    stored = await asana.stored()
    assert stored[subtask].title != "Renamed, and the event was lost", "nothing told us"
    outcome = await asana.sync(full=True)  # what the weekly full listing runs
    assert outcome.status == "succeeded"
    assert_store_equals_fake(await asana.stored(), asana)


async def test_a_comment_on_a_subtask_brings_the_subtask_back(asana: Harness) -> None:
    await asana.sync(full=True)
    await asana.sync()
    subtask = a_subtask(asana)
    asana.fake.faults.drop_events = 1
    asana.fake.edit_task(subtask, name="Renamed quietly")
    asana.fake.comment(subtask, "Renamed it, see the new name")
    events = [e for e in asana.fake.world.events if e.resource_type == "story"]
    assert [(e.action, e.parent) for e in events[-1:]] == [("added", subtask)]
    await asana.sync()
    assert (await asana.stored())[subtask].title == "Renamed quietly"
