"""The snapshots a roll-up looks back on: baselines, last week, and weekly scope growth."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from rollup.history import History
from rollup.inputs import Inputs
from rollup.model import ProgressBasis, SnapshotPoint


@dataclass(frozen=True, slots=True)
class Trend:
    """Recent snapshots of a program and its outcomes, and the baseline of each.

    ``baseline`` maps an outcome key (empty for the program) to the snapshot that scope
    growth is measured from. Build one with ``Trend.of``.
    """

    by_key: Mapping[str, tuple[SnapshotPoint, ...]] = field(default_factory=dict)
    baseline: Mapping[str, SnapshotPoint] = field(default_factory=dict)
    inputs: Mapping[tuple[str, date], Inputs] = field(default_factory=dict)
    """The forecast inputs kept with an outcome's snapshot of a day (when kept)."""

    @classmethod
    def of(
        cls,
        points: Iterable[SnapshotPoint],
        baseline: Mapping[str, SnapshotPoint] | None = None,
        inputs: Mapping[tuple[str, date], Inputs] | None = None,
    ) -> Trend:
        series: dict[str, list[SnapshotPoint]] = defaultdict(list)
        for point in sorted(points, key=lambda p: p.on):
            series[point.outcome_key].append(point)
        return cls(
            {k: tuple(v) for k, v in series.items()}, dict(baseline or {}), dict(inputs or {})
        )

    def latest(self, key: str) -> SnapshotPoint | None:
        """The most recent snapshot of an outcome (or the program)."""
        found = self.series(key)
        return found[-1] if found else None

    def series(self, key: str) -> tuple[SnapshotPoint, ...]:
        """Snapshots of one outcome (or the program, ``""``), oldest first."""
        return self.by_key.get(key, ())

    def at_or_before(self, key: str, day: date) -> SnapshotPoint | None:
        """The last snapshot taken on or before ``day``."""
        found = None
        for point in self.series(key):
            if point.on > day:
                break
            found = point
        return found


def scope_of(point: SnapshotPoint, basis: ProgressBasis) -> float:
    return float(point.scope_count) if basis is ProgressBasis.COUNT else point.scope_estimate


def growth_since_baseline(
    trend: Trend, key: str, basis: ProgressBasis, current: float
) -> float | None:
    """Scope growth since the baseline as a fraction (0.25 = a quarter more work)."""
    base = trend.baseline.get(key)
    if base is None or scope_of(base, basis) <= 0:
        return None
    return (current - scope_of(base, basis)) / scope_of(base, basis)


def growth_history(
    trend: Trend, key: str, *, as_of: date, weeks: int, basis: ProgressBasis, current: float
) -> History | None:
    """Scope added (net of removals) in each of the last ``weeks`` weeks, oldest first, in
    the basis's unit, as far back as the snapshots reach (None: no week to go by)."""
    sizes = [current]
    starts = []
    for k in range(1, weeks + 1):
        point = trend.at_or_before(key, as_of - timedelta(days=7 * k))
        if point is None:
            break
        sizes.append(scope_of(point, basis))
        starts.append(as_of - timedelta(days=7 * k - 1))
    if len(sizes) < 2:
        return None
    net = [round(newer - older, 6) for newer, older in itertools.pairwise(sizes)]
    counts = [max(0, round(n)) for n in net]
    return History(tuple(reversed(counts)), tuple(reversed(starts)), sizes=tuple(reversed(net)))


def baselines(
    points: Iterable[SnapshotPoint], baseline_on: date | None
) -> dict[str, SnapshotPoint]:
    """Each outcome's baseline: its last snapshot on or before ``baseline_on``, or else its
    first snapshot (the first one ever when no baseline date is set)."""
    chosen: dict[str, SnapshotPoint] = {}
    for point in sorted(points, key=lambda p: p.on):
        current = chosen.get(point.outcome_key)
        if current is None or (baseline_on is not None and point.on <= baseline_on):
            chosen[point.outcome_key] = point
    return chosen
