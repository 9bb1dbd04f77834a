"""A program's slice of the data as one recomputation sees it.

Its items and edges, how long its work usually takes (cycle times), how long each item
in progress has been at it, and the critical-path schedule of its remaining chains —
everything the per-outcome and program-level judgements share.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from rollup.chains import Schedule, median_remaining, schedule
from rollup.graph import DependencyGraph, Edge
from rollup.history import day_start, elapsed_share, local_date
from rollup.mapping import Assignment, ItemIndex, assign
from rollup.model import ItemRef, Program, ProgressBasis, WorkItem
from rollup.progress import estimates
from rollup.refinement import SplitRate, split_rate
from rollup.trend import Trend
from vocabulary import StatusCategory


@dataclass(frozen=True, slots=True)
class ProgramScope:
    program: Program
    index: ItemIndex
    graph: DependencyGraph
    trend: Trend
    as_of: date
    zone: tzinfo
    now: datetime | None
    """The moment of the roll-up within ``as_of`` (None: the end of the day)."""
    elapsed: float
    """Share of ``as_of`` gone at that moment (1: the day is over)."""
    assignment: Assignment
    outcomes_of: dict[ItemRef, tuple[str, ...]]
    edges: tuple[Edge, ...]
    """Every dependency with at least one end among the program's items."""
    age_of: Callable[[ItemRef], float | None]
    """Days an item in progress has been in progress (None: not in progress, or no history)."""
    cycle_times: tuple[float, ...]
    plan: Schedule
    """Critical-path schedule of the remaining chains, at the median cycle time."""
    expected: dict[ItemRef, date]
    """When each remaining item on a chain is expected to finish (empty without cycle
    times: a date from a made-up duration would mislead)."""
    split: Callable[[], SplitRate]
    """What the program's refined epics typically hold (``rollup.refinement``), worked
    out when an outcome first has unrefined epics to size."""

    def items(self, refs: Iterable[ItemRef]) -> list[WorkItem]:
        return [self.index.items[r] for r in refs]

    def needed_by(self, ref: ItemRef) -> date | None:
        """When a successor needs its predecessors done: its start date if it has not
        started, else its due date, else the earliest target of its outcomes."""
        item = self.index.items[ref]
        if item.status_category is StatusCategory.TODO and item.start_on is not None:
            return item.start_on
        if item.due_on is not None:
            return item.due_on
        targets = {o.key: o.target for o in self.program.outcomes}
        dates = [t for o in self.outcomes_of.get(ref, ()) if (t := targets.get(o)) is not None]
        return min(dates, default=None)


def cycle_times(
    units: Sequence[WorkItem], *, as_of: date, zone: tzinfo, weeks: int
) -> tuple[float, ...]:
    """Days from first start to completion of the work finished in the history window."""
    since = day_start(as_of - timedelta(days=7 * weeks - 1), zone)
    found = []
    for item in units:
        finished = item.completed_at
        if finished is not None and item.started_at is not None and finished >= since:
            found.append(max(0.0, (finished - item.started_at).total_seconds() / 86400))
    return tuple(sorted(found))


def age_reader(index: ItemIndex, *, as_of: date, zone: tzinfo) -> Callable[[ItemRef], float | None]:
    """How long an item has been in progress, worked out for the items that ask."""

    @functools.cache
    def age_of(ref: ItemRef) -> float | None:
        item = index.items[ref]
        if item.status_category is not StatusCategory.IN_PROGRESS or item.started_at is None:
            return None
        return float((as_of - local_date(item.started_at, zone)).days)

    return age_of


def scope_program(
    program: Program,
    index: ItemIndex,
    graph: DependencyGraph,
    trend: Trend,
    *,
    as_of: date,
    zone: tzinfo,
    now: datetime | None = None,
) -> ProgramScope:
    """Map the program's items to its outcomes and lay out its dependency chains.

    ``now`` (within ``as_of``) says how much of today has gone; without it the roll-up
    is as of the end of the day.
    """
    assignment = assign(program, index)
    edges = tuple(graph.edges_touching(assignment.all_selected))
    units = {r for refs in assignment.units.values() for r in refs}
    remaining_ends = sorted(
        {r for e in edges for r in (e.before, e.after) if not index.items[r].done}
    )
    age_of = age_reader(index, as_of=as_of, zone=zone)
    weeks = program.policy.forecast.history_weeks
    times = cycle_times([index.items[r] for r in units], as_of=as_of, zone=zone, weeks=weeks)
    remaining = functools.cache(median_remaining(times or (1.0,)))
    plan = schedule(graph.chains(remaining_ends, age_of), lambda r: remaining(age_of(r) or 0.0))
    expected = (
        {r: as_of + timedelta(days=math.ceil(d)) for r, d in plan.finish_of().items()}
        if times
        else {}
    )
    return ProgramScope(
        program=program,
        index=index,
        graph=graph,
        trend=trend,
        as_of=as_of,
        zone=zone,
        now=now,
        elapsed=elapsed_share(as_of, now, zone),
        assignment=assignment,
        outcomes_of=assignment.outcomes_of(),
        edges=edges,
        age_of=age_of,
        cycle_times=times,
        plan=plan,
        expected=expected,
        split=functools.cache(lambda: _split(program, units, index)),
    )


def _split(program: Program, units: set[ItemRef], index: ItemIndex) -> SplitRate:
    by_estimate = program.basis is ProgressBasis.ESTIMATE
    sizes = {r: e for r, (e, _) in estimates(sorted(units), index).items()} if by_estimate else None
    return split_rate(units, index, sizes)
