"""Gathering a week's report from the store: two frozen snapshots and what they keep.

Everything comes from the snapshot of the day the week's report covers and the one a
week before it, plus the history the store keeps with dates (risk openings and closings,
sync runs): nothing reads the live status, so writing the same week again gives the same
figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.programs import changes as change_service
from app.programs import documents, snapshots, whatif
from app.programs.lookup import ConfiguredProgram, NotFound
from app.render.templates import ago, moment
from app.reports import executive, explained
from app.reports import schemas as out
from app.reports.weeks import Week, covered_day, scheduled_run
from app.store.tables import AlertRow, SnapshotRow, SourceRow, SyncRunRow
from vocabulary import RunStatus

MILESTONE_WEEKS = 4
DEFAULT_SYNC_EVERY = timedelta(minutes=15)
SOURCE_KINDS = ("source_stale", "webhooks_silent", "source_recovered")
"""The alerts about a source's health, and its recovery (``app.alerts``)."""


class ReportUnavailable(NotFound):
    """The week's report cannot be written (yet); the message says why."""


@dataclass(frozen=True, slots=True)
class _Day:
    on: date
    rows: Sequence[SnapshotRow]

    @property
    def program(self) -> SnapshotRow:
        return next(r for r in self.rows if r.outcome_key == "")

    @property
    def outcomes(self) -> dict[str, SnapshotRow]:
        return {r.outcome_key: r for r in self.rows if r.outcome_key}

    @property
    def status(self) -> Mapping[str, Any]:
        document = self.program.document or {}
        status: Mapping[str, Any] = document.get("status", {})
        return status

    @property
    def document(self) -> Mapping[str, Any] | None:
        return self.program.document


async def _day(session: AsyncSession, program_id: int, on_or_before: date) -> _Day | None:
    day = await snapshots.last_day(session, program_id, on_or_before=on_or_before)
    if day is None:
        return None
    return _Day(day, await snapshots.day_rows(session, program_id, day))


def _progress(row: SnapshotRow, status: Mapping[str, Any], basis: str) -> out.ProgressFigures:
    stored = status.get("progress")
    if stored:
        return out.ProgressFigures.model_validate(stored)
    by_count = basis == "count"
    done = row.done_count if by_count else row.done_estimate
    total = row.scope_count if by_count else row.scope_estimate
    return out.ProgressFigures(
        done=done,
        total=total,
        percent=round(100 * done / total, 1) if total else 0.0,
        basis="count" if by_count else "estimate",
        done_count=row.done_count,
        scope_count=row.scope_count,
    )


def _forecast(row: SnapshotRow, status: Mapping[str, Any]) -> out.ForecastFigures:
    return out.ForecastFigures(
        p50=row.forecast_p50_on,
        p85=row.forecast_p85_on,
        p95=row.forecast_p95_on,
        probability_on_time=row.probability_on_time,
        basis=status.get("forecast", {}).get("basis"),
    )


def _outcomes(
    program: ConfiguredProgram, current: _Day, previous: _Day | None
) -> list[out.OutcomeRow]:
    documents = {o["key"]: o for o in current.status.get("outcomes", [])}
    before_documents = {
        o["key"]: o for o in (previous.status if previous else {}).get("outcomes", [])
    }
    before_rows = previous.outcomes if previous else {}
    rows = []
    for config in program.config.outcomes:
        row = current.outcomes.get(config.key)
        if row is None:
            continue
        basis = config.progress_basis or program.config.progress_basis
        progress = _progress(row, documents.get(config.key, {}), basis)
        before = before_rows.get(config.key)
        rows.append(
            out.OutcomeRow(
                key=config.key,
                name=config.name,
                target=config.target,
                rag=row.rag,
                previous_rag=before.rag if before else None,
                percent=progress.percent,
                previous_percent=(
                    _progress(before, before_documents.get(config.key, {}), basis).percent
                    if before
                    else None
                ),
                done=progress.done,
                total=progress.total,
                p50=row.forecast_p50_on,
                p85=row.forecast_p85_on,
                previous_p85=before.forecast_p85_on if before else None,
                probability_on_time=row.probability_on_time,
            )
        )
    return rows


def _new_late(
    changes: documents.Changes | None, document: Mapping[str, Any]
) -> list[out.LateDependency]:
    """The dependencies that became late, with both ends as the day's document names them
    (those past its listed ones by key alone)."""
    if changes is None:
        return []
    listed = {
        (d["from"]["key"], d["to"]["key"]): d
        for d in document.get("late_dependencies", {}).get("items", [])
    }
    return [
        out.LateDependency.model_validate(listed[(c.from_, c.to)])
        if (c.from_, c.to) in listed
        else out.LateDependency(
            from_=out.DependencyEnd(key=c.from_), to=out.DependencyEnd(key=c.to)
        )
        for c in changes.new_late_dependencies
    ]


def _milestones(status: Mapping[str, Any], on: date) -> list[documents.Milestone]:
    horizon = on + timedelta(weeks=MILESTONE_WEEKS)
    found = [
        documents.Milestone.model_validate(m)
        for m in status.get("milestones", [])
        if m.get("due_on") and m.get("status_category") != "done"
    ]
    return sorted(
        (m for m in found if m.due_on and (m.overdue or on < m.due_on <= horizon)),
        key=lambda m: (m.due_on, m.key),
    )


async def _freshness(
    session: AsyncSession, names: Sequence[str], *, at: datetime, zone: Any
) -> list[documents.SourceFreshness]:
    """Each source's last good sync finished before ``at``, and how its last run ended."""
    good = dict(
        (
            await session.execute(
                select(SourceRow.name, func.max(SyncRunRow.finished_at))
                .join(SourceRow, SourceRow.id == SyncRunRow.source_id)
                .where(
                    SourceRow.name.in_(names),
                    SyncRunRow.status.in_((RunStatus.SUCCEEDED, RunStatus.PARTIAL)),
                    SyncRunRow.finished_at <= at,
                )
                .group_by(SourceRow.name)
            )
        ).all()
    )
    latest = (
        select(func.max(SyncRunRow.id))
        .where(SyncRunRow.started_at <= at)
        .group_by(SyncRunRow.source_id)
    )
    statuses = dict(
        (
            await session.execute(
                select(SourceRow.name, SyncRunRow.status)
                .join(SourceRow, SourceRow.id == SyncRunRow.source_id)
                .where(SyncRunRow.id.in_(latest), SourceRow.name.in_(names))
            )
        ).all()
    )
    found = []
    for name in names:
        synced = good.get(name)
        found.append(
            documents.SourceFreshness(
                name=name,
                last_sync_at=synced.astimezone(zone) if synced else None,
                last_status=statuses.get(name),
                age_seconds=round((at - synced).total_seconds(), 1) if synced else None,
            )
        )
    return found


async def compose(
    session: AsyncSession,
    program: ConfiguredProgram,
    week: Week,
    *,
    now: datetime,
    preview: bool = False,
    sync_every: Mapping[str, timedelta] | None = None,
) -> out.WeeklyReport:
    """The week's report as the snapshots describe it; ``ReportUnavailable`` when the
    covered day is not over yet or no snapshot exists on or before it.

    A ``preview`` covers the current week up to now, from today's snapshot as it stands.
    """
    zone, config = program.zone, program.config
    today = now.astimezone(zone).date()
    covered = today if preview else covered_day(week, config.report.cron, zone)
    if covered >= today and not preview:
        raise ReportUnavailable(
            f"The report of {week} covers up to {covered.isoformat()}; it can be written "
            f"once that day is over ({(covered + timedelta(days=1)).isoformat()})."
        )
    current = await _day(session, program.id, covered)
    if current is None:
        raise ReportUnavailable(
            f"Program {config.key!r} has no snapshot on or before {covered.isoformat()}, "
            f"the last day the report of {week} covers; snapshots start with its first roll-up."
        )
    previous = await _day(session, program.id, current.on - timedelta(days=7))
    if previous is None:
        first = await snapshots.first_day(session, program.id)
        if first is not None and first < current.on:
            previous = await _day(session, program.id, first)
    report = await _assemble(
        session, program, week, current, previous, now=now, sync_every=sync_every or {}
    )
    start = report.period_start or report.period_end - timedelta(days=6)
    fire = None if preview else scheduled_run(week, config.report.cron, zone)
    report.covers = executive.covers(
        str(week), start, report.period_end, fire.date() if fire else None, preview=preview
    )
    report.preview = preview
    return report


async def _assemble(
    session: AsyncSession,
    program: ConfiguredProgram,
    week: Week,
    current: _Day,
    previous: _Day | None,
    *,
    now: datetime,
    sync_every: Mapping[str, timedelta],
) -> out.WeeklyReport:
    zone, config = program.zone, program.config
    status, document = current.status, current.document or {}
    basis = status.get("progress", {}).get("basis", config.progress_basis)
    changes = None
    if previous is not None:
        changes = await change_service.compare(
            session,
            program,
            snapshots.state_from(previous.on, previous.rows),
            snapshots.state_from(current.on, current.rows),
            since=previous.on,
        )
    sources = sorted({m.source for o in config.outcomes for m in o.match})
    taken_at = current.program.taken_at
    if changes is not None:
        _freeze_risk_titles(changes, current.document, previous.document if previous else None)
    freshness = await _freshness(session, sources, at=taken_at, zone=zone)
    outcome_rows = _outcomes(program, current, previous)
    stored = documents.SnapshotDocument.model_validate(document) if "status" in document else None
    forecast = status.get("forecast") or {}
    report = out.WeeklyReport(
        program=out.ProgramRef(key=config.key, name=config.name, timezone=config.timezone),
        week=str(week),
        period_start=previous.on + timedelta(days=1) if previous else None,
        period_end=current.on,
        generated_at=now.astimezone(zone),
        snapshot=out.SnapshotRef(
            on=current.on,
            taken_at=taken_at.astimezone(zone),
            base_on=previous.on if previous else None,
            complete=current.document is not None,
        ),
        rag=out.Headline(
            color=current.program.rag,
            previous=previous.program.rag if previous else None,
            reasons=status.get("rag", {}).get("reasons", []),
        ),
        standing=out.Standing(
            progress=_progress(current.program, status, basis),
            previous_progress=(
                _progress(previous.program, previous.status, basis) if previous else None
            ),
            forecast=_forecast(current.program, status),
            previous_forecast=_forecast(previous.program, previous.status) if previous else None,
            target=status.get("target")
            or max((o.target for o in config.outcomes if o.target), default=None),
        ),
        outcomes=outcome_rows,
        changes=changes,
        new_late_dependencies=_new_late(changes, document),
        risks=out.RiskSection.model_validate(document["risks"]) if "risks" in document else None,
        dependencies_at_risk=(
            out.DependencySection.model_validate(document["late_dependencies"])
            if "late_dependencies" in document
            else None
        ),
        explained=explained.explained(status),
        milestones=_milestones(status, current.on),
        burnup=status.get("burnup", []),
        data_quality=status.get("data_quality"),
        freshness=freshness,
        review=config.report.review,
        headline=executive.reason_words(status, status.get("outcomes", [])) if status else None,
        movement=executive.plural((forecast.get("movement") or {}).get("text") or "") or None,
        history=forecast.get("history", []),
        outcome_lines=executive.lines(
            outcome_rows, status, stored.outlook if stored else None, changes
        ),
        next_weeks=executive.ahead(
            stored.outlook if stored else None, _milestones(status, current.on), current.on
        ),
        risk_register=executive.register(
            stored.risks.top, stored.risks.counts.get("open", 0), current.on
        )
        if stored
        else None,
        warnings=[
            *_stale_sources(freshness, sync_every),
            *await _source_alerts(session, program.id, taken_at),
        ],
    )
    if report.risk_register is not None:
        start = report.period_start or current.on - timedelta(days=6)
        report.risk_register.scenarios = await _scenarios(session, program, start, current.on)
    unit = "items" if report.standing.progress.basis == "count" else "points"
    report.quiet = executive.quiet(
        len(changes.completed) if changes else None, report.history, unit
    )
    return report


async def _scenarios(
    session: AsyncSession, program: ConfiguredProgram, start: date, end: date
) -> list[out.ScenarioLine]:
    """The what-if scenarios kept in the program's days ``start`` to ``end``, oldest first."""
    zone = program.zone
    found = []
    for saved in reversed((await whatif.list_scenarios(session, program.id)).scenarios):
        on = saved.saved_at.astimezone(zone).date()
        if start <= on <= end:
            found.append(
                out.ScenarioLine(
                    name=saved.name,
                    summary=saved.result.summary,
                    saved_on=on,
                    saved_by=saved.saved_by,
                )
            )
    return found


def _freeze_risk_titles(
    changes: documents.Changes,
    current: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None,
) -> None:
    """Name the risks opened and closed as the snapshots saw them, not as they read now: a
    derived risk's title follows its data, and a past week must read as it did."""
    titles = {
        **((previous or {}).get("risk_titles") or {}),
        **((current or {}).get("risk_titles") or {}),
    }
    for change in (*changes.risks_opened, *changes.risks_closed):
        change.title = titles.get(str(change.id), change.title)


def stale_after(sync_every: timedelta | None) -> timedelta:
    """How long without a good sync before a source's figures count as out of date: three
    sync intervals (the alerting threshold the README suggests), at least an hour."""
    return max(3 * (sync_every or DEFAULT_SYNC_EVERY), timedelta(hours=1))


def _stale_sources(
    freshness: Sequence[documents.SourceFreshness], sync_every: Mapping[str, timedelta]
) -> list[str]:
    found = []
    for f in freshness:
        limit = stale_after(sync_every.get(f.name))
        if f.last_sync_at is None:
            found.append(
                f"{f.name} had never synced successfully when this report's data was taken: "
                "its work is missing from every figure."
            )
        elif f.age_seconds is not None and f.age_seconds > limit.total_seconds():
            found.append(
                f"{f.name} had not synced for {ago(f.age_seconds).removesuffix(' ago')} when "
                f"this report's data was taken (last good sync {moment(f.last_sync_at)}): "
                "its figures may be out of date."
            )
        if f.last_status == RunStatus.FAILED:
            found.append(f"The last sync of {f.name} before this report's data failed.")
    return found


async def _source_alerts(session: AsyncSession, program_id: int, at: datetime) -> list[str]:
    """Source problems the alerts had raised and not seen recover by ``at`` (a dated
    history, so a past week reads the same whenever it is written)."""
    rows = await session.execute(
        select(AlertRow.subject, AlertRow.kind, AlertRow.title)
        .where(
            AlertRow.program_id == program_id,
            AlertRow.kind.in_(SOURCE_KINDS),
            AlertRow.raised_at <= at,
        )
        .order_by(AlertRow.raised_at, AlertRow.id)
    )
    standing: dict[str, str] = {}
    for subject, kind, title in rows:
        if kind == "source_recovered":
            standing.pop(subject, None)
        else:
            standing[subject] = title
    return [f"{title}." for _, title in sorted(standing.items())]
