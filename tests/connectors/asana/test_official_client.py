"""The official ``asana`` package (v5), pointed at the fake, reads what the fake holds.

If Asana's own client can read the fake, the fake's envelopes, paging and fields are
shaped as the real API's are, not just as our connector expects. Every answer the fake
gives it is also held to the official document (tests/connectors/conftest.py).
"""

from __future__ import annotations

import json
from typing import Any

import asana
import pytest

from connectors.fake.asana import FakeAsana

FIELDS = "name,num_subtasks,modified_at,memberships.section.name"


@pytest.fixture
def client(fake_url: str) -> Any:
    configuration = asana.Configuration()
    configuration.host = fake_url
    configuration.access_token = "official-client"
    return asana.ApiClient(configuration)


def test_the_official_client_lists_the_same_tasks_and_subtasks(
    fake: FakeAsana, client: Any
) -> None:
    tasks_api = asana.TasksApi(client)
    listed: set[str] = set()
    for project in fake.world.projects:
        pending = list(
            tasks_api.get_tasks_for_project(project, {"opt_fields": FIELDS, "limit": 50})
        )
        while pending:
            task = pending.pop()
            listed.add(task["gid"])
            if task["num_subtasks"]:
                pending += tasks_api.get_subtasks_for_task(task["gid"], {"opt_fields": FIELDS})
    assert listed == set(fake.world.tasks)


def test_the_official_client_reads_a_task_in_full_and_its_dependencies(
    fake: FakeAsana, client: Any
) -> None:
    tasks_api = asana.TasksApi(client)
    gid = next(g for g, t in sorted(fake.world.tasks.items()) if t.dependencies)
    task = tasks_api.get_task(gid, {})
    assert task["gid"] == gid
    assert task["name"] == fake.world.tasks[gid].name
    assert {"completed", "modified_at", "memberships", "custom_fields"} <= set(task)
    blockers = list(tasks_api.get_dependencies_for_task(gid, {"opt_fields": "name"}))
    assert [b["gid"] for b in blockers] == fake.world.tasks[gid].dependencies


def test_the_official_client_lists_unarchived_projects_only(fake: FakeAsana, client: Any) -> None:
    archived = next(iter(fake.world.projects.values()))
    archived.archived = True
    projects_api = asana.ProjectsApi(client)
    found = list(
        projects_api.get_projects_for_workspace(
            fake.world.workspace, {"archived": False, "opt_fields": "name,archived"}
        )
    )
    assert {p["gid"] for p in found} == {
        g for g, p in fake.world.projects.items() if not p.archived
    }
    assert archived.gid not in {p["gid"] for p in found}


def test_the_official_client_follows_a_projects_events(fake: FakeAsana, client: Any) -> None:
    events_api = asana.EventsApi(client)
    project = next(iter(fake.world.projects))
    task = fake.world.projects[project].tasks[0]
    with pytest.raises(asana.rest.ApiException) as first:
        events_api.get_events(project, {}, full_payload=True)
    assert first.value.status == 412
    sync = json.loads(first.value.body)["sync"]
    fake.edit_task(task, name="Seen by the official client")
    fake.comment(task, "and a comment")
    page = events_api.get_events(project, {"sync": sync}, full_payload=True)
    kinds = {(e["resource"]["resource_type"], e["action"]) for e in page["data"]}
    assert {("task", "changed"), ("story", "added")} <= kinds
    assert page["sync"]
    assert page["has_more"] is False
    # The SDK's own iterator: a 412 first, then the events since the token it was given.
    fake.edit_task(task, name="Seen again")
    streamed = list(events_api.get_events(project, {}))
    assert streamed == [], "a stream starts at its first token: nothing before it"
