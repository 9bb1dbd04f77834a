"""Helpers for tests that point the real Jira connector at the fake Jira over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.store.engine import session_scope
from app.store.tables import ItemRow, LinkRow, TransitionRow
from connectors.fake.jira import FakeJira, generate
from connectors.fake.jira.model import JiraData
from connectors.http import TrackerClient
from connectors.jira import JiraConnector

ANCHOR = datetime(2026, 10, 1, tzinfo=UTC)
EMAIL, TOKEN = "pm@example.com", "fake-token"
SOURCE = "jira"


def make_fake(n_issues: int = 300, *, seed: int = 7, **options: Any) -> FakeJira:
    return FakeJira(generate(n_issues, seed=seed, anchor=ANCHOR), **options)


async def compressed_sleep(seconds: float) -> None:
    """Honour every wait the client decides on, a hundred times faster."""
    await asyncio.sleep(seconds / 100)


@asynccontextmanager
async def jira_connector(
    base_url: str,
    *,
    cloud: bool = True,
    request_timeout: float = 10.0,
    client_options: dict[str, Any] | None = None,
    **options: Any,
) -> AsyncIterator[JiraConnector]:
    auth = httpx.BasicAuth(EMAIL, TOKEN) if cloud else None
    headers = {} if cloud else {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        base_url=base_url, auth=auth, headers=headers, timeout=request_timeout
    ) as http:
        client = TrackerClient(
            http, source=SOURCE, sleep=compressed_sleep, **(client_options or {})
        )
        yield JiraConnector(client, **options)


def expected_items(data: JiraData) -> dict[str, dict[str, Any]]:
    """What the store must hold for each fake issue, keyed by issue id."""
    expected = {}
    for issue in data.issues.values():
        parent = data.issues.get(issue.parent_id) if issue.parent_id else None
        expected[str(issue.id)] = {
            "key": issue.key,
            "title": issue.summary,
            "status": issue.status.name,
            "status_category": {"new": "todo", "indeterminate": "in_progress", "done": "done"}[
                issue.status.category
            ],
            "project": issue.project.key,
            "parent_key": parent.key if parent else None,
            "estimate": issue.points,
            "due_on": issue.due,
            "start_on": issue.start,
            "labels": list(issue.labels),
            "components": list(issue.components),
            "fix_versions": list(issue.fix_versions),
            "updated_at": _millis(issue.updated),
            "created_at": _millis(issue.created),
            "resolved_at": _millis(issue.resolved) if issue.resolved else None,
            "deleted": False,
        }
    return expected


def expected_links(data: JiraData) -> set[tuple[str, str]]:
    """Blocks edges (blocker key, blocked key) between issues that still exist."""
    return {
        (data.issues[link.outward_id].key, data.issues[link.inward_id].key)
        for link in data.links.values()
        if link.type.name == "Blocks"
    }


def expected_transitions(data: JiraData) -> int:
    return sum(1 for i in data.issues.values() for h in i.histories if h.field == "status")


async def stored_items(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> dict[str, dict[str, Any]]:
    async with session_scope(sessionmaker) as session:
        rows = (await session.scalars(select(ItemRow))).all()
    return {
        row.external_id: {
            "key": row.key,
            "title": row.title,
            "status": row.status,
            "status_category": row.status_category,
            "project": row.project,
            "parent_key": row.parent_key,
            "estimate": row.estimate,
            "due_on": row.due_on,
            "start_on": row.start_on,
            "labels": row.labels,
            "components": row.components,
            "fix_versions": row.fix_versions,
            "updated_at": row.updated_at,
            "created_at": row.created_at,
            "resolved_at": row.resolved_at,
            "deleted": row.deleted,
        }
        for row in rows
    }


async def stored_links(sessionmaker: async_sessionmaker[AsyncSession]) -> set[tuple[str, str]]:
    async with session_scope(sessionmaker) as session:
        rows = (await session.execute(select(LinkRow.from_key, LinkRow.to_key))).all()
    return {(a, b) for a, b in rows}


async def stored_transition_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(sessionmaker) as session:
        return len((await session.scalars(select(TransitionRow.id))).all())


def _millis(moment: datetime) -> datetime:
    """Jira shows times to the millisecond."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000).astimezone(UTC)
