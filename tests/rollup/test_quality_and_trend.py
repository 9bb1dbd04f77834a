"""Data quality checks, and what the snapshots say about baselines and growth."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rollup.model import Dependency, ProgressBasis, SnapshotPoint
from rollup.quality import assess
from rollup.trend import Trend, baselines, growth_history, growth_since_baseline
from tests.rollup.builders import AS_OF, done, item, outcome, ref, world


def test_quality_scores_units_without_gaps() -> None:
    by_estimate = outcome("pay", basis=ProgressBasis.ESTIMATE)
    no_target = outcome("web")
    items = [
        item("PAY-1", estimate=2),
        item("PAY-2"),
        done("PAY-3", estimate=1, done_at=None),
        item("PAY-4", estimate=3),
    ]
    index, _ = world(items)
    units = [ref(f"PAY-{n}") for n in range(1, 5)]
    quality = assess(
        [(by_estimate, units), (no_target, [])],
        index,
        dangling=[Dependency(ref("PAY-4"), ref("GONE-1"))],
        unmapped=(ref("PAY-9"),),
    )
    assert quality.score == 0.25
    assert {c.name: [k for _, k in c.items] for c in quality.checks} == {
        "missing_estimate": ["PAY-2"],
        "done_without_date": ["PAY-3"],
        "dangling_dependency": ["PAY-4"],
        "unmapped_work": ["PAY-9"],
        "no_target": [],
    }
    assert quality.gaps == (ref("PAY-2"), ref("PAY-3"), ref("PAY-4"))


def point(days_ago: int, scope: int, key: str = "pay") -> SnapshotPoint:
    return SnapshotPoint(AS_OF - timedelta(days=days_ago), key, scope, 0, float(scope))


def test_baseline_is_the_first_snapshot_or_the_last_before_the_baseline_date() -> None:
    points = [point(30, 10), point(20, 12), point(10, 15)]
    assert baselines(points, None)["pay"].scope_count == 10
    assert baselines(points, AS_OF - timedelta(days=15))["pay"].scope_count == 12
    assert baselines(points, AS_OF - timedelta(days=60))["pay"].scope_count == 10


def test_growth_since_baseline() -> None:
    trend = Trend.of([point(30, 10)], baselines([point(30, 10)], None))
    assert growth_since_baseline(trend, "pay", ProgressBasis.COUNT, 12) == 0.2
    assert growth_since_baseline(trend, "web", ProgressBasis.COUNT, 12) is None


@pytest.mark.parametrize(
    ("basis", "current", "sizes"),
    [
        pytest.param(ProgressBasis.COUNT, 16.0, (2.0, 0.0, 4.0), id="items"),
        pytest.param(ProgressBasis.ESTIMATE, 31.0, (4.0, 0.0, 7.0), id="points"),
    ],
)
def test_weekly_growth_from_snapshots_oldest_first_in_the_basis_unit(
    basis: ProgressBasis, current: float, sizes: tuple[float, ...]
) -> None:
    points = [
        SnapshotPoint(AS_OF - timedelta(days=d), "pay", n, 0, float(e))
        for d, n, e in ((21, 10, 20), (14, 12, 24), (8, 12, 24), (1, 15, 30))
    ]
    found = growth_history(
        Trend.of(points), "pay", as_of=AS_OF, weeks=4, basis=basis, current=current
    )
    assert found is not None
    assert found.sizes == sizes


def test_weekly_growth_needs_a_snapshot_a_week_old() -> None:
    trend = Trend.of([point(3, 10)])
    assert (
        growth_history(trend, "pay", as_of=AS_OF, weeks=4, basis=ProgressBasis.COUNT, current=12.0)
        is None
    )
