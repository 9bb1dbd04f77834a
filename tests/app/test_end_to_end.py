"""From the fake trackers over real HTTP, through the connectors and the store, to the API.

Both fakes are served on loopback; the service syncs them as it would a real site, the
roll-ups are recomputed after each sync, and a change made in a tracker shows up in the
program's figures and dependency map.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.programs import recompute
from app.runtime.state import AppState
from connectors.fake.asana import FakeAsana, generate
from connectors.fake.jira import FakeJira
from connectors.fake.server import serve_in_thread
from tests.jira_fakes import EMAIL, TOKEN, make_fake


@dataclass
class World:
    jira: FakeJira
    asana: FakeAsana
    state: AppState
    api: httpx.AsyncClient
    asana_project: str

    async def sync_all(self) -> None:
        for name in ("acme-jira", "acme-asana"):
            outcome = await self.state.syncs.sync_and_record(name)
            assert outcome.status == "succeeded", outcome.errors

    async def get(self, path: str) -> Any:
        response = await self.api.get(path)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def world(
    app_factory: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    monkeypatch.setenv("J_EMAIL", EMAIL)
    monkeypatch.setenv("J_TOKEN", TOKEN)
    monkeypatch.setenv("A_TOKEN", "asana-token")
    jira = make_fake(150)
    with serve_in_thread(jira) as jira_base:
        asana = FakeAsana(generate(120, seed=3, projects=2, jira_url=jira_base), seed=3)
        project = sorted(asana.world.projects)[0]
        with serve_in_thread(asana) as asana_base:
            app = app_factory(
                f"""
server: {{auth: none}}
sources:
  - name: acme-jira
    kind: jira
    url: '{jira_base}'
    projects: [PAY, WEB]
    auth: {{email_env: J_EMAIL, token_env: J_TOKEN}}
  - name: acme-asana
    kind: asana
    url: '{asana_base}/api/1.0'
    workspace: '{asana.world.workspace}'
    projects: ['{project}']
    auth: {{token_env: A_TOKEN}}
programs:
  - key: checkout
    name: Checkout v2
    outcomes:
      - {{key: pay, name: Pay in one click, target: 2027-03-31,
          match: [{{source: acme-jira, projects: [PAY]}}]}}
      - {{key: launch, name: Launch, match: [{{source: acme-jira, projects: [WEB]}},
                                            {{source: acme-asana, projects: ['{project}']}}]}}
"""
            )
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app), base_url="http://test"
                ) as api,
            ):
                world = World(jira, asana, app.state.throughline, api, project)
                await world.sync_all()
                yield world


async def test_synced_trackers_roll_up_into_the_program(world: World) -> None:
    status = await world.get("/api/programs/checkout")
    assert [o["key"] for o in status["outcomes"]] == ["pay", "launch"]
    pay = await world.get("/api/programs/checkout/outcomes/pay")
    contributors = pay["explain"]["contributors"]
    assert contributors, "the PAY outcome has no items"
    assert all(c["key"].startswith("PAY-") for c in contributors)
    assert pay["progress"]["total"] == len(contributors)
    launch = await world.get("/api/programs/checkout/outcomes/launch")
    sources = {c["source"] for c in launch["explain"]["contributors"]}
    assert sources == {"acme-jira", "acme-asana"}


async def test_work_finished_in_jira_raises_progress_after_the_next_sync(world: World) -> None:
    before = await world.get("/api/programs/checkout/outcomes/pay")
    open_item = next(c for c in before["explain"]["contributors"] if c["status_category"] != "done")
    world.jira.edit(open_item["key"], status="Done")
    await world.sync_all()
    after = await world.get("/api/programs/checkout/outcomes/pay")
    assert after["progress"]["done"] == before["progress"]["done"] + 1
    finished = {c["key"]: c["status_category"] for c in after["explain"]["contributors"]}
    assert finished[open_item["key"]] == "done"


async def test_an_asana_task_blocked_by_a_jira_issue_is_a_cross_tracker_dependency(
    world: World,
) -> None:
    pay = await world.get("/api/programs/checkout/outcomes/pay")
    blocker = pay["explain"]["contributors"][0]["key"]
    task = world.asana.world.projects[world.asana_project].tasks[0]
    world.asana.edit_task(task, notes=f"Blocked by {blocker} until payments ship.")
    await world.sync_all()
    graph = await world.get("/api/programs/checkout/dependencies")
    crossing = [e for e in graph["edges"] if e["cross_tracker"] and e["from"] == blocker]
    assert crossing, f"no cross-tracker edge from {blocker}: {graph['edges'][:5]}"


async def test_a_quiet_sync_recomputes_only_when_the_day_has_turned(world: World) -> None:
    state = world.state
    today = await recompute.refresh_rollups(
        state.sessionmaker, state.config, {"acme-jira"}, changed=False
    )
    assert today is None, "recomputed although nothing changed and today's roll-up exists"
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = await recompute.refresh_rollups(
        state.sessionmaker, state.config, {"acme-jira"}, changed=False, now=tomorrow
    )
    assert later is not None
    assert later.programs == ["checkout"]


async def test_asana_section_moves_give_the_program_cycle_times(world: World) -> None:
    """Asana work is timed from its stories: first move into a started section to its last
    finish, a re-opened task counted once to its final finish."""
    fake = world.asana.world
    project = fake.projects[world.asana_project]
    doing = next(s for s in project.sections if fake.sections[s].name == "In progress")
    done = project.sections[-1]
    first, second = [
        g
        for g in project.tasks
        if fake.tasks[g].memberships == [(project.gid, project.sections[0])]
        and not fake.tasks[g].completed
    ][:2]
    day = 86_400

    def at(days_ago: int, gid: str, **changes: Any) -> None:
        fake.clock.offset = -days_ago * day
        fake.edit_task(gid, **changes)

    at(10, first, section=doing)
    at(7, first, section=done, completed=True)
    at(12, second, section=doing)
    at(9, second, section=done, completed=True)
    at(8, second, completed=False, section=doing)
    at(5, second, section=done, completed=True)
    fake.clock.offset = 0
    await world.sync_all()
    found = await world.get("/api/programs/checkout/flow?outcome=launch")
    timed = {c["key"]: c["days"] for c in found["cycle_times"]}
    assert timed[first] == 4
    assert timed[second] == 8
    # The generated history (spring 2026) times Asana work too, re-opened tasks included.
    year = await world.get("/api/programs/checkout/flow?outcome=launch&weeks=104")
    asana_keys = set(project.tasks)
    assert len([c for c in year["cycle_times"] if c["key"] in asana_keys]) > 5
