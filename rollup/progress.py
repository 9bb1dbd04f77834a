"""How far along an outcome and a program are, by count or by estimate, with contributors.

Only units of work count (see ``ItemIndex.units``). A unit's estimate is its own, else
the sum of its subtasks' estimates; a unit with neither is imputed the median estimate of
its siblings (same parent), else of the outcome, and is counted as ``unestimated``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rollup.mapping import ItemIndex
from rollup.model import ItemRef, Outcome, ProgressBasis, WorkItem


@dataclass(frozen=True, slots=True)
class Contributor:
    """One unit of work behind a progress figure."""

    item: WorkItem
    estimate: float
    """Its estimate, imputed when ``imputed``."""
    imputed: bool
    size: float
    """What it adds to the total in the figure's basis (1 by count)."""
    share: float
    """``size`` over the total: how much of the figure this item is."""


@dataclass(frozen=True, slots=True)
class Progress:
    basis: ProgressBasis
    done: float
    total: float
    unestimated: int
    scope_count: int
    done_count: int
    scope_estimate: float
    done_estimate: float
    contributors: tuple[Contributor, ...] = ()

    @property
    def fraction(self) -> float:
        """Done over total, in [0, 1]; an empty scope is 0."""
        return self.done / self.total if self.total > 0 else 0.0


def _own_estimate(ref: ItemRef, index: ItemIndex) -> float | None:
    item = index.items[ref]
    if item.estimate is not None and item.estimate >= 0:
        return item.estimate
    parts = [s.estimate for s in index.subtasks(ref) if s.estimate is not None and s.estimate >= 0]
    return sum(parts) if parts else None


def estimates(units: Sequence[ItemRef], index: ItemIndex) -> dict[ItemRef, tuple[float, bool]]:
    """Each unit's estimate and whether it was imputed from the median of its siblings."""
    items = index.items
    known: dict[ItemRef, float | None] = {}
    for ref in units:
        own = items[ref].estimate
        # ``_own_estimate``, with its common case (an estimate of its own) inlined.
        known[ref] = own if own is not None and own >= 0 else _own_estimate(ref, index)
    by_parent: dict[ItemRef | None, list[float]] = defaultdict(list)
    for ref, value in known.items():
        if value is not None:
            by_parent[index.items[ref].parent_ref].append(value)
    everywhere = [v for v in known.values() if v is not None]
    fallback = statistics.median(everywhere) if everywhere else 1.0
    medians = {parent: statistics.median(values) for parent, values in by_parent.items()}
    return {
        ref: (value, False)
        if value is not None
        else (medians.get(index.items[ref].parent_ref, fallback), True)
        for ref, value in known.items()
    }


def summarize(outcome: Outcome, units: Sequence[ItemRef], index: ItemIndex) -> Progress:
    """Progress of one outcome over its units of work, with every contributor."""
    sized = estimates(units, index)
    by_count = outcome.basis is ProgressBasis.COUNT
    scope_estimate = sum(e for e, _ in sized.values())
    total = float(len(units)) if by_count else scope_estimate
    contributors = []
    done = done_estimate = 0.0
    done_count = unestimated = 0
    items = index.items
    for ref in units:
        item = items[ref]
        estimate, imputed = sized[ref]
        size = 1.0 if by_count else estimate
        unestimated += imputed
        if item.done:
            done += size
            done_count += 1
            done_estimate += estimate
        contributors.append(
            Contributor(item, estimate, imputed, size, size / total if total else 0.0)
        )
    return Progress(
        basis=outcome.basis,
        done=done,
        total=total,
        unestimated=unestimated,
        scope_count=len(units),
        done_count=done_count,
        scope_estimate=scope_estimate,
        done_estimate=done_estimate,
        contributors=tuple(contributors),
    )


@dataclass(frozen=True, slots=True)
class ProgramProgress:
    """A program's progress: ``done`` over ``total`` on the program's one basis, each unit
    counted once however many outcomes it feeds (``rollup.figures``) — never a mean of
    the outcomes' percentages, which would not add up to the items behind it."""

    basis: ProgressBasis
    fraction: float
    done: float
    total: float
    unestimated: int
    scope_count: int
    done_count: int
    scope_estimate: float
    done_estimate: float


def combine(parts: Sequence[tuple[Outcome, Progress]], basis: ProgressBasis) -> ProgramProgress:
    """Roll outcomes up to their program: done over total of their distinct units."""
    distinct: dict[ItemRef, Contributor] = {}
    for _, progress in parts:
        for c in progress.contributors:
            distinct.setdefault(c.item.ref, c)
    done = [c for c in distinct.values() if c.item.done]
    if basis is ProgressBasis.COUNT:
        total, done_size = float(len(distinct)), float(len(done))
    else:
        total, done_size = sum(c.estimate for c in distinct.values()), sum(c.estimate for c in done)
    return ProgramProgress(
        basis=basis,
        fraction=min(max(done_size / total, 0.0), 1.0) if total > 0 else 0.0,
        done=done_size,
        total=total,
        unestimated=sum(1 for c in distinct.values() if c.imputed),
        scope_count=len(distinct),
        done_count=len(done),
        scope_estimate=sum(c.estimate for c in distinct.values()),
        done_estimate=sum(c.estimate for c in done),
    )
