"""Small builders for test data: defaults for everything, overrides for what matters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.store import records
from app.store.tables import SourceRow
from connectors.base import LinkRef, TrackerItem, Transition
from vocabulary import ItemKind, StatusCategory

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def make_item(key: str = "PAY-1", **overrides: Any) -> TrackerItem:
    values: dict[str, Any] = {
        "source": "jira",
        "external_id": overrides.pop("external_id", f"id-{key}"),
        "key": key,
        "kind": ItemKind.STORY,
        "title": f"Title of {key}",
        "status": "To Do",
        "status_category": StatusCategory.TODO,
        "updated_at": T0,
        "project": key.split("-")[0],
        "url": f"https://jira.test/browse/{key}",
    }
    values.update(overrides)
    return TrackerItem(**values)


def blocks(from_key: str, to_key: str, source: str = "jira") -> LinkRef:
    return LinkRef(
        from_source=source, from_key=from_key, to_source=source, to_key=to_key, link_type="Blocks"
    )


def make_transition(history_id: str, at: datetime, to: str = "Done") -> Transition:
    return Transition(
        external_id=history_id,
        at=at,
        to_status=to,
        from_status="To Do",
        to_category=StatusCategory.DONE,
        from_category=StatusCategory.TODO,
    )


async def make_source(session: AsyncSession, name: str = "jira", kind: str = "jira") -> SourceRow:
    return await records.upsert_source(
        session, name=name, kind=kind, base_url=f"https://{name}.test", options={}, now=T0
    )
