"""Loading what a recomputation needs from the store, as the roll-up's own values.

The two mapping functions — ``to_work_item`` (a stored item with its status history)
and ``to_program`` (a configured program) — are the only places that know both the
store's rows and ``rollup``'s values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import OutcomeConfig, ProgramConfig
from app.store.tables import ItemRow, LinkRow, SnapshotRow, SourceRow, TransitionRow
from rollup import inputs
from rollup.inputs import Inputs
from rollup.model import (
    Color,
    Dependency,
    ForecastOptions,
    ItemRef,
    Outcome,
    Policy,
    Program,
    ProgressBasis,
    RagPolicy,
    RiskThresholds,
    Selector,
    SnapshotPoint,
    WorkItem,
)
from vocabulary import ItemKind, StatusCategory

log = logging.getLogger(__name__)

_CHUNK = 500

_ITEM_COLUMNS = (
    ItemRow.key,
    ItemRow.title,
    ItemRow.kind,
    ItemRow.status,
    ItemRow.status_category,
    ItemRow.updated_at,
    ItemRow.url,
    ItemRow.project,
    ItemRow.section,
    ItemRow.issue_type,
    ItemRow.parent_key,
    ItemRow.assignee,
    ItemRow.assignee_email,
    ItemRow.estimate,
    ItemRow.created_at,
    ItemRow.resolved_at,
    ItemRow.start_on,
    ItemRow.due_on,
)
_KINDS = {k.value: k for k in ItemKind}
_CATEGORIES = {c.value: c for c in StatusCategory}


@dataclass(frozen=True, slots=True)
class Facets:
    """Which list-valued facets the selectors look at; the others are not loaded.

    These JSON columns cost more to read than all the others together, and a roll-up
    only needs a facet when some selector asks for it.
    """

    labels: bool = True
    components: bool = True
    custom_fields: bool = True

    @classmethod
    def of(cls, programs: Iterable[ProgramConfig]) -> Facets:
        selectors = [m for p in programs for o in p.outcomes for m in o.match]
        return cls(
            labels=any(m.labels or m.tags for m in selectors),
            components=any(m.components for m in selectors),
            custom_fields=any(m.custom_fields for m in selectors),
        )

    def columns(self) -> tuple[Any, ...]:
        def text(column: Any, wanted: bool) -> Any:
            return (cast(column, Text) if wanted else null()).label(column.key)

        return (
            text(ItemRow.projects, True),
            text(ItemRow.labels, self.labels),
            text(ItemRow.components, self.components),
            text(ItemRow.custom_fields, self.custom_fields),
        )


def _strings(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text and text != "[]" else ()


def _fields(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text or text == "{}":
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in json.loads(text).items()))


def to_work_item(source: str, row: Sequence[Any]) -> WorkItem:
    """A stored item, as ``_with_history`` selects it: ``_ITEM_COLUMNS``, the ``Facets``
    columns (as JSON text), then its first start and last completion.

    Unpacked by position: by name it costs more than building the item.
    """
    (
        _source_id,
        key,
        title,
        kind,
        status,
        category,
        updated_at,
        url,
        project,
        section,
        issue_type,
        parent_key,
        assignee,
        assignee_email,
        estimate,
        created_at,
        resolved_at,
        start_on,
        due_on,
        projects,
        labels,
        components,
        custom_fields,
        started_at,
        done_at,
    ) = row
    return WorkItem(
        source=source,
        key=key,
        title=title,
        kind=_KINDS[kind],
        status=status,
        status_category=_CATEGORIES[category],
        updated_at=updated_at,
        url=url,
        project=project,
        projects=_strings(projects),
        section=section,
        issue_type=issue_type,
        parent_key=parent_key,
        assignee=assignee,
        assignee_email=assignee_email,
        estimate=estimate,
        created_at=created_at,
        resolved_at=resolved_at,
        started_at=started_at,
        done_at=done_at,
        start_on=start_on,
        due_on=due_on,
        labels=_strings(labels),
        components=_strings(components),
        custom_fields=_fields(custom_fields),
    )


def _outcome(config: OutcomeConfig, default_basis: str) -> Outcome:
    return Outcome(
        key=config.key,
        name=config.name,
        target=config.target,
        weight=config.weight,
        basis=ProgressBasis(config.progress_basis or default_basis),
        owner=config.owner,
        selectors=tuple(
            Selector(
                source=m.source,
                projects=m.projects,
                epics=m.epics,
                labels=m.labels,
                components=m.components,
                issue_types=m.issue_types,
                sections=m.sections,
                tags=m.tags,
                keys=m.keys,
                custom_fields=tuple(sorted(m.custom_fields.items())),
            )
            for m in config.match
        ),
    )


def to_program(config: ProgramConfig) -> Program:
    """A configured program with its policy (the configuration's overrides applied)."""
    rag, forecast, risks = config.rag, config.forecast, config.risks

    def escalation(value: str) -> Color | None:
        return None if value == "off" else Color(value)

    policy = Policy(
        rag=RagPolicy(
            green_at=rag.green_at,
            amber_at=rag.amber_at,
            late_dependency=escalation(rag.late_dependency),
            overdue_milestone=escalation(rag.overdue_milestone),
            stale_work=escalation(rag.stale_work),
            stale_share=rag.stale_share,
            scope_growth=escalation(rag.scope_growth),
            data_quality=escalation(rag.data_quality),
            data_quality_below=rag.data_quality_below,
            dependency_cycle=escalation(rag.dependency_cycle),
            hysteresis=rag.hysteresis,
            hysteresis_margin=rag.hysteresis_margin,
            stall=escalation(rag.stall),
            stall_weeks=rag.stall_weeks,
            slowdown=escalation(rag.slowdown),
            slowdown_below=rag.slowdown_below,
            recent_weeks=rag.recent_weeks,
        ),
        forecast=ForecastOptions(
            history_weeks=forecast.history_weeks,
            trials=forecast.trials,
            min_history_weeks=forecast.min_history_weeks,
            min_completed=forecast.min_completed,
            scope_growth=forecast.scope_growth,
        ),
        risks=RiskThresholds(
            stale_after_days=risks.stale_after_days,
            scope_creep=risks.scope_creep_percent / 100,
            slip_days=risks.slip_days,
            due_soon_days=risks.due_soon_days,
            critical_index=risks.critical_index,
            blocked_statuses=risks.blocked_statuses,
        ),
    )
    return Program(
        key=config.key,
        name=config.name,
        outcomes=tuple(_outcome(o, config.progress_basis) for o in config.outcomes),
        basis=ProgressBasis(config.progress_basis),
        policy=policy,
        owner=config.owner,
    )


async def source_names(session: AsyncSession) -> dict[int, str]:
    return {row.id: row.name for row in await session.execute(select(SourceRow.id, SourceRow.name))}


def _with_history(source_ids: Sequence[int], facets: Facets) -> Any:
    """Items joined to their first start and last completion from the status history."""
    history = (
        select(
            TransitionRow.source_id,
            TransitionRow.item_external_id,
            func.min(case((TransitionRow.to_category == "in_progress", TransitionRow.at))).label(
                "started_at"
            ),
            func.max(case((TransitionRow.to_category == "done", TransitionRow.at))).label(
                "done_at"
            ),
        )
        .where(TransitionRow.source_id.in_(source_ids))
        .group_by(TransitionRow.source_id, TransitionRow.item_external_id)
        .subquery()
    )
    return select(
        ItemRow.source_id,
        *_ITEM_COLUMNS,
        *facets.columns(),
        history.c.started_at,
        history.c.done_at,
    ).outerjoin(
        history,
        and_(
            history.c.source_id == ItemRow.source_id,
            history.c.item_external_id == ItemRow.external_id,
        ),
    )


async def load_items(
    session: AsyncSession,
    names: Mapping[int, str],
    source_ids: Sequence[int],
    facets: Facets = Facets(),
) -> list[WorkItem]:
    """Every live item of the given sources, with its status history summarised."""
    if not source_ids:
        return []
    stmt = _with_history(source_ids, facets).where(
        ItemRow.source_id.in_(source_ids), ItemRow.deleted.is_(False)
    )
    return [to_work_item(names[row[0]], row) for row in await session.execute(stmt)]


async def load_items_by_ref(
    session: AsyncSession,
    ids: Mapping[str, int],
    names: Mapping[int, str],
    refs: Iterable[ItemRef],
    facets: Facets = Facets(),
) -> list[WorkItem]:
    """Live items of other sources that loaded work depends on (or blocks)."""
    by_source: dict[int, list[str]] = {}
    for source, key in refs:
        if source in ids:
            by_source.setdefault(ids[source], []).append(key)
    found = []
    for source_id, keys in by_source.items():
        for start in range(0, len(keys), _CHUNK):
            stmt = _with_history([source_id], facets).where(
                ItemRow.source_id == source_id,
                ItemRow.key.in_(keys[start : start + _CHUNK]),
                ItemRow.deleted.is_(False),
            )
            found += [to_work_item(names[source_id], row) for row in await session.execute(stmt)]
    return found


async def load_dependencies(session: AsyncSession, sources: Iterable[str]) -> list[Dependency]:
    """Every ``blocks`` link with an end in the given sources (each edge once)."""
    names = list(sources)
    stmt = (
        select(
            LinkRow.from_source,
            LinkRow.from_key,
            LinkRow.to_source,
            LinkRow.to_key,
            LinkRow.link_type,
        )
        .where(
            LinkRow.kind == "blocks",
            or_(LinkRow.from_source.in_(names), LinkRow.to_source.in_(names)),
        )
        .distinct()
    )
    return [
        Dependency((row.from_source, row.from_key), (row.to_source, row.to_key), row.link_type)
        for row in await session.execute(stmt)
    ]


async def linked_sources(session: AsyncSession, sources: Iterable[str]) -> set[str]:
    """The sources whose items depend on, or block, items of the given sources."""
    names = list(sources)
    stmt = (
        select(LinkRow.from_source, LinkRow.to_source)
        .where(or_(LinkRow.from_source.in_(names), LinkRow.to_source.in_(names)))
        .distinct()
    )
    return {name for row in await session.execute(stmt) for name in row}


_POINT_COLUMNS = (
    SnapshotRow.program_id,
    SnapshotRow.outcome_key,
    SnapshotRow.taken_on,
    SnapshotRow.scope_count,
    SnapshotRow.done_count,
    SnapshotRow.scope_estimate,
    SnapshotRow.done_estimate,
    SnapshotRow.rag,
    SnapshotRow.forecast_p50_on,
    SnapshotRow.forecast_p85_on,
    SnapshotRow.probability_on_time,
    SnapshotRow.forecast,
)


def to_point(row: Any) -> SnapshotPoint:
    kept: dict[str, Any] = row.forecast or {}
    target, verdict, raw = kept.get("target"), kept.get("verdict"), kept.get("verdict_raw")
    return SnapshotPoint(
        on=row.taken_on,
        outcome_key=row.outcome_key,
        scope_count=row.scope_count,
        done_count=row.done_count,
        scope_estimate=row.scope_estimate,
        done_estimate=row.done_estimate,
        rag=Color(row.rag),
        p50_on=row.forecast_p50_on,
        p85_on=row.forecast_p85_on,
        probability_on_time=row.probability_on_time,
        target=date.fromisoformat(target) if target else None,
        verdict=Color(verdict) if verdict else None,
        verdict_raw=Color(raw) if raw else None,
        basis=kept.get("basis"),
    )


def kept_inputs(row: Any) -> Inputs | None:
    """The forecast inputs a snapshot row kept (None: none, or unreadable)."""
    data = (row.forecast or {}).get("inputs")
    if not data:
        return None
    try:
        return inputs.from_data(data)
    except (KeyError, TypeError, ValueError):
        log.warning(
            "snapshot of %s on %s keeps unreadable forecast inputs", row.outcome_key, row.taken_on
        )
        return None


async def _days(
    session: AsyncSession, program_id: int, chosen: Any, until: date | None
) -> list[SnapshotPoint]:
    """One snapshot per outcome: the day ``chosen`` (min or max) picks, up to ``until``."""
    days = select(SnapshotRow.outcome_key, chosen.label("on")).where(
        SnapshotRow.program_id == program_id
    )
    if until is not None:
        days = days.where(SnapshotRow.taken_on <= until)
    picked = days.group_by(SnapshotRow.outcome_key).subquery()
    rows = await session.execute(
        select(*_POINT_COLUMNS)
        .join(
            picked,
            and_(
                picked.c.outcome_key == SnapshotRow.outcome_key, picked.c.on == SnapshotRow.taken_on
            ),
        )
        .where(SnapshotRow.program_id == program_id)
    )
    return [to_point(r) for r in rows]


async def load_points(
    session: AsyncSession, program_id: int, *, since: date, baseline_on: date | None
) -> tuple[list[SnapshotPoint], list[SnapshotPoint], dict[tuple[str, date], Inputs]]:
    """Recent snapshot figures (not their item data), the candidates for each outcome's
    baseline (its first snapshot, and its last on or before ``baseline_on``), and the
    forecast inputs the recent ones kept."""
    recent = await session.execute(
        select(*_POINT_COLUMNS).where(
            SnapshotRow.program_id == program_id, SnapshotRow.taken_on >= since
        )
    )
    candidates = await _days(session, program_id, func.min(SnapshotRow.taken_on), None)
    if baseline_on is not None:
        candidates += await _days(session, program_id, func.max(SnapshotRow.taken_on), baseline_on)
    rows = recent.all()
    kept = {(r.outcome_key, r.taken_on): found for r in rows if (found := kept_inputs(r))}
    return [to_point(r) for r in rows], candidates, kept


async def load_items_where(
    session: AsyncSession,
    names: Mapping[int, str],
    source_id: int,
    condition: Any,
    facets: Facets = Facets(),
) -> list[WorkItem]:
    """Live items of one source that ``condition`` (on ``ItemRow``) chooses, with their
    status history summarised for those items alone (``load_items`` summarises a whole
    source's)."""
    rows = (
        await session.execute(
            select(ItemRow.source_id, *_ITEM_COLUMNS, *facets.columns(), ItemRow.external_id).where(
                ItemRow.source_id == source_id, ItemRow.deleted.is_(False), condition
            )
        )
    ).all()
    found = await session.execute(
        select(
            TransitionRow.item_external_id,
            func.min(case((TransitionRow.to_category == "in_progress", TransitionRow.at))),
            func.max(case((TransitionRow.to_category == "done", TransitionRow.at))),
        )
        .join(
            ItemRow,
            and_(
                ItemRow.source_id == TransitionRow.source_id,
                ItemRow.external_id == TransitionRow.item_external_id,
            ),
        )
        .where(
            TransitionRow.source_id == source_id,
            ItemRow.source_id == source_id,
            ItemRow.deleted.is_(False),
            condition,
        )
        .group_by(TransitionRow.item_external_id)
    )
    history = {external_id: (started, done) for external_id, started, done in found}
    name = names[source_id]
    none: tuple[Any, Any] = (None, None)
    return [to_work_item(name, (*row[:-1], *history.get(str(row[-1]), none))) for row in rows]
