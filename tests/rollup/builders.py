"""Small builders for roll-up values: defaults for everything, overrides for what matters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rollup.graph import DependencyGraph
from rollup.mapping import ItemIndex
from rollup.model import Dependency, ItemRef, Outcome, Program, Selector, WorkItem
from vocabulary import ItemKind, StatusCategory

AS_OF = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def at(days_ago: float) -> datetime:
    """A moment ``days_ago`` days before ``NOW``."""
    return NOW - timedelta(days=days_ago)


def item(key: str = "PAY-1", **overrides: Any) -> WorkItem:
    """A story in project PAY of source ``jira``, to do, updated today."""
    category = overrides.pop("category", StatusCategory.TODO)
    values: dict[str, Any] = {
        "source": "jira",
        "key": key,
        "title": f"Title of {key}",
        "kind": ItemKind.STORY,
        "status": {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}[category],
        "status_category": category,
        "updated_at": NOW,
        "project": key.split("-")[0],
        "assignee": "ana",
        "created_at": at(120),
    }
    values.update(overrides)
    return WorkItem(**values)


def done(key: str, days_ago: float = 1, **overrides: Any) -> WorkItem:
    """A story finished ``days_ago`` days ago after five days in progress."""
    values: dict[str, Any] = {"started_at": at(days_ago + 5), "done_at": at(days_ago)}
    return item(key, category=StatusCategory.DONE, **(values | overrides))


def doing(key: str, days: float = 2, **overrides: Any) -> WorkItem:
    """A story in progress for ``days`` days."""
    values: dict[str, Any] = {"started_at": at(days)}
    return item(key, category=StatusCategory.IN_PROGRESS, **(values | overrides))


def ref(key: str, source: str = "jira") -> ItemRef:
    return (source, key)


def dep(before: str, after: str) -> Dependency:
    return Dependency(ref(before), ref(after))


def outcome(key: str = "pay", *selectors: Selector, **overrides: Any) -> Outcome:
    chosen = selectors or (Selector("jira", projects=("PAY",)),)
    return Outcome(key=key, name=overrides.pop("name", key.title()), selectors=chosen, **overrides)


def program(*outcomes: Outcome, **overrides: Any) -> Program:
    values: dict[str, Any] = {
        "key": "checkout",
        "name": "Checkout",
        "outcomes": outcomes or (outcome(),),
    }
    return Program(**(values | overrides))


def world(
    items: Sequence[WorkItem], deps: Sequence[Dependency] = ()
) -> tuple[ItemIndex, DependencyGraph]:
    index = ItemIndex(items)
    return index, DependencyGraph(deps, index)


def steady_history(prefix: str, weeks: int = 12, per_week: int = 3) -> list[WorkItem]:
    """Work finished at a steady pace: ``per_week`` items in each of the last ``weeks``."""
    return [
        done(f"{prefix}-{100 + w * per_week + i}", days_ago=7 * w + 1 + i)
        for w in range(weeks)
        for i in range(per_week)
    ]
