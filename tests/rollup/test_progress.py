"""Progress by count and by estimate, imputation, weights and the contributors behind it."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollup.mapping import ItemIndex, assign
from rollup.model import ProgressBasis, Selector, WorkItem
from rollup.progress import combine, summarize
from tests.rollup.builders import done, item, outcome, program
from vocabulary import ItemKind, StatusCategory

EPIC = item("PAY-1", kind=ItemKind.EPIC)


def _progress(items: list[WorkItem], basis: ProgressBasis = ProgressBasis.COUNT):  # type: ignore[no-untyped-def]
    o = outcome("pay", basis=basis)
    index = ItemIndex(items)
    return summarize(o, assign(program(o), index).units["pay"], index)


@pytest.mark.parametrize(
    ("items", "basis", "done_", "total", "unestimated"),
    [
        pytest.param([done("PAY-2"), item("PAY-3")], "count", 1, 2, 2, id="count"),
        pytest.param(
            [done("PAY-2", estimate=3), item("PAY-3", estimate=5)],
            "estimate",
            3,
            8,
            0,
            id="estimate",
        ),
        pytest.param(
            [
                EPIC,
                done("PAY-2", estimate=2, parent_key="PAY-1"),
                item("PAY-3", estimate=4, parent_key="PAY-1"),
                item("PAY-4", estimate=9, parent_key="PAY-1"),
                item("PAY-5", parent_key="PAY-1"),
            ],
            "estimate",
            2,
            19,
            1,
            id="imputes-median-of-siblings",
        ),
        pytest.param(
            [item("PAY-2", estimate=2), item("PAY-3", estimate=6), item("PAY-4")],
            "estimate",
            0,
            12,
            1,
            id="imputes-median-of-outcome-without-siblings",
        ),
        pytest.param(
            [item("PAY-2"), done("PAY-3")], "estimate", 1, 2, 2, id="no-estimates-counts-one-each"
        ),
        pytest.param(
            [
                item("PAY-2"),
                item("PAY-3", parent_key="PAY-2", kind=ItemKind.SUBTASK, estimate=2),
                item("PAY-4", parent_key="PAY-2", kind=ItemKind.SUBTASK, estimate=3),
            ],
            "estimate",
            0,
            5,
            0,
            id="subtask-estimates-roll-into-parent",
        ),
        pytest.param(
            [done("PAY-2"), item("PAY-3", deleted=True)], "count", 1, 1, 1, id="deleted-excluded"
        ),
    ],
)
def test_progress(
    items: list[WorkItem], basis: str, done_: float, total: float, unestimated: int
) -> None:
    progress = _progress(items, ProgressBasis(basis))
    assert (progress.done, progress.total, progress.unestimated) == (done_, total, unestimated)


def test_contributors_explain_every_share() -> None:
    progress = _progress(
        [done("PAY-2", estimate=1), item("PAY-3", estimate=3)], ProgressBasis.ESTIMATE
    )
    shares = {c.item.key: (c.share, c.item.status_category) for c in progress.contributors}
    assert shares == {
        "PAY-2": (0.25, StatusCategory.DONE),
        "PAY-3": (0.75, StatusCategory.TODO),
    }
    assert sum(c.share for c in progress.contributors) == pytest.approx(1.0)


def test_program_progress_is_done_over_total_counting_shared_items_once() -> None:
    heavy = outcome("heavy", Selector("jira", keys=("PAY-1", "PAY-2")), weight=3)
    light = outcome("light", Selector("jira", keys=("PAY-2", "PAY-3")), weight=1)
    index = ItemIndex([done("PAY-1"), item("PAY-2"), item("PAY-3")])
    units = assign(program(heavy, light), index).units
    parts = [(o, summarize(o, units[o.key], index)) for o in (heavy, light)]
    total = combine(parts, ProgressBasis.COUNT)
    assert (total.done, total.total) == (1, 3)
    assert total.fraction == pytest.approx(1 / 3)


def test_program_progress_is_not_a_mean_of_outcome_percentages() -> None:
    # A finished 10-item outcome and a 30-item outcome with 2 done: 12 of 40, not 53 %.
    small = outcome("small", Selector("jira", projects=("PAY",)))
    large = outcome("large", Selector("jira", projects=("WEB",)))
    items = [done(f"PAY-{n}") for n in range(10)] + [done(f"WEB-{n}") for n in range(2)]
    items += [item(f"WEB-{n}") for n in range(2, 30)]
    index = ItemIndex(items)
    units = assign(program(small, large), index).units
    parts = [(o, summarize(o, units[o.key], index)) for o in (small, large)]
    assert combine(parts, ProgressBasis.COUNT).fraction == pytest.approx(0.30)


statuses = st.sampled_from(list(StatusCategory))
estimates = st.one_of(st.none(), st.floats(min_value=0, max_value=100))
work = st.lists(st.tuples(statuses, estimates, st.integers(0, 3)), min_size=0, max_size=25)


def _items(spec: list[tuple[StatusCategory, float | None, int]]) -> list[WorkItem]:
    epics = [item(f"PAY-{900 + e}", kind=ItemKind.EPIC) for e in range(4)]
    return epics + [
        item(f"PAY-{n}", category=c, estimate=e, parent_key=f"PAY-{900 + p}")
        for n, (c, e, p) in enumerate(spec)
    ]


@given(work, st.sampled_from(list(ProgressBasis)))
def test_progress_stays_within_zero_and_one(spec, basis) -> None:  # type: ignore[no-untyped-def]
    progress = _progress(_items(spec), basis)
    assert 0.0 <= progress.fraction <= 1.0
    assert 0.0 <= progress.done <= progress.total + 1e-9


@given(work, st.sampled_from(list(ProgressBasis)), st.integers(0, 24))
def test_finishing_an_item_never_lowers_progress(spec, basis, which) -> None:  # type: ignore[no-untyped-def]
    items = _items(spec)
    if which + 4 >= len(items):
        return
    before = _progress(items, basis).fraction
    target = items[which + 4]
    items[which + 4] = dataclasses.replace(
        target, status_category=StatusCategory.DONE, status="Done"
    )
    assert _progress(items, basis).fraction >= before - 1e-12
