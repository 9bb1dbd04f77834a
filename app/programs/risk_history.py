"""What people did to risks: every change kept with who made it and when.

A register risk's creation, each change and its removal, and each decision on a derived
risk (its scores, owner, mitigation, ROAM, due date), are recorded with the name of the
token that made them. When a derived risk's signal clears, the decisions made on it
lapse with it; that is recorded too, by ``throughline``. Records outlive a removed risk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.programs import documents
from app.store.tables import RiskChangeRow, RiskRow

SYSTEM = "throughline"
"""Who lapsed a decision: nobody did, the signal cleared."""
CREATED, CHANGED, REMOVED, LAPSED = "created", "changed", "removed", "lapsed"


def _plain(value: Any) -> Any:
    """A value as the history keeps it (JSON): dates as ISO days, lists as lists."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return list(value)
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each field whose value differs, from what to what (in ``after``'s order)."""
    return {
        name: {"from": _plain(before.get(name)), "to": _plain(value)}
        for name, value in after.items()
        if _plain(before.get(name)) != _plain(value)
    }


def record(
    session: AsyncSession,
    risk: RiskRow,
    *,
    by: str,
    action: str,
    changes: Mapping[str, Mapping[str, Any]],
    at: datetime,
) -> None:
    """Keep one change (in the caller's transaction); a change of nothing is not kept."""
    if action == CHANGED and not changes:
        return
    session.add(
        RiskChangeRow(
            risk_id=risk.id,
            program_id=risk.program_id,
            at=at,
            by=by,
            action=action,
            title=risk.title,
            changes=dict(changes),
        )
    )


def edit_out(row: RiskChangeRow, zone: tzinfo) -> documents.RiskEdit:
    return documents.RiskEdit(
        at=row.at.astimezone(zone),
        by=row.by,
        action=row.action,
        changes=[
            documents.FieldChange(field=name, from_=change.get("from"), to=change.get("to"))
            for name, change in (row.changes or {}).items()
        ],
    )


async def history_of(
    session: AsyncSession, program_id: int, risk_ids: Iterable[int], zone: tzinfo
) -> dict[int, list[documents.RiskEdit]]:
    """The changes people made to each of these risks, in the order they were made."""
    wanted = list(risk_ids)
    found: dict[int, list[documents.RiskEdit]] = defaultdict(list)
    if not wanted:
        return found
    rows = await session.scalars(
        select(RiskChangeRow)
        .where(RiskChangeRow.program_id == program_id, RiskChangeRow.risk_id.in_(wanted))
        .order_by(RiskChangeRow.id)
    )
    for row in rows:
        if row.risk_id is not None:
            found[row.risk_id].append(edit_out(row, zone))
    return found
