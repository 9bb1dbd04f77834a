"""The fakes' web pages: every link a tracker hands out opens a plain, read-only page
(title, status, assignee, links back), and tracker text on it is escaped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from connectors.fake.asana import FakeAsana, generate
from connectors.fake.asana.model import User
from connectors.fake.jira import FakeJira
from connectors.fake.jira import generate as generate_jira

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def jira() -> FakeJira:
    return FakeJira(generate_jira(60, seed=5, anchor=datetime(2026, 11, 1, tzinfo=UTC)))


@pytest.fixture
async def jira_web(jira: FakeJira) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(jira)
    async with httpx.AsyncClient(transport=transport, base_url="http://jira.test") as client:
        yield client


@pytest.fixture
def asana() -> FakeAsana:
    fake = FakeAsana(generate(80, seed=5, projects=2), seed=5)
    fake.world.app_url = "http://asana.test"
    return fake


@pytest.fixture
async def asana_web(asana: FakeAsana) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(asana)
    async with httpx.AsyncClient(transport=transport, base_url="http://asana.test") as client:
        yield client
    await asana.aclose()


async def test_jira_browse_page_shows_an_issue_with_links_back(
    jira: FakeJira, jira_web: httpx.AsyncClient
) -> None:
    child = next(i for i in jira.data.issues.values() if i.parent_id is not None)
    parent = jira.data.issues[child.parent_id or 0]
    jira.edit(child.key, summary=f"{HOSTILE} checkout", status="In Progress")

    page = await jira_web.get(f"/browse/{child.key}")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert HOSTILE not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt; checkout" in page.text
    assert "In Progress" in page.text
    assert f'href="/browse/{parent.key}"' in page.text
    assert f'href="/browse/{child.project.key}"' in page.text
    parent_page = await jira_web.get(f"/browse/{parent.key}")
    assert f'href="/browse/{child.key}"' in parent_page.text, "a parent lists its children"


async def test_jira_browse_page_names_the_assignee_and_both_ends_of_a_link(
    jira: FakeJira, jira_web: httpx.AsyncClient
) -> None:
    first, second = sorted(jira.data.issues.values(), key=lambda i: i.id)[:2]
    jira.link(first.key, second.key, "Blocks")
    assignee = first.assignee.display_name if first.assignee else "Unassigned"

    blocker = (await jira_web.get(f"/browse/{first.key}")).text
    blocked = (await jira_web.get(f"/browse/{second.key}")).text

    assert assignee in blocker
    assert f'blocks <a href="/browse/{second.key}">' in blocker
    assert f'is blocked by <a href="/browse/{first.key}">' in blocked


async def test_jira_browse_lists_a_project_and_follows_a_moved_issue(
    jira: FakeJira, jira_web: httpx.AsyncClient
) -> None:
    issue = min(jira.data.issues.values(), key=lambda i: i.id)
    old_key = issue.key
    target = next(k for k in jira.data.projects if k != issue.project.key)
    jira.move(old_key, target)

    project = await jira_web.get(f"/browse/{target}")
    moved = await jira_web.get(f"/browse/{old_key}", follow_redirects=False)
    missing = await jira_web.get(f"/browse/{target}-99999")

    assert project.status_code == 200
    assert f'href="/browse/{issue.key}"' in project.text
    assert moved.status_code == 301
    assert moved.headers["location"] == f"/browse/{issue.key}"
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]


async def test_asana_permalinks_point_at_the_configured_app_and_open_there(
    asana: FakeAsana, asana_web: httpx.AsyncClient
) -> None:
    world = asana.world
    gid = next(g for g, t in world.tasks.items() if t.memberships and t.parent is None)
    villain = world.new_gid()
    world.users[villain] = User(villain, f"{HOSTILE} Mallory", "m@x.test")
    world.edit_task(gid, name=f"{HOSTILE} task", assignee=villain, notes=f"See {HOSTILE}")
    api = await asana_web.get(
        f"/api/1.0/tasks/{gid}",
        params={"opt_fields": "permalink_url,projects.permalink_url"},
        headers={"Authorization": "Bearer t"},
    )
    record = api.json()["data"]
    assert record["permalink_url"] == f"http://asana.test/1/{world.workspace}/task/{gid}"

    page = await asana_web.get(record["permalink_url"])
    project = await asana_web.get(record["projects"][0]["permalink_url"])

    assert page.status_code == 200
    assert HOSTILE not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt; task" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt; Mallory" in page.text
    home, section = world.tasks[gid].memberships[0]
    assert world.sections[section].name in page.text, "the task's section is its status"
    assert f'href="/1/{world.workspace}/project/{home}"' in page.text
    assert project.status_code == 200
    assert f'href="/1/{world.workspace}/task/{gid}"' in project.text


async def test_asana_pages_open_under_the_older_link_form_and_show_dependencies(
    asana: FakeAsana, asana_web: httpx.AsyncClient
) -> None:
    world = asana.world
    blocked, blocker = [g for g, t in world.tasks.items() if t.memberships][:2]
    world.add_dependency(blocked, blocker)
    project = world.tasks[blocked].memberships[0][0]

    page = await asana_web.get(f"/0/{project}/{blocked}")
    other = await asana_web.get(f"/1/{world.workspace}/task/{blocker}")
    missing = await asana_web.get(f"/1/{world.workspace}/task/1")

    assert page.status_code == 200
    assert f'href="/1/{world.workspace}/task/{blocker}"' in page.text.split("Blocked by")[1]
    assert f'href="/1/{world.workspace}/task/{blocked}"' in other.text.split("Blocking")[1]
    assert missing.status_code == 404


def test_asana_permalinks_default_to_asana_itself() -> None:
    assert FakeAsana(generate(5, seed=1, projects=1)).world.app_url == "https://app.asana.com"
