"""A scripted organisation for the portfolio: two goals over three programs, a late
dependency between two of them, an outcome waiting on another program's outcome, and a
person spread too thin across all three — stored through the one write path as a sync
would store it.

- **Checkout** (owner Ana Lima, Jira PAY and WEB): PAY-3 (in progress, due in 20 days)
  waits on PLAT-2 of Platform, due in 45 days: late.
- **Platform** (owner Bo Chen, Jira PLAT).
- **Mobile** (owner Cy Diaz, Asana project 900): its outcome ``app`` waits on Checkout's
  ``fast-pay`` by a date before fast-pay's target: late.
- **Dee Evans** holds two items in progress in Checkout and two in Platform (Jira, with no
  e-mail) and a task in Mobile (Asana, as ``dee evans`` with her e-mail): four in progress
  across programs against a limit of three, and open work in three programs (limit two).
"""

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
HOSTILE = "<img src=x onerror=alert(1)>"
TEAMS = {"PAY": "Pat Payne", "WEB": "Will Webb", "PLAT": "Pia Platt"}
"""Who holds each project's other work (Asana's: Mo Bile)."""


def on(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


CONFIG = f"""
server: {{auth: none}}
sources:
  - {{name: jira, kind: jira, url: "https://jira.test", auth: {{token_env: T}}}}
  - {{name: asana, kind: asana, workspace: "1", auth: {{token_env: T}}}}
programs:
  - key: checkout
    name: Checkout v2
    owner: Ana Lima
    outcomes:
      - key: fast-pay
        name: Pay in one click
        target: {on(60)}
        match: [{{source: jira, epics: [PAY-1]}}]
      - key: web
        name: Web checkout
        target: {on(90)}
        match: [{{source: jira, projects: [WEB]}}]
  - key: platform
    name: Platform
    owner: Bo Chen
    outcomes:
      - key: vault
        name: Card vault
        target: {on(100)}
        match: [{{source: jira, projects: [PLAT]}}]
  - key: mobile
    name: Mobile relaunch
    owner: Cy Diaz
    outcomes:
      - key: app
        name: App 5.0
        target: {on(120)}
        match: [{{source: asana, projects: ["900"]}}]
        depends_on:
          - {{program: checkout, outcome: fast-pay, needed_by: {on(30)}}}
goals:
  - key: revenue
    name: Grow online revenue
    owner: Fay Green
    period: 2027-Q1
    contributors:
      - {{program: checkout, weight: 2}}
      - {{program: platform, outcome: vault}}
    key_results:
      - {{key: progress, name: Most of the work done, metric: percent_done, target: 80}}
      - {{key: confidence, name: Likely in time, metric: on_time, target: 85}}
  - key: mobile-first
    name: Mobile first
    owner: Gus Hill
    period: 2027-H1
    contributors:
      - {{program: mobile}}
      - {{program: checkout, outcome: web, weight: 0.5}}
    key_results:
      - {{key: shipped, name: Both shipped, metric: outcomes_done, target: 2}}
people:
  - {{name: Dee Evans, emails: [dee@acme.example]}}
resources: {{wip_limit: 3}}
portfolio: {{max_programs: 2}}
"""


def config(text: str = CONFIG) -> ThroughlineConfig:
    return parse_config(text)


def _moved(key: str, at: datetime, to: StatusCategory, n: int) -> Transition:
    names = {StatusCategory.IN_PROGRESS: "In Progress", StatusCategory.DONE: "Done"}
    return Transition(external_id=f"{key}-h{n}", at=at, to_status=names[to], to_category=to)


def work(
    key: str,
    *,
    done_days_ago: float | None = None,
    started_days_ago: float | None = None,
    source: str = "jira",
    **overrides: Any,
) -> TrackerItem:
    """A story with the status history a tracker would report."""
    history = []
    if started_days_ago is not None:
        at = NOW - timedelta(days=started_days_ago)
        history.append(_moved(key, at, StatusCategory.IN_PROGRESS, 1))
    if done_days_ago is not None:
        history.append(_moved(key, NOW - timedelta(days=done_days_ago), StatusCategory.DONE, 2))
    category = (
        StatusCategory.DONE
        if done_days_ago is not None
        else StatusCategory.IN_PROGRESS
        if started_days_ago is not None
        else StatusCategory.TODO
    )
    values: dict[str, Any] = {
        "source": source,
        "status": {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}[category],
        "status_category": category,
        "transitions": tuple(history),
        "created_at": NOW - timedelta(days=100),
        "assignee": TEAMS.get(key.split("-")[0], "Mo Bile"),
        "updated_at": NOW - timedelta(days=1),
    }
    if source == "asana":
        values["url"] = f"https://app.asana.com/0/900/{key}"
    return make_item(key, **(values | overrides))


def history(
    prefix: str, count: int, *, source: str = "jira", **overrides: Any
) -> list[TrackerItem]:
    """``count`` items finished over the last weeks: enough history for a forecast."""
    return [
        work(
            f"{prefix}{100 + n}",
            done_days_ago=1 + n * 3.1,
            started_days_ago=4 + n * 3.1,
            source=source,
            **overrides,
        )
        for n in range(count)
    ]


def blocked_by(before: str, after: str) -> LinkRef:
    return LinkRef("jira", before, "jira", after)


def checkout_items() -> list[TrackerItem]:
    epic = make_item(
        "PAY-1",
        kind=ItemKind.EPIC,
        status="In Progress",
        status_category=StatusCategory.IN_PROGRESS,
    )
    stories = [
        *history("PAY-", 12, parent_key="PAY-1"),
        work("PAY-2", started_days_ago=3, parent_key="PAY-1", assignee="Dee Evans"),
        work(
            "PAY-3",
            started_days_ago=2,
            parent_key="PAY-1",
            assignee="Dee Evans",
            due_on=TODAY + timedelta(days=20),
        ),
        work("PAY-4", parent_key="PAY-1", title=f"Saved cards {HOSTILE}"),
        work("PAY-5", parent_key="PAY-1"),
    ]
    web = [*history("WEB-", 8), work("WEB-1"), work("WEB-2", started_days_ago=1)]
    return [epic, *stories, *web]


def platform_items() -> list[TrackerItem]:
    return [
        *history("PLAT-", 10),
        work("PLAT-1", started_days_ago=4, assignee="Dee Evans"),
        work(
            "PLAT-2",
            due_on=TODAY + timedelta(days=45),
            title=f"Vault API {HOSTILE}",
            links=(blocked_by("PLAT-2", "PAY-3"),),
        ),
        work("PLAT-3", started_days_ago=5, assignee="DEE  EVANS"),
    ]


def mobile_items() -> list[TrackerItem]:
    return [
        *history("9100", 9, source="asana", project="900"),
        work(
            "9001",
            source="asana",
            project="900",
            assignee="dee evans",
            assignee_email="dee@acme.example",
        ),
        work("9002", source="asana", project="900", started_days_ago=2),
    ]


async def seed(session: AsyncSession) -> None:
    """Store the three programs' items as one sync of each source would."""
    jira = await make_source(session, "jira")
    asana = await make_source(session, "asana", kind="asana")
    await records.save_page(session, jira.id, Page("PAY", checkout_items()), now=NOW)
    await records.save_page(session, jira.id, Page("PLAT", platform_items()), now=NOW)
    await records.save_page(session, asana.id, Page("900", mobile_items()), now=NOW)
