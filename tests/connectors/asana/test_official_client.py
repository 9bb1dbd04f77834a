"""The official ``asana`` package (v5), pointed at the fake, lists what the fake holds.

If Asana's own client can read the fake, the fake's envelopes, paging and fields are
shaped as the real API's are, not just as our connector expects.
"""

from __future__ import annotations

import pytest

from connectors.fake.asana import FakeAsana

asana = pytest.importorskip("asana")

FIELDS = "name,num_subtasks,modified_at,memberships.section.name"


def test_the_official_client_lists_the_same_tasks_and_subtasks(
    fake: FakeAsana, fake_url: str
) -> None:
    configuration = asana.Configuration()
    configuration.host = fake_url
    configuration.access_token = "official-client"
    client = asana.ApiClient(configuration)
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
