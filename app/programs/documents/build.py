"""Roll-up results as the JSON documents the API serves and the store keeps.

A recomputation turns ``rollup``'s values into these documents once; a read serves them
as they are. Risk counts and freshness change between recomputations (a register edit,
a sync), so they are filled in when a document is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from app.programs.documents import explained
from app.programs.documents import program as out
from app.programs.documents.snapshot import LateEnd, LateList, SnapshotLate
from rollup import figures
from rollup.calibration import Calibration
from rollup.forecast import Forecast
from rollup.model import ItemRef, ProgressBasis, SnapshotPoint, WorkItem
from rollup.movement import Movement
from rollup.outcome import OutcomeRollup
from rollup.progress import ProgramProgress, Progress
from rollup.rag import Rag
from rollup.status import ProgramRollup

LISTED = 100
"""Items listed by name in a summary (unmapped work, a data-quality check); counts cover
the rest."""

CRITICAL_LISTED = 20


def item_link(item: WorkItem) -> out.ItemLink:
    return out.ItemLink(source=item.source, key=item.key, title=item.title, url=item.url)


def keys(refs: Iterable[ItemRef]) -> list[str]:
    return [key for _, key in refs]


def rag_out(rag: Rag) -> out.Rag:
    verdict = rag.verdict
    return out.Rag(
        color=rag.color.value,
        reasons=[
            out.Reason(rule=r.rule, detail=r.detail, items=keys(r.items)) for r in rag.reasons
        ],
        policy_version=rag.policy_version,
        forecast_verdict=verdict.shown.value if verdict else None,
        held=verdict.held if verdict else False,
    )


def progress_out(progress: Progress | ProgramProgress) -> out.Progress:
    figure = figures.progress_figure(progress.done, progress.total, progress.basis)
    return out.Progress(
        done=round(progress.done, 3),
        total=round(progress.total, 3),
        percent=figure.percent,
        basis=progress.basis.value,
        unestimated=progress.unestimated,
        done_count=progress.done_count,
        scope_count=progress.scope_count,
        text=figure.text,
    )


def forecast_out(
    forecast: Forecast,
    *,
    basis: ProgressBasis = ProgressBasis.COUNT,
    on_time: figures.OnTime | None = None,
    moved: Movement | None = None,
    calibration: Calibration | None = None,
    unrefined: Iterable[ItemRef] = (),
) -> out.Forecast:
    p50, p85, p95 = forecast.p50, forecast.p85, forecast.p95
    history, pace = forecast.history, forecast.pace
    sized = history.sized if basis is ProgressBasis.ESTIMATE else ()
    return out.Forecast(
        p50=p50.on if p50 else None,
        p85=p85.on if p85 else None,
        p95=p95.on if p95 else None,
        probability_on_time=forecast.probability_on_time,
        basis=forecast.basis.value,
        probability_error=forecast.probability_error,
        sampling_error_days=out.SamplingErrorDays(
            p50=p50.sampling_error_days if p50 else None,
            p85=p85.sampling_error_days if p85 else None,
            p95=p95.sampling_error_days if p95 else None,
        ),
        trials=forecast.trials,
        unit="items" if basis is ProgressBasis.COUNT else "points",
        remaining=round(forecast.remaining, 3),
        unrefined=keys(unrefined),
        history=[
            out.WeekCount(
                week_start=start,
                completed=count,
                work=round(sized[i], 3) if sized else None,
                observed=round(history.exposed[i], 4),
            )
            for i, (start, count) in enumerate(zip(history.starts, history.weeks, strict=True))
        ],
        capacity_share=forecast.capacity_share,
        on_time=None if on_time is None else explained.on_time_out(on_time),
        pace=None
        if pace is None
        else out.Pace(
            per_week=round(pace.mean, 3),
            observed_per_week=round(pace.observed_rate, 3),
            dispersion=round(pace.dispersion, 3),
            changed=round(pace.changed, 4),
        ),
        growth_per_week=None if forecast.growth is None else round(forecast.growth.mean, 3),
        movement=None if moved is None else explained.movement_out(moved),
        calibration=None if calibration is None else explained.calibration_out(calibration),
    )


def burnup(
    points: Sequence[SnapshotPoint], basis: ProgressBasis, today: SnapshotPoint
) -> list[out.BurnupPoint]:
    """Done against scope over time: the last snapshot of each ISO week, then today."""
    weekly: dict[tuple[int, int], SnapshotPoint] = {}
    for point in sorted(points, key=lambda p: p.on):
        if point.on < today.on:
            weekly[point.on.isocalendar()[:2]] = point
    by_count = basis is ProgressBasis.COUNT
    return [
        out.BurnupPoint(
            on=p.on,
            scope=p.scope_count if by_count else round(p.scope_estimate, 3),
            done=p.done_count if by_count else round(p.done_estimate, 3),
        )
        for p in [*weekly.values(), today]
    ]


def today_point(
    key: str, progress: Progress | ProgramProgress, rag: Rag, forecast: Forecast, on: date
) -> SnapshotPoint:
    """Today's figures, as the snapshot about to be stored will hold them."""
    return SnapshotPoint(
        on=on,
        outcome_key=key,
        scope_count=progress.scope_count,
        done_count=progress.done_count,
        scope_estimate=progress.scope_estimate,
        done_estimate=progress.done_estimate,
        rag=rag.color,
        p50_on=forecast.p50.on if forecast.p50 else None,
        p85_on=forecast.p85.on if forecast.p85 else None,
        probability_on_time=forecast.probability_on_time,
    )


def outcome_out(
    part: OutcomeRollup,
    history: Sequence[SnapshotPoint],
    *,
    as_of: date,
    moved: Movement | None = None,
    calibration: Calibration | None = None,
) -> out.OutcomeStatus:
    """An outcome's summary, as it appears inside its program's document."""
    o = part.outcome
    today = today_point(o.key, part.progress, part.rag, part.forecast, as_of)
    return out.OutcomeStatus(
        key=o.key,
        name=o.name,
        target=o.target,
        weight=o.weight,
        rag=rag_out(part.rag),
        progress=progress_out(part.progress),
        forecast=forecast_out(
            part.forecast,
            basis=o.basis,
            on_time=part.on_time,
            moved=moved,
            calibration=calibration,
            unrefined=part.unrefined,
        ),
        critical_path=keys(part.critical_path),
        criticality=[
            out.Criticality(key=ref[1], index=share)
            for ref, share in part.forecast.criticality[:CRITICAL_LISTED]
        ],
        scope_growth=None if part.scope_growth is None else round(part.scope_growth, 4),
        done_late=part.done_late,
        finished_on=part.finished_on,
        burnup=burnup(history, o.basis, today),
    )


def outcome_document(
    part: OutcomeRollup,
    history: Sequence[SnapshotPoint],
    *,
    as_of: date,
    moved: Movement | None = None,
    calibration: Calibration | None = None,
) -> out.OutcomeStatus:
    """An outcome's own document: its summary and every contributor.

    Contributors are built with ``model_construct``: there can be tens of thousands, and
    their values are the roll-up's own.
    """
    document = outcome_out(part, history, as_of=as_of, moved=moved, calibration=calibration)
    document.explain = out.Explain.model_construct(
        contributors=[
            out.Contributor.model_construct(
                source=c.item.source,
                key=c.item.key,
                title=c.item.title,
                url=c.item.url,
                status=c.item.status,
                status_category=c.item.status_category,
                estimate=round(c.estimate, 3),
                imputed=c.imputed,
                size=round(c.size, 3),
                share=round(c.share, 6),
            )
            for c in part.progress.contributors
        ]
    )
    return document


def program_out(
    rollup: ProgramRollup,
    *,
    timezone: str,
    computed_at: datetime,
    history: Mapping[str, Sequence[SnapshotPoint]],
) -> out.ProgramStatus:
    """The program document, with risk counts and freshness left for the read to fill."""
    program, assignment = rollup.program, rollup.assignment
    milestones = [
        out.Milestone(
            source=m.source,
            key=m.key,
            title=m.title,
            url=m.url,
            due_on=m.due_on,
            status_category=m.status_category.value,
            overdue=bool(m.due_on and not m.done and m.due_on < rollup.as_of),
        )
        for m in rollup.milestones
    ]
    today = today_point("", rollup.progress, rollup.rag, rollup.forecast, rollup.as_of)
    return out.ProgramStatus(
        key=program.key,
        name=program.name,
        timezone=timezone,
        rag=rag_out(rollup.rag),
        progress=progress_out(rollup.progress),
        target=rollup.target,
        forecast=forecast_out(
            rollup.forecast,
            basis=program.basis,
            on_time=rollup.on_time,
            moved=rollup.movements.get(""),
            calibration=rollup.calibration.get(""),
            unrefined=[r for o in rollup.outcomes for r in o.unrefined],
        ),
        risk_counts=out.RiskCounts(),
        freshness=out.Freshness(computed_at=computed_at, as_of=rollup.as_of),
        outcomes=[
            outcome_out(
                o,
                history.get(o.outcome.key, ()),
                as_of=rollup.as_of,
                moved=rollup.movements.get(o.outcome.key),
                calibration=rollup.calibration.get(o.outcome.key),
            )
            for o in rollup.outcomes
        ],
        data_quality=out.DataQuality(
            score=None if rollup.quality.score is None else round(rollup.quality.score, 4),
            checks=[
                out.QualityCheck(
                    check=c.name,
                    detail=c.detail,
                    count=len(c.items),
                    scored=c.scored,
                    items=keys(c.items[:LISTED]),
                )
                for c in rollup.quality.checks
            ],
        ),
        milestones=milestones,
        unmapped=out.Unmapped(
            count=len(assignment.unmapped),
            items=[item_link(rollup.index.items[r]) for r in assignment.unmapped[:LISTED]],
        ),
        late_dependencies=len(rollup.late),
        late=late_out(rollup),
        cycles=len(rollup.cycles),
        critical_path=keys(rollup.critical_path),
        burnup=burnup(history.get("", ()), program.basis, today),
    )


def late_out(rollup: ProgramRollup) -> list[out.LateDependency]:
    """The program's late dependencies with both ends named, soonest needed first."""
    items = rollup.index.items
    ordered = sorted(
        rollup.late,
        key=lambda d: (d.needed_on or date.max, d.edge.before, d.edge.after),
    )
    return [
        out.LateDependency(
            from_=item_link(items[d.edge.before]),
            to=item_link(items[d.edge.after]),
            reason=d.reason.value,
            detail=d.detail,
            needed_on=d.needed_on,
            expected_on=d.expected_on,
            cross_project=d.edge.cross_project,
            cross_tracker=d.edge.cross_tracker,
        )
        for d in ordered[:LISTED]
    ]


def dependencies_document(rollup: ProgramRollup) -> out.Dependencies:
    """The dependency map: every edge touching the program, its ends, cycles, critical
    paths and roll-ups.

    Built with ``model_construct`` (the values are the roll-up's own, already checked): a
    large program has thousands of edges, and validating them again would double the cost.
    """
    items = rollup.index.items
    outcomes_of = rollup.assignment.outcomes_of()
    late = {(d.edge.before, d.edge.after): d for d in rollup.late}
    ends = sorted({r for e in rollup.edges for r in (e.before, e.after)})
    nodes = [
        out.DependencyNode.model_construct(
            source=item.source,
            key=item.key,
            title=item.title,
            url=item.url,
            project=item.project,
            epic=epic[1] if (epic := rollup.index.epic_of(ref)) else None,
            kind=item.kind.value,
            status_category=item.status_category,
            due_on=item.due_on,
            expected_on=rollup.expected.get(ref),
            outcomes=list(outcomes_of.get(ref, ())),
            critical=ref in rollup.critical,
            criticality=rollup.criticality.get(ref),
        )
        for ref in ends
        if (item := items[ref])
    ]
    edges = []
    for e in rollup.edges:
        found = late.get((e.before, e.after))
        edges.append(
            out.DependencyEdge.model_construct(
                from_=e.before[1],
                to=e.after[1],
                cross_project=e.cross_project,
                cross_tracker=e.cross_tracker,
                late=found is not None,
                reason=found.reason.value if found else None,
                detail=found.detail if found else None,
            )
        )
    groups = {
        level: [
            out.GroupEdge.model_construct(from_=g.before, to=g.after, count=g.count, late=g.late)
            for g in rollup.rollups.get(level, ())
        ]
        for level in ("epic", "outcome", "project")
    }
    return out.Dependencies.model_construct(
        nodes=nodes,
        edges=edges,
        cycles=[keys(c) for c in rollup.cycles],
        critical_path=keys(rollup.critical_path),
        critical_paths={o.outcome.key: keys(o.critical_path) for o in rollup.outcomes},
        rollups=out.Rollups.model_construct(
            epic=groups["epic"], outcome=groups["outcome"], project=groups["project"]
        ),
    )


M = TypeVar("M", bound=BaseModel)


def load(model: type[M], stored: Mapping[str, Any] | None) -> M | None:
    """A stored document as its model; None when there is none, or when a newer release
    wrote it (its ``schema_version`` is past this release's)."""
    if not stored or int(stored.get("schema_version", 1)) > out.SCHEMA_VERSION:
        return None
    return model.model_validate(stored)


LATE_KEPT = 50
"""Late dependencies a snapshot keeps by name (critical ones first); the count covers all."""


def late_list(rollup: ProgramRollup) -> LateList:
    """The late dependencies a day's snapshot keeps, with both ends, critical ones first."""
    items = rollup.index.items

    def end(ref: ItemRef) -> LateEnd:
        item = items.get(ref)
        return LateEnd(
            source=ref[0],
            key=ref[1],
            title=item.title if item else None,
            url=item.url if item else None,
            status_category=item.status_category if item else None,
            due_on=item.due_on if item else None,
            expected_on=rollup.expected.get(ref),
        )

    late = [
        SnapshotLate(
            from_=end(d.edge.before),
            to=end(d.edge.after),
            reason=d.reason.value,
            detail=d.detail,
            critical=d.edge.before in rollup.critical or d.edge.after in rollup.critical,
            cross_project=d.edge.cross_project,
            cross_tracker=d.edge.cross_tracker,
        )
        for d in rollup.late
    ]
    late.sort(key=lambda d: (not d.critical, d.to.due_on or date.max, d.from_.key))
    return LateList(count=len(late), items=late[:LATE_KEPT])
