"""Risks in the store: derived risks opened and closed with their signal, and the register.

A derived risk keeps one row per fingerprint (its rule and subject); every time its
signal appears or clears, the row is reopened or closed and a ``risk_event`` records it,
so the history survives. A program manager may decide on a derived risk — probability,
impact, owner, mitigation, ROAM, due date (``rollup.overrides``): the data's own scores
stay beside theirs, and the decisions hold while the signal lasts and lapse when it
clears. A register risk is a program manager's own entry; it closes when its ROAM state
becomes ``resolved``. Every change people make is kept with who and when
(``risk_history``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.programs import documents, risk_history
from app.store.audit import record_audit
from app.store.tables import MAX_ROW_ID, ProgramRow, RiskEventRow, RiskRow
from rollup import overrides
from rollup.model import ItemRef
from rollup.risk import ISSUE_RULES, MITIGATIONS, DerivedRisk, RiskRule, severity_of

DERIVED, REGISTER = "derived", "register"
OPENED, CLOSED = "opened", "closed"
DERIVED_EDITABLE = frozenset({"roam", "owner", "mitigation", "due_on", "probability", "impact"})
"""What a person may decide on a derived risk; everything else follows the data."""
DECIDED = ("override_probability", "override_impact", "owner", "mitigation", "roam", "due_on")
"""The columns holding a person's decisions on a derived risk (they lapse together)."""
_SHOWN = {"override_probability": "probability", "override_impact": "impact"}


@dataclass(slots=True)
class Tally:
    opened: int = 0
    closed: int = 0
    opened_rows: list[RiskRow] = field(default_factory=list)


def _fields(risk: DerivedRisk, titles: Mapping[ItemRef, str]) -> dict[str, Any]:
    return {
        "rule": risk.rule.value,
        "title": risk.title,
        "severity": risk.severity.value,
        "probability": risk.probability,
        "impact": risk.impact,
        "items": [key for _, key in risk.items],
        "evidence": {
            "evidence": [
                {
                    "source": e.ref[0],
                    "key": e.ref[1],
                    "title": titles.get(e.ref),
                    "detail": e.detail,
                }
                for e in risk.evidence
            ]
        },
        "outcome_key": risk.outcome_key,
        "suggested_owner": risk.owner,
        "owner_basis": risk.owner_basis,
    }


def _event(risk: RiskRow, kind: str, at: datetime) -> RiskEventRow:
    return RiskEventRow(risk_id=risk.id, program_id=risk.program_id, at=at, kind=kind)


PORTFOLIO_RULES = frozenset({"cross_program_dependency"})
"""Rules reconciled by the portfolio's rebuild (``app.programs.portfolio``), which sees
every program; a program's own recomputation leaves their risks alone."""


def override_of(risk: RiskRow) -> overrides.Override | None:
    """A person's decisions on a derived risk, as the roll-up's core reads them."""
    if risk.origin != DERIVED or risk.fingerprint is None:
        return None
    if all(getattr(risk, name) is None for name in DECIDED):
        return None
    return overrides.Override(
        fingerprint=risk.fingerprint,
        probability=risk.override_probability,
        impact=risk.override_impact,
        owner=risk.owner,
        mitigation=risk.mitigation,
        roam=risk.roam,
        set_by=risk.override_by,
        set_at=risk.override_at,
    )


def _lapse(session: AsyncSession, row: RiskRow, now: datetime) -> None:
    """The signal cleared: what people decided on the risk lapses, and the history says so."""
    changes = {
        _SHOWN.get(name, name): {"from": risk_history._plain(getattr(row, name)), "to": None}
        for name in DECIDED
        if getattr(row, name) is not None
    }
    for name in (*DECIDED, "override_by", "override_at"):
        setattr(row, name, None)
    if row.probability and row.impact:
        row.severity = severity_of(row.probability, row.impact).value
    risk_history.record(
        session, row, by=risk_history.SYSTEM, action=risk_history.LAPSED, changes=changes, at=now
    )


async def reconcile(
    session: AsyncSession,
    program_id: int,
    derived: Sequence[DerivedRisk],
    *,
    now: datetime,
    rules: frozenset[str] | None = None,
    titles: Mapping[ItemRef, str] | None = None,
) -> Tally:
    """Open, refresh and close the program's derived risks to match what the data shows;
    ``titles`` name the items of their evidence.

    ``rules`` limits it to the risks of those rules; by default every rule but the
    portfolio's (``PORTFOLIO_RULES``).
    """
    stmt = select(RiskRow).where(RiskRow.program_id == program_id, RiskRow.origin == DERIVED)
    if rules is None:
        stmt = stmt.where(RiskRow.rule.not_in(PORTFOLIO_RULES))
    else:
        stmt = stmt.where(RiskRow.rule.in_(rules))
    rows: dict[str, RiskRow] = {r.fingerprint or "": r for r in await session.scalars(stmt)}
    decided = {o.fingerprint: o for r in rows.values() if (o := override_of(r)) is not None}
    managed = {m.risk.fingerprint: m for m in overrides.manage(derived, decided)}
    tally = Tally()
    opened: list[RiskRow] = []
    for risk in derived:
        fields = _fields(risk, titles or {}) | {
            "severity": managed[risk.fingerprint].severity.value
        }
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
    # Decisions hold while the signal lasts: those on risks whose signal cleared lapse.
    for fingerprint in overrides.lapsed(derived, decided):
        if rows[fingerprint].closed_at is not None:
            _lapse(session, rows[fingerprint], now)
    session.add_all([_event(r, OPENED, now) for r in opened])
    session.add_all([_event(r, CLOSED, now) for r in closing])
    tally.opened, tally.closed = len(opened), len(closing)
    tally.opened_rows = opened
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
            -((scores(r)[0] or 0) * (scores(r)[1] or 0)),
            r.id,
        ),
    )


def scores(risk: RiskRow) -> tuple[int | None, int | None]:
    """Probability and impact as decided: a person's on a derived risk, else the data's."""
    return (
        risk.override_probability if risk.override_probability is not None else risk.probability,
        risk.override_impact if risk.override_impact is not None else risk.impact,
    )


def _top_open() -> Select[RiskRow]:
    order = case({"critical": 0, "high": 1, "medium": 2, "low": 3}, value=RiskRow.severity, else_=4)
    probability = func.coalesce(RiskRow.override_probability, RiskRow.probability, 0)
    score = probability * func.coalesce(RiskRow.override_impact, RiskRow.impact, 0)
    return (
        select(RiskRow)
        .where(RiskRow.program_id == bindparam("program_id"), RiskRow.closed_at.is_(None))
        .order_by(order, score.desc(), RiskRow.id)
        .limit(bindparam("limit"))
    )


_TOP_OPEN = _top_open()
"""Built once: every program page reads it."""


async def top_open(session: AsyncSession, program_id: int, limit: int) -> Sequence[RiskRow]:
    """A program's worst open risks, in ``list_risks`` order, without loading the rest."""
    found = await session.scalars(_TOP_OPEN, {"program_id": program_id, "limit": limit})
    return found.all()


async def get_risk(session: AsyncSession, program_id: int, risk_id: int) -> RiskRow | None:
    if not 0 < risk_id <= MAX_ROW_ID:
        return None
    return await session.scalar(
        select(RiskRow).where(RiskRow.program_id == program_id, RiskRow.id == risk_id)
    )


_OPEN_BY_SEVERITY = (
    select(RiskRow.program_id, RiskRow.severity, func.count())
    .where(RiskRow.program_id.in_(bindparam("ids", expanding=True)), RiskRow.closed_at.is_(None))
    .group_by(RiskRow.program_id, RiskRow.severity)
)
"""Built once: the counts are read with every status."""


async def count_open(
    session: AsyncSession, program_ids: Iterable[int]
) -> dict[int, documents.RiskCounts]:
    """Open risks per program, by severity (as flushed: the query skips autoflush)."""
    ids = list(program_ids)
    counts = {i: documents.RiskCounts() for i in ids}
    connection = await session.connection()
    found = await connection.execute(_OPEN_BY_SEVERITY, {"ids": ids})
    for program_id, severity, n in found:
        tally = counts[program_id]
        tally.open += n
        if severity in ("low", "medium", "high", "critical"):
            setattr(tally, severity, getattr(tally, severity) + n)
    return counts


def to_out(
    risk: RiskRow, zone: tzinfo, history: Sequence[documents.RiskEdit] = ()
) -> documents.Risk:
    """A stored risk as the API shows it, times in the program's zone: its scores as
    decided, the data's beside them on a derived risk, and the changes people made."""
    probability, impact = scores(risk)
    score = probability * impact if probability and impact else None
    decided = override_of(risk)
    data = (
        documents.RiskScore(
            probability=risk.probability,
            impact=risk.impact,
            severity=severity_of(risk.probability, risk.impact).value,
        )
        if risk.origin == DERIVED and risk.probability and risk.impact
        else None
    )
    return documents.Risk(
        id=risk.id,
        origin=risk.origin,
        rule=risk.rule,
        title=risk.title,
        description=risk.description,
        severity=risk.severity,
        probability=probability,
        impact=impact,
        score=score,
        roam=risk.roam,
        owner=risk.owner or risk.suggested_owner,
        owner_basis=None if risk.owner else risk.owner_basis,
        mitigation=risk.mitigation,
        suggested_mitigation=None if risk.mitigation else _suggestion(risk.rule),
        decision=bool(risk.decision),
        issue=risk.rule in ISSUE_RULES,
        due_on=risk.due_on,
        outcome=risk.outcome_key,
        items=list(risk.items or []),
        evidence=[documents.Evidence(**e) for e in (risk.evidence or {}).get("evidence", [])],
        opened_at=risk.opened_at.astimezone(zone),
        closed_at=risk.closed_at.astimezone(zone) if risk.closed_at else None,
        data=data,
        override=None
        if decided is None
        else documents.RiskOverride(
            fields=[*decided.fields, *(["due_on"] if risk.due_on else [])],
            probability=decided.probability,
            impact=decided.impact,
            by=decided.set_by,
            at=decided.set_at.astimezone(zone) if decided.set_at else None,
        ),
        history=list(history),
    )


def _suggestion(rule: str | None) -> str | None:
    known = {r.value: r for r in RiskRule}
    return MITIGATIONS.get(known[rule]) if rule in known else None


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
    decision: bool = False


def _as_seen(risk: RiskRow) -> dict[str, Any]:
    probability, impact = scores(risk)
    return {
        "title": risk.title,
        "description": risk.description,
        "probability": probability,
        "impact": impact,
        "roam": risk.roam,
        "owner": risk.owner,
        "mitigation": risk.mitigation,
        "due_on": risk.due_on,
        "outcome": risk.outcome_key,
        "items": list(risk.items or []),
    }


async def create(
    session: AsyncSession, program_id: int, entry: NewRisk, *, now: datetime, by: str
) -> RiskRow:
    """Add a register risk; its severity follows probability × impact. ``by`` names who
    added it (a token's name), kept in its history."""
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
        decision=entry.decision,
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
    added = {k: v for k, v in _as_seen(risk).items() if v not in (None, [])}
    risk_history.record(
        session,
        risk,
        by=by,
        action=risk_history.CREATED,
        changes=risk_history.diff({}, added),
        at=now,
    )
    await _audit(session, risk, "risk.create", by=by, before=None, after=_as_seen(risk), now=now)
    return risk


async def _audit(
    session: AsyncSession,
    risk: RiskRow,
    action: str,
    *,
    by: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> None:
    program = await session.scalar(select(ProgramRow.key).where(ProgramRow.id == risk.program_id))
    await record_audit(
        session,
        actor=by,
        action=action,
        program=program,
        subject=f"risk {risk.id}",
        before=before,
        after=after,
        now=now,
    )


_COLUMN = {"outcome": "outcome_key"}


async def update(
    session: AsyncSession, risk: RiskRow, changes: dict[str, Any], *, now: datetime, by: str
) -> RiskRow:
    """Apply the given fields (already validated) to a risk, and keep who changed what.

    On a derived risk, probability and impact are a person's scores over the data's
    (none: back to the data's); what is decided holds until the signal clears.
    """
    before = _as_seen(risk)
    derived = risk.origin == DERIVED
    for name, value in changes.items():
        if name == "roam":
            event = _apply_roam(risk, value, now)
            if event is not None:
                session.add(event)
        elif derived and name in ("probability", "impact"):
            setattr(risk, f"override_{name}", value)
        else:
            setattr(risk, _COLUMN.get(name, name), value)
    probability, impact = scores(risk)
    if probability and impact:
        risk.severity = severity_of(probability, impact).value
    risk.updated_at = now
    changed = risk_history.diff(before, {k: v for k, v in _as_seen(risk).items() if k in changes})
    if derived and changed:
        risk.override_by, risk.override_at = by, now
    risk_history.record(session, risk, by=by, action=risk_history.CHANGED, changes=changed, at=now)
    await session.flush()
    await _audit(session, risk, "risk.update", by=by, before=before, after=_as_seen(risk), now=now)
    return risk


def update_problems(
    risk: RiskRow, changes: dict[str, Any], outcomes: Sequence[str]
) -> list[tuple[str, str]]:
    """Why a (schema-valid) change cannot apply to this risk, field by field.

    A derived risk takes only what people decide (``DERIVED_EDITABLE``); a register risk
    keeps its title, probability and impact; an outcome must be one of the program's.
    """
    found = []
    derived = risk.origin == DERIVED
    if derived:
        for name in sorted(set(changes) - DERIVED_EDITABLE):
            found.append((name, "follows the data on a derived risk and cannot be set"))
    # On a derived risk, no probability or impact means "the data's again".
    for name in ("title",) if derived else ("title", "probability", "impact", "decision"):
        if name in changes and changes[name] is None:
            found.append((name, "cannot be removed from a register risk"))
    outcome = changes.get("outcome")
    if outcome is not None and outcome not in outcomes:
        found.append(("outcome", f"unknown outcome {outcome!r}; known: {', '.join(outcomes)}"))
    return found


async def delete(session: AsyncSession, risk: RiskRow, *, now: datetime, by: str) -> None:
    """Remove a register risk; its history is kept, ending with who removed it."""
    held = {k: v for k, v in _as_seen(risk).items() if v not in (None, [])}
    gone = risk_history.diff(held, dict.fromkeys(held))
    risk_history.record(session, risk, by=by, action=risk_history.REMOVED, changes=gone, at=now)
    await session.flush()
    await _audit(session, risk, "risk.delete", by=by, before=_as_seen(risk), after=None, now=now)
    await session.delete(risk)
    await session.flush()
