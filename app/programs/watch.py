"""What a recomputation saw that a program's people should hear about at once.

Called where a recomputation stores a program (``recompute._store``), in the same
transaction: a colour that changed, a high-scoring derived risk that opened, a forecast
that slipped more than ``alerts.slip_days`` since last told. Each becomes an ``alert`` row;
``app.alerts`` sends them within a minute. What was last seen of each subject is kept in
``alert_state``, so a change is told once and a new install tells nothing of the state it
found. The same alert within ``alerts.repeat_after`` is kept as a duplicate, not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ProgramConfig
from app.store.tables import AlertRow, AlertStateRow, RiskRow
from rollup.forecast import Forecast
from rollup.status import ProgramRollup

SEVERITY = {"red": "high", "amber": "medium", "green": "low", "grey": "low"}


def has_channels(config: ProgramConfig) -> bool:
    """Whether the program's alerts go anywhere (their own channels, else the report's
    Slack and e-mail)."""
    deliver = config.alerts.deliver
    if deliver is not None:
        return bool(deliver.slack or deliver.email or deliver.webhook)
    return bool(config.report.deliver.slack or config.report.deliver.email)


async def _states(session: AsyncSession, program_id: int) -> dict[str, AlertStateRow]:
    rows = await session.scalars(
        select(AlertStateRow).where(AlertStateRow.program_id == program_id)
    )
    return {r.subject: r for r in rows}


async def raise_alert(
    session: AsyncSession,
    program_id: int,
    config: ProgramConfig,
    *,
    kind: str,
    subject: str,
    value: str,
    severity: str,
    title: str,
    detail: str | None = None,
    items: Sequence[str] = (),
    now: datetime,
) -> AlertRow:
    """Store an alert: a duplicate of one raised within ``repeat_after`` is kept but not
    sent; without a channel it is kept as ``muted``."""
    fingerprint = f"{kind}:{subject}:{value}"
    earlier = await session.scalar(
        select(AlertRow.id)
        .where(
            AlertRow.program_id == program_id,
            AlertRow.fingerprint == fingerprint,
            AlertRow.raised_at > now - config.alerts.repeat_after,
            AlertRow.status != "duplicate",
        )
        .order_by(AlertRow.raised_at.desc())
        .limit(1)
    )
    status = "duplicate" if earlier else "pending" if has_channels(config) else "muted"
    alert = AlertRow(
        program_id=program_id,
        kind=kind,
        subject=subject,
        fingerprint=fingerprint,
        severity=severity,
        title=title,
        detail=detail,
        items=list(items),
        raised_at=now,
        status=status,
        duplicate_of=earlier,
        deliveries=[],
    )
    session.add(alert)
    return alert


def _remember(
    session: AsyncSession,
    states: dict[str, AlertStateRow],
    program_id: int,
    subject: str,
    value: str | None,
    now: datetime,
) -> None:
    row = states.get(subject)
    if row is None:
        row = AlertStateRow(program_id=program_id, subject=subject)
        session.add(row)
        states[subject] = row
    row.value, row.updated_at = value, now


async def observe(
    session: AsyncSession,
    program_id: int,
    config: ProgramConfig,
    rollup: ProgramRollup,
    opened: Sequence[RiskRow],
    *,
    now: datetime,
) -> list[AlertRow]:
    """Raise the alerts one recomputation of a program calls for."""
    if not config.alerts.enabled:
        return []
    states = await _states(session, program_id)
    raised: list[AlertRow] = []
    names = {o.outcome.key: o.outcome.name for o in rollup.outcomes}
    parts = [
        ("", config.name, rollup.rag, rollup.forecast),
        *((o.outcome.key, o.outcome.name, o.rag, o.forecast) for o in rollup.outcomes),
    ]
    for key, name, rag, forecast in parts:
        color = rag.color.value
        subject = f"rag:{key}"
        before = states.get(subject)
        if before is not None and before.value != color:
            reason = rag.reasons[0].detail if rag.reasons else ""
            raised.append(
                await raise_alert(
                    session,
                    program_id,
                    config,
                    kind="rag_change",
                    subject=key,
                    value=color,
                    severity=SEVERITY[color],
                    title=f"{name} turned {color.upper()} (was {str(before.value).upper()})",
                    detail=reason,
                    items=[k for _, k in rag.reasons[0].items] if rag.reasons else [],
                    now=now,
                )
            )
        if before is None or before.value != color:
            _remember(session, states, program_id, subject, color, now)
        raised += await _slip(session, states, program_id, config, key, name, forecast, now)
    for risk in opened:
        score = (risk.probability or 0) * (risk.impact or 0)
        if risk.origin == "derived" and score >= config.alerts.risk_score:
            where = f" in {names[risk.outcome_key]}" if risk.outcome_key in names else ""
            owner = risk.owner or risk.suggested_owner
            raised.append(
                await raise_alert(
                    session,
                    program_id,
                    config,
                    kind="risk_opened",
                    subject=str(risk.id),
                    value="open",
                    severity=risk.severity,
                    title=f"New {risk.severity} risk{where}: {risk.title}",
                    detail=f"Owner: {owner} ({risk.owner_basis})" if owner else "No owner yet",
                    items=list(risk.items or []),
                    now=now,
                )
            )
    return raised


async def _slip(
    session: AsyncSession,
    states: dict[str, AlertStateRow],
    program_id: int,
    config: ProgramConfig,
    key: str,
    name: str,
    forecast: Forecast,
    now: datetime,
) -> list[AlertRow]:
    """A P85 later than when last told by more than ``slip_days``: one alert, and the new
    date becomes the one the next slip is measured from (an earlier date does too)."""
    p85 = forecast.p85.on if forecast.p85 else None
    if p85 is None:
        return []
    subject = f"p85:{key}"
    before = states.get(subject)
    reference = date.fromisoformat(before.value) if before and before.value else None
    if reference is None or p85 < reference:
        _remember(session, states, program_id, subject, p85.isoformat(), now)
        return []
    if p85 - reference <= timedelta(days=config.alerts.slip_days):
        return []
    _remember(session, states, program_id, subject, p85.isoformat(), now)
    alert = await raise_alert(
        session,
        program_id,
        config,
        kind="forecast_slip",
        subject=key,
        value=p85.isoformat(),
        severity="high",
        title=f"{name}'s safe date (P85) slipped {(p85 - reference).days} days, "
        f"from {reference:%-d %b %Y} to {p85:%-d %b %Y}",
        now=now,
    )
    return [alert]
