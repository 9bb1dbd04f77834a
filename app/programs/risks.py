"""Risks in the store: derived risks opened and closed with their signal, and the register.

A derived risk keeps one row per fingerprint (its rule and subject); every time its
signal appears or clears, the row is reopened or closed and a ``risk_event`` records it,
so the history survives. A register risk is a program manager's own entry; it closes
when its ROAM state becomes ``resolved``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.programs import documents
from app.store.tables import MAX_ROW_ID, RiskEventRow, RiskRow
from rollup.risk import DerivedRisk, severity_of

DERIVED, REGISTER = "derived", "register"
OPENED, CLOSED = "opened", "closed"
DERIVED_EDITABLE = frozenset({"roam", "owner", "mitigation", "due_on"})
"""What a person may set on a derived risk; everything else follows the data."""


@dataclass(slots=True)
class Tally:
    opened: int = 0
    closed: int = 0


def _fields(risk: DerivedRisk) -> dict[str, Any]:
    return {
        "rule": risk.rule.value,
        "title": risk.title,
        "severity": risk.severity.value,
        "probability": risk.probability,
        "impact": risk.impact,
        "items": [key for _, key in risk.items],
        "evidence": {
            "evidence": [
                {"source": e.ref[0], "key": e.ref[1], "detail": e.detail} for e in risk.evidence
            ]
        },
        "outcome_key": risk.outcome_key,
    }


def _event(risk: RiskRow, kind: str, at: datetime) -> RiskEventRow:
    return RiskEventRow(risk_id=risk.id, program_id=risk.program_id, at=at, kind=kind)


async def reconcile(
    session: AsyncSession, program_id: int, derived: Sequence[DerivedRisk], *, now: datetime
) -> Tally:
    """Open, refresh and close the program's derived risks to match what the data shows."""
    rows = {
        r.fingerprint: r
        for r in await session.scalars(
            select(RiskRow).where(RiskRow.program_id == program_id, RiskRow.origin == DERIVED)
        )
    }
    tally = Tally()
    opened: list[RiskRow] = []
    for risk in derived:
        fields = _fields(risk)
        row = rows.get(risk.fingerprint)
        if row is None:
            row = RiskRow(program_id=program_id, origin=DERIVED, fingerprint=risk.fingerprint)
            row.opened_at = now
            session.add(row)
            opened.append(row)
        elif row.closed_at is not None:
            row.closed_at, row.opened_at = None, now
            opened.append(row)
        if any(getattr(row, name, None) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = now
    current = {r.fingerprint for r in derived}
    closing = [r for f, r in rows.items() if f not in current and r.closed_at is None]
    for row in closing:
        row.closed_at = row.updated_at = now
    await session.flush()
    session.add_all([_event(r, OPENED, now) for r in opened])
    session.add_all([_event(r, CLOSED, now) for r in closing])
    tally.opened, tally.closed = len(opened), len(closing)
    return tally


async def list_risks(session: AsyncSession, program_id: int, *, state: str) -> Sequence[RiskRow]:
    """A program's risks, worst first: ``open``, ``closed`` or ``all``."""
    stmt = select(RiskRow).where(RiskRow.program_id == program_id)
    if state == "open":
        stmt = stmt.where(RiskRow.closed_at.is_(None))
    elif state == "closed":
        stmt = stmt.where(RiskRow.closed_at.is_not(None))
    rows = list(await session.scalars(stmt))
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    return sorted(
        rows,
        key=lambda r: (
            r.closed_at is not None,
            order.get(r.severity, 4),
            -((r.probability or 0) * (r.impact or 0)),
            r.id,
        ),
    )


async def top_open(session: AsyncSession, program_id: int, limit: int) -> Sequence[RiskRow]:
    """A program's worst open risks, in ``list_risks`` order, without loading the rest."""
    order = case({"critical": 0, "high": 1, "medium": 2, "low": 3}, value=RiskRow.severity, else_=4)
    score = func.coalesce(RiskRow.probability, 0) * func.coalesce(RiskRow.impact, 0)
    return (
        await session.scalars(
            select(RiskRow)
            .where(RiskRow.program_id == program_id, RiskRow.closed_at.is_(None))
            .order_by(order, score.desc(), RiskRow.id)
            .limit(limit)
        )
    ).all()


async def get_risk(session: AsyncSession, program_id: int, risk_id: int) -> RiskRow | None:
    if not 0 < risk_id <= MAX_ROW_ID:
        return None
    return await session.scalar(
        select(RiskRow).where(RiskRow.program_id == program_id, RiskRow.id == risk_id)
    )


async def count_open(
    session: AsyncSession, program_ids: Iterable[int]
) -> dict[int, documents.RiskCounts]:
    """Open risks per program, by severity."""
    ids = list(program_ids)
    counts = {i: documents.RiskCounts() for i in ids}
    stmt = (
        select(RiskRow.program_id, RiskRow.severity, func.count())
        .where(RiskRow.program_id.in_(ids), RiskRow.closed_at.is_(None))
        .group_by(RiskRow.program_id, RiskRow.severity)
    )
    for program_id, severity, n in await session.execute(stmt):
        tally = counts[program_id]
        tally.open += n
        if severity in ("low", "medium", "high", "critical"):
            setattr(tally, severity, getattr(tally, severity) + n)
    return counts


def to_out(risk: RiskRow, zone: tzinfo) -> documents.Risk:
    """A stored risk as the API shows it, times in the program's zone."""
    score = risk.probability * risk.impact if risk.probability and risk.impact else None
    return documents.Risk(
        id=risk.id,
        origin=risk.origin,
        rule=risk.rule,
        title=risk.title,
        description=risk.description,
        severity=risk.severity,
        probability=risk.probability,
        impact=risk.impact,
        score=score,
        roam=risk.roam,
        owner=risk.owner,
        mitigation=risk.mitigation,
        due_on=risk.due_on,
        outcome=risk.outcome_key,
        items=list(risk.items or []),
        evidence=[documents.Evidence(**e) for e in (risk.evidence or {}).get("evidence", [])],
        opened_at=risk.opened_at.astimezone(zone),
        closed_at=risk.closed_at.astimezone(zone) if risk.closed_at else None,
    )


def _apply_roam(risk: RiskRow, roam: str | None, now: datetime) -> RiskEventRow | None:
    """ROAM ``resolved`` closes a register risk; leaving it reopens the risk."""
    risk.roam = roam
    if risk.origin != REGISTER:
        return None
    if roam == "resolved" and risk.closed_at is None:
        risk.closed_at = now
        return _event(risk, CLOSED, now)
    if roam != "resolved" and risk.closed_at is not None:
        risk.closed_at, risk.opened_at = None, now
        return _event(risk, OPENED, now)
    return None


@dataclass(frozen=True, slots=True)
class NewRisk:
    """A register entry as a program manager states it (checked by the caller)."""

    title: str
    probability: int
    impact: int
    description: str | None = None
    roam: str | None = None
    owner: str | None = None
    mitigation: str | None = None
    due_on: date | None = None
    outcome: str | None = None
    items: Sequence[str] = ()


async def create(
    session: AsyncSession, program_id: int, entry: NewRisk, *, now: datetime
) -> RiskRow:
    """Add a register risk; its severity follows probability × impact."""
    risk = RiskRow(
        program_id=program_id,
        origin=REGISTER,
        title=entry.title,
        description=entry.description,
        probability=entry.probability,
        impact=entry.impact,
        severity=severity_of(entry.probability, entry.impact).value,
        owner=entry.owner,
        mitigation=entry.mitigation,
        due_on=entry.due_on,
        outcome_key=entry.outcome,
        items=list(entry.items),
        evidence={},
        opened_at=now,
        updated_at=now,
    )
    session.add(risk)
    await session.flush()
    session.add(_event(risk, OPENED, now))
    closing = _apply_roam(risk, entry.roam, now)
    if closing is not None:
        session.add(closing)
    await session.flush()
    return risk


_COLUMN = {"outcome": "outcome_key"}


async def update(
    session: AsyncSession, risk: RiskRow, changes: dict[str, Any], *, now: datetime
) -> RiskRow:
    """Apply the given fields (already validated) to a risk."""
    for name, value in changes.items():
        if name == "roam":
            event = _apply_roam(risk, value, now)
            if event is not None:
                session.add(event)
        else:
            setattr(risk, _COLUMN.get(name, name), value)
    if risk.origin == REGISTER and risk.probability and risk.impact:
        risk.severity = severity_of(risk.probability, risk.impact).value
    risk.updated_at = now
    await session.flush()
    return risk


def update_problems(
    risk: RiskRow, changes: dict[str, Any], outcomes: Sequence[str]
) -> list[tuple[str, str]]:
    """Why a (schema-valid) change cannot apply to this risk, field by field.

    A derived risk takes only what people decide (``DERIVED_EDITABLE``); a register risk
    keeps its title, probability and impact; an outcome must be one of the program's.
    """
    found = []
    if risk.origin == DERIVED:
        for name in sorted(set(changes) - DERIVED_EDITABLE):
            found.append((name, "follows the data on a derived risk and cannot be set"))
    for name in ("title", "probability", "impact"):
        if name in changes and changes[name] is None:
            found.append((name, "cannot be removed from a register risk"))
    outcome = changes.get("outcome")
    if outcome is not None and outcome not in outcomes:
        found.append(("outcome", f"unknown outcome {outcome!r}; known: {', '.join(outcomes)}"))
    return found


async def delete(session: AsyncSession, risk: RiskRow) -> None:
    await session.delete(risk)
    await session.flush()
