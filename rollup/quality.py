"""How far the data behind a program can be trusted, and where it has gaps.

The score is the share of units of work with no gap that bends a figure: a missing
estimate where progress is measured by estimate, finished work with no date (invisible to
throughput), a dependency on an item the store does not hold. Unmapped work and outcomes
without a target are listed too; they leave figures blank rather than wrong, so they do
not lower the score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rollup.mapping import ItemIndex
from rollup.model import Dependency, ItemRef, Outcome, ProgressBasis


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    detail: str
    items: tuple[ItemRef, ...] = ()
    scored: bool = True
    """Whether these gaps lower the score."""


@dataclass(frozen=True, slots=True)
class DataQuality:
    score: float | None
    """Share of units of work without a scored gap, in [0, 1]; None without work."""
    checks: tuple[Check, ...]

    @property
    def gaps(self) -> tuple[ItemRef, ...]:
        return tuple(sorted({r for c in self.checks if c.scored for r in c.items}))


def assess(
    outcomes: Sequence[tuple[Outcome, Sequence[ItemRef]]],
    index: ItemIndex,
    *,
    dangling: Iterable[Dependency],
    unmapped: Sequence[ItemRef],
) -> DataQuality:
    """Check the units of every outcome (and the program's edges) for gaps."""
    units = {r for _, refs in outcomes for r in refs}
    by_estimate = {r for o, refs in outcomes if o.basis is ProgressBasis.ESTIMATE for r in refs}
    missing_estimate = sorted(r for r in by_estimate if index.items[r].estimate is None)
    undated = sorted(r for r in units if index.items[r].done and not index.items[r].completed_at)
    broken = sorted(
        {d.before for d in dangling if d.before in units}
        | {d.after for d in dangling if d.after in units}
    )
    untargeted = [o.key for o, _ in outcomes if o.target is None]
    checks = [
        Check(
            "missing_estimate",
            f"{len(missing_estimate)} item(s) measured by estimate have none",
            tuple(missing_estimate),
        ),
        Check(
            "done_without_date",
            f"{len(undated)} finished item(s) have no completion date",
            tuple(undated),
        ),
        Check(
            "dangling_dependency",
            f"{len(broken)} item(s) depend on, or block, items Throughline does not hold",
            tuple(broken),
        ),
        Check(
            "unmapped_work",
            f"{len(unmapped)} item(s) in the program's projects feed no outcome",
            tuple(unmapped),
            scored=False,
        ),
    ]
    found = [c for c in checks if c.items]
    if untargeted:
        found.append(Check("no_target", f"no target date: {', '.join(untargeted)}", scored=False))
    flawed = {r for c in found if c.scored for r in c.items}
    return DataQuality(1.0 - len(flawed) / len(units) if units else None, tuple(found))
