"""Every alert, newest first, as the API and the alerts page show them."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig
from app.programs import access
from app.programs.lookup import get_program
from app.reports.schemas import Delivery
from app.store.tables import AlertRow, ProgramRow

AlertKind = Literal[
    "rag_change",
    "risk_opened",
    "forecast_slip",
    "source_stale",
    "webhooks_silent",
    "source_recovered",
]


class Alert(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    program: str
    kind: AlertKind
    subject: str = Field(description="An outcome key (empty: the program), risk id or source")
    severity: str
    title: str
    detail: str | None = None
    items: list[str] = []
    raised_at: datetime
    status: Literal["pending", "sent", "failed", "duplicate", "muted"] = Field(
        description="duplicate: the same alert was raised within repeat_after; muted: no "
        "channel is configured"
    )
    duplicate_of: int | None = None
    sent_at: datetime | None = None
    deliveries: list[Delivery] = []


class AlertList(BaseModel):
    alerts: list[Alert]


async def list_alerts(
    session: AsyncSession, config: ThroughlineConfig, key: str | None = None, *, limit: int = 100
) -> AlertList:
    """A program's alerts (every program's when ``key`` is None), newest first."""
    stmt = select(AlertRow, ProgramRow.key).join(ProgramRow, ProgramRow.id == AlertRow.program_id)
    if key is not None:
        program = await get_program(session, config, key)
        stmt = stmt.where(AlertRow.program_id == program.id)
    elif hidden := access.hidden_keys(config):
        stmt = stmt.where(ProgramRow.key.not_in(sorted(hidden)))
    rows = await session.execute(
        stmt.order_by(AlertRow.raised_at.desc(), AlertRow.id.desc()).limit(limit)
    )
    found = []
    for alert, program_key in rows:
        program_config = config.program(program_key)
        zone = zoneinfo.ZoneInfo(program_config.timezone if program_config else "UTC")
        found.append(
            Alert(
                id=alert.id,
                program=program_key,
                kind=alert.kind,
                subject=alert.subject,
                severity=alert.severity,
                title=alert.title,
                detail=alert.detail,
                items=list(alert.items or []),
                raised_at=alert.raised_at.astimezone(zone),
                status=alert.status,
                duplicate_of=alert.duplicate_of,
                sent_at=alert.sent_at.astimezone(zone) if alert.sent_at else None,
                deliveries=[
                    Delivery.model_validate({"target": d["channel"], **d})
                    for d in alert.deliveries or []
                ],
            )
        )
    return AlertList(alerts=found)
