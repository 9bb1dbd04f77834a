"""A small program with history, chains, a milestone and a cross-tracker link, stored
through the one write path (``store.save_page``) as a sync would store it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig, parse_config
from app.store import records
from connectors.base import LinkRef, Page, TrackerItem, Transition
from tests.builders import make_item, make_source
from vocabulary import ItemKind, StatusCategory

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
TARGET = TODAY + timedelta(days=60)

CONFIG = f"""
server: {{auth: none}}
sources:
  - {{name: jira, kind: jira, url: "https://jira.test", auth: {{token_env: T}}}}
  - {{name: asana, kind: asana, workspace: "1", auth: {{token_env: T}}}}
programs:
  - key: checkout
    name: Checkout v2
    timezone: Europe/Berlin
    outcomes:
      - key: fast-pay
        name: Pay in one click
        target: {TARGET.isoformat()}
        match: [{{source: jira, epics: [PAY-1]}}]
      - key: web
        name: Web checkout
        weight: 2
        match: [{{source: jira, projects: [WEB]}}]
  - key: mobile
    name: Mobile relaunch
    outcomes:
      - key: app
        name: App
        match: [{{source: asana, projects: ["900"]}}]
"""


def config() -> ThroughlineConfig:
    return parse_config(CONFIG)


def moved(item_id: str, at: datetime, to: StatusCategory, n: int) -> Transition:
    names = {StatusCategory.IN_PROGRESS: "In Progress", StatusCategory.DONE: "Done"}
    return Transition(external_id=f"{item_id}-h{n}", at=at, to_status=names[to], to_category=to)


def story(
    key: str,
    *,
    done_days_ago: float | None = None,
    started_days_ago: float | None = None,
    **overrides: Any,
) -> TrackerItem:
    """A story under epic PAY-1 with the status history a tracker would report."""
    history = []
    if started_days_ago is not None:
        history.append(
            moved(key, NOW - timedelta(days=started_days_ago), StatusCategory.IN_PROGRESS, 1)
        )
    if done_days_ago is not None:
        history.append(moved(key, NOW - timedelta(days=done_days_ago), StatusCategory.DONE, 2))
    category = (
        StatusCategory.DONE
        if done_days_ago is not None
        else StatusCategory.IN_PROGRESS
        if started_days_ago is not None
        else StatusCategory.TODO
    )
    values: dict[str, Any] = {
        "parent_key": "PAY-1",
        "status": {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}[category],
        "status_category": category,
        "transitions": tuple(history),
        "created_at": NOW - timedelta(days=100),
        "assignee": "ana",
        "estimate": 3.0,
        "updated_at": NOW - timedelta(days=1),
    }
    return make_item(key, **(values | overrides))


def program_items() -> list[TrackerItem]:
    finished = [
        story(f"PAY-{100 + n}", done_days_ago=1 + n * 2.3, started_days_ago=4 + n * 2.3)
        for n in range(36)
    ]
    remaining = [
        story("PAY-2", started_days_ago=3),
        story("PAY-3", started_days_ago=2, links=(LinkRef("jira", "PAY-3", "jira", "PAY-4"),)),
        story("PAY-4"),
        story("PAY-5", estimate=None),
        story("PAY-6"),
        story(
            "PAY-7",
            kind=ItemKind.MILESTONE,
            parent_key="PAY-1",
            due_on=TODAY - timedelta(days=2),
            estimate=None,
        ),
    ]
    epic = make_item(
        "PAY-1",
        kind=ItemKind.EPIC,
        status="In Progress",
        status_category=StatusCategory.IN_PROGRESS,
    )
    web = [
        make_item("WEB-1", links=(LinkRef("jira", "WEB-1", "jira", "PAY-4"),)),
        make_item("WEB-2", status="Done", status_category=StatusCategory.DONE),
    ]
    return [epic, *finished, *remaining, *web]


async def seed(session: AsyncSession, items: list[TrackerItem] | None = None) -> int:
    """Store the program's items as one sync page; returns the jira source's id."""
    source = await make_source(session, "jira")
    await make_source(session, "asana", kind="asana")
    await records.save_page(session, source.id, Page("PAY", items or program_items()), now=NOW)
    return source.id


async def seed_more(session: AsyncSession, at: datetime) -> None:
    """One more story finished at ``at``, as a later sync would store it."""
    source = await records.get_source(session, "jira")
    assert source is not None
    done = story("PAY-5", started_days_ago=2, done_days_ago=0, updated_at=at)
    await records.save_page(session, source.id, Page("PAY", [done]), now=at)
