"""The program across time: a bar per epic (or per project, for work under no epic),
grouped by outcome and project, with milestones, dependencies between bars and each
bar's forecast.

A bar starts on its epic's start date, else on the epic's first move to in progress,
else when its earliest work started; it ends on its due date, else on the latest due
date of its work. Each bar with work left gets a P50–P85 range: from its own weekly
throughput when it has enough history, else the range of its outcome (the bar's work is
part of the outcome's, so it finishes no later than the outcome does).

A bar belongs to the outcome most of its work feeds (ties: the outcome listed first),
so every bar is drawn once and dependency arrows have one end each.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any, Literal

from rollup import forecast as fc
from rollup.history import local_date, weekly_history
from rollup.model import ItemRef, WorkItem
from rollup.status import ProgramRollup

BAR_TRIALS = 1_000
"""Trials per bar: a bar's range is drawn, not judged, and there can be hundreds."""

StartBasis = Literal["start_date", "first_in_progress", "earliest_work"]
DueBasis = Literal["due_date", "latest_work"]
BarForecastBasis = Literal["own_history", "outcome", "done", "insufficient_history"]


@dataclass(frozen=True, slots=True)
class Bar:
    id: str
    """``source:KEY`` for an epic, ``source/project`` for a project's work under no epic."""
    kind: Literal["epic", "project"]
    source: str
    key: str | None
    """The epic's tracker key (None for a project bar)."""
    title: str
    url: str | None
    project: str | None
    outcome: str
    outcomes: tuple[str, ...]
    scope: int
    done: int
    start: date | None
    start_basis: StartBasis | None
    due: date | None
    due_basis: DueBasis | None
    finished_on: date | None
    p50: date | None
    p85: date | None
    forecast_basis: BarForecastBasis
    critical: bool
    """Some of its remaining work is on a critical path."""

    @property
    def late(self) -> bool:
        """Forecast (P85) beyond the due date, or finished after it."""
        end = self.finished_on if self.finished_on else self.p85
        return self.due is not None and end is not None and end > self.due


@dataclass(frozen=True, slots=True)
class Milestone:
    ref: ItemRef
    title: str
    url: str | None
    due: date | None
    done: bool
    outcome: str
    bar: str | None
    """The bar of its epic, when it sits under one; else it has its outcome's own row."""


@dataclass(frozen=True, slots=True)
class BarLink:
    before: str
    after: str
    count: int
    late: int


@dataclass(frozen=True, slots=True)
class Lane:
    """An outcome on the roadmap: its target and forecast, above its bars."""

    key: str
    name: str
    target: date | None
    p50: date | None
    p85: date | None
    forecast_basis: str
    rag: str


@dataclass(frozen=True, slots=True)
class Roadmap:
    as_of: date
    lanes: tuple[Lane, ...]
    bars: tuple[Bar, ...]
    """Ordered as drawn: by outcome, then project, then start."""
    milestones: tuple[Milestone, ...]
    links: tuple[BarLink, ...]


def bar_id(item: WorkItem, index_epic: ItemRef | None) -> str:
    if index_epic is not None:
        return f"{index_epic[0]}:{index_epic[1]}"
    return f"{item.source}/{item.project or '(no project)'}"


def build(rollup: ProgramRollup, *, zone: tzinfo, rng: random.Random) -> Roadmap:
    """The program's roadmap as of the roll-up's day; ``rng`` seeds the bars' trials."""
    index = rollup.index
    members: dict[str, list[WorkItem]] = {}
    feeds: dict[str, Counter[str]] = {}
    epics: dict[str, ItemRef | None] = {}
    order = {o.outcome.key: n for n, o in enumerate(rollup.outcomes)}
    for part in rollup.outcomes:
        for c in part.progress.contributors:
            epic = index.epic_of(c.item.ref)
            bid = bar_id(c.item, epic)
            epics[bid] = epic
            members.setdefault(bid, []).append(c.item)
            feeds.setdefault(bid, Counter())[part.outcome.key] += 1
    ranges = {o.outcome.key: o.forecast for o in rollup.outcomes}
    seed = rng.getrandbits(64)
    bars = []
    for bid, items in members.items():
        units = list({i.ref: i for i in items}.values())
        outcome = min(feeds[bid], key=lambda k: (-feeds[bid][k], order[k]))
        epic_ref = epics[bid]
        bars.append(
            _bar(
                bid,
                index.items[epic_ref] if epic_ref else None,
                units,
                outcome=outcome,
                outcomes=tuple(sorted(feeds[bid], key=order.__getitem__)),
                outcome_range=ranges[outcome],
                critical=any(u.ref in rollup.critical and not u.done for u in units),
                rollup=rollup,
                zone=zone,
                rng=random.Random(f"{seed}:{bid}"),  # noqa: S311 (simulation)
            )
        )
    bars.sort(key=lambda b: (order[b.outcome], b.project or "", b.source, *_when(b), b.id))
    bar_of = {u.ref: b.id for b in bars for u in members[b.id]}
    return Roadmap(
        as_of=rollup.as_of,
        lanes=tuple(
            Lane(
                o.outcome.key,
                o.outcome.name,
                o.outcome.target,
                o.forecast.p50.on if o.forecast.p50 else None,
                o.forecast.p85.on if o.forecast.p85 else None,
                o.forecast.basis.value,
                o.rag.color.value,
            )
            for o in rollup.outcomes
        ),
        bars=tuple(bars),
        milestones=_milestones(rollup, {b.id for b in bars}),
        links=_links(rollup, bar_of),
    )


def _when(bar: Bar) -> tuple[date, date]:
    return (bar.start or date.max, bar.due or date.max)


def _bar(
    bid: str,
    epic: WorkItem | None,
    units: Sequence[WorkItem],
    *,
    outcome: str,
    outcomes: tuple[str, ...],
    outcome_range: fc.Forecast,
    critical: bool,
    rollup: ProgramRollup,
    zone: tzinfo,
    rng: random.Random,
) -> Bar:
    start, start_basis = bar_start(epic, units, zone)
    due, due_basis = bar_due(epic, units)
    remaining = sum(1 for u in units if not u.done)
    finished_on = None
    p50 = p85 = None
    basis: BarForecastBasis
    if remaining == 0:
        basis = "done"
        finished_on = max(
            (local_date(d, zone) for u in units if (d := u.completed_at) is not None),
            default=None,
        )
    else:
        options = rollup.program.policy.forecast
        history = weekly_history(units, as_of=rollup.as_of, zone=zone, weeks=options.history_weeks)
        if fc.sufficient(history, options):
            days = fc.days_at_pace(
                history,
                remaining,
                trials=min(options.trials, BAR_TRIALS),
                seed=rng.getrandbits(64),
                options=options,
                as_of=rollup.as_of,
            )
            p50 = fc.percentile(days, 0.5, as_of=rollup.as_of).on
            p85 = fc.percentile(days, 0.85, as_of=rollup.as_of).on
            basis = "own_history"
        elif outcome_range.p50 is not None and outcome_range.basis is fc.ForecastBasis.MONTE_CARLO:
            p50 = outcome_range.p50.on
            p85 = outcome_range.p85.on if outcome_range.p85 else None
            basis = "outcome"
        else:
            basis = "insufficient_history"
    head = epic or units[0]
    return Bar(
        id=bid,
        kind="epic" if epic else "project",
        source=head.source,
        key=epic.key if epic else None,
        title=epic.title if epic else (head.project or "(no project)"),
        url=epic.url if epic else None,
        project=head.project,
        outcome=outcome,
        outcomes=outcomes,
        scope=len(units),
        done=len(units) - remaining,
        start=start,
        start_basis=start_basis,
        due=due,
        due_basis=due_basis,
        finished_on=finished_on,
        p50=p50,
        p85=p85,
        forecast_basis=basis,
        critical=critical,
    )


def bar_start(
    epic: WorkItem | None, units: Iterable[WorkItem], zone: tzinfo
) -> tuple[date | None, StartBasis | None]:
    """The epic's start date, else its first move to in progress, else the earliest start
    of its work (a start date or a first move to in progress)."""
    if epic is not None and epic.start_on is not None:
        return epic.start_on, "start_date"
    if epic is not None and epic.started_at is not None:
        return local_date(epic.started_at, zone), "first_in_progress"
    starts = [
        d
        for u in units
        for d in (
            u.start_on,
            local_date(u.started_at, zone) if u.started_at is not None else None,
        )
        if d is not None
    ]
    return (min(starts), "earliest_work") if starts else (None, None)


def bar_due(
    epic: WorkItem | None, units: Iterable[WorkItem]
) -> tuple[date | None, DueBasis | None]:
    """The epic's due date, else the latest due date of its work."""
    if epic is not None and epic.due_on is not None:
        return epic.due_on, "due_date"
    dues = [u.due_on for u in units if u.due_on is not None]
    return (max(dues), "latest_work") if dues else (None, None)


def _milestones(rollup: ProgramRollup, bars: set[str]) -> tuple[Milestone, ...]:
    found = []
    keys = [o.outcome.key for o in rollup.outcomes]
    for m in rollup.milestones:
        outcome = next((k for k in keys if m.ref in rollup.assignment.selected[k]), "")
        epic = rollup.index.epic_of(m.ref)
        bid = bar_id(m, epic) if epic is not None else None
        found.append(
            Milestone(
                m.ref, m.title, m.url, m.due_on, m.done, outcome, bid if bid in bars else None
            )
        )
    return tuple(found)


def _links(rollup: ProgramRollup, bar_of: Mapping[ItemRef, str]) -> tuple[BarLink, ...]:
    """Dependencies between items, counted between their bars (within a bar: left out)."""
    late = {(d.edge.before, d.edge.after) for d in rollup.late}
    counts: dict[tuple[str, str], list[int]] = {}
    for e in rollup.edges:
        a, b = bar_of.get(e.before), bar_of.get(e.after)
        if a is None or b is None or a == b:
            continue
        row = counts.setdefault((a, b), [0, 0])
        row[0] += 1
        row[1] += (e.before, e.after) in late
    return tuple(BarLink(a, b, n, k) for (a, b), (n, k) in sorted(counts.items()))


BaselineBar = tuple[date | None, date | None, date | None, date | None]
"""(start, due, P50, P85) of a bar as a snapshot kept it."""


def baseline_data(roadmap: Roadmap) -> dict[str, list[str | None]]:
    """What a day's snapshot keeps of the roadmap: each bar's dates, to draw a baseline."""

    def text(d: date | None) -> str | None:
        return d.isoformat() if d else None

    return {
        b.id: [
            text(b.start),
            text(b.due),
            text(b.finished_on or b.p50),
            text(b.finished_on or b.p85),
        ]
        for b in roadmap.bars
    }


def baseline_of(data: Mapping[str, Any]) -> dict[str, BaselineBar]:
    """The bars ``baseline_data`` kept (unreadable entries are left out)."""
    found: dict[str, BaselineBar] = {}
    for bid, values in data.items():
        if isinstance(values, list) and len(values) == 4:
            try:
                dates = [date.fromisoformat(v) if v else None for v in values]
            except (TypeError, ValueError):
                continue
            found[str(bid)] = (dates[0], dates[1], dates[2], dates[3])
    return found
