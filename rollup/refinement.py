"""Work not broken down yet: epics with nothing under them, and what they will become.

An epic with no children is a placeholder: progress cannot count it (it is not a unit of
work), but it is not nothing either. When it is refined it splits into stories much like
the program's refined epics did, so a forecast adds, for each unrefined epic, the work a
refined epic of the same program typically holds (the median), in the progress basis's
unit. With no refined epic to learn from, an unrefined epic counts as one item (or its
own estimate, or one item's median estimate).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rollup.mapping import ItemIndex
from rollup.model import ItemRef, ProgressBasis
from vocabulary import ItemKind


@dataclass(frozen=True, slots=True)
class SplitRate:
    """What a refined epic of the program typically holds."""

    items: float | None
    """Median units of work under a refined epic (None: no refined epic)."""
    size: float | None
    """Median total estimate under a refined epic."""
    unit_size: float
    """Median estimate of one unit (the fallback for an epic nobody sized)."""
    refined: int
    """Refined epics learned from."""


def split_rate(
    units: Iterable[ItemRef], index: ItemIndex, estimates: Mapping[ItemRef, float] | None = None
) -> SplitRate:
    """Learn the split rate from the program's units of work and their epics (and their
    estimates, by estimate)."""
    counts: dict[ItemRef, int] = defaultdict(int)
    sizes: dict[ItemRef, float] = defaultdict(float)
    items = index.items
    known = estimates or {}
    for ref in units:
        # Most work sits right under its epic; only deeper work walks up the tree.
        parent = items[ref].parent_ref
        if parent is not None and parent in items and items[parent].kind is ItemKind.EPIC:
            epic: ItemRef | None = parent
        else:
            epic = index.epic_of(ref)
        if epic is not None and epic != ref:
            counts[epic] += 1
            sizes[epic] += known.get(ref, 0.0)
    unit_sizes = [v for v in known.values() if v > 0]
    return SplitRate(
        items=float(statistics.median(counts.values())) if counts else None,
        size=float(statistics.median(sizes.values())) if sizes else None,
        unit_size=float(statistics.median(unit_sizes)) if unit_sizes else 1.0,
        refined=len(counts),
    )


def unrefined(selected: Iterable[ItemRef], index: ItemIndex) -> tuple[ItemRef, ...]:
    """Epics among ``selected`` that are not done and have nothing under them."""
    items = index.items
    return tuple(
        sorted(
            r
            for r in selected
            if items[r].kind is ItemKind.EPIC and not items[r].done and not index.children.get(r)
        )
    )


def expected_work(
    epics: Iterable[ItemRef], index: ItemIndex, rate: SplitRate, basis: ProgressBasis
) -> float:
    """The work unrefined epics will likely become, in the basis's unit."""
    total = 0.0
    for ref in epics:
        if basis is ProgressBasis.COUNT:
            total += rate.items if rate.items is not None else 1.0
            continue
        own = index.items[ref].estimate
        if own is not None and own > 0:
            total += own
        else:
            total += rate.size if rate.size is not None else rate.unit_size
    return total
