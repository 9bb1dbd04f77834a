"""Asana webhook deliveries: which tasks a delivery names, stories on subtasks included."""

from __future__ import annotations

from app.webhooks.register import ASANA_FILTERS
from connectors.asana.webhook import touched_tasks
from connectors.fake.asana import FakeAsana, generate
from connectors.fake.asana.webhooks import Webhook, event_body


def test_a_story_on_a_subtask_names_the_subtask_as_changed() -> None:
    story = {
        "action": "added",
        "resource": {"gid": "9001", "resource_type": "story"},
        "parent": {"gid": "1201", "resource_type": "task"},
    }
    assert touched_tasks([story]) == {"1201": "changed"}


def test_the_registered_filters_let_the_fakes_story_events_through() -> None:
    fake = FakeAsana(generate(60, seed=3, projects=1), seed=3)
    world = fake.world
    project = next(iter(world.projects))
    subtask = next(g for g, t in world.tasks.items() if t.parent is not None)
    hook = Webhook("1", project, "https://tl.test", "s", world.clock.now(), ASANA_FILTERS)
    fake.comment(subtask, "Blocked on the payments review")
    event = world.events[-1]
    assert hook.wants(event)
    assert touched_tasks([event_body(event)]) == {subtask: "changed"}
