"""Weekly windows of finished work: counts, the share of each window observed, sizes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rollup.history import History, elapsed_share, weekly_history
from tests.rollup.builders import AS_OF, at, done, item

NOON = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC)


class TestWeeklyHistory:
    def test_counts_completions_per_seven_day_window_ending_on_as_of(self) -> None:
        items = [done("A-1", 0), done("A-2", 6), done("A-3", 7), done("A-4", 20), item("A-5")]
        history = weekly_history(items, as_of=AS_OF, zone=UTC, weeks=4)
        assert history.weeks == (0, 1, 1, 2)
        assert history.starts[-1] == AS_OF - timedelta(days=6)

    def test_leaves_out_weeks_before_the_work_existed(self) -> None:
        items = [done("A-1", 1, created_at=at(15)), item("A-2", created_at=at(10))]
        assert weekly_history(items, as_of=AS_OF, zone=UTC, weeks=12).weeks == (0, 0, 1)

    def test_uses_the_resolution_date_when_history_is_missing(self) -> None:
        finished = done("A-1", 3, done_at=None, resolved_at=at(3))
        assert weekly_history([finished], as_of=AS_OF, zone=UTC, weeks=2).weeks == (0, 1)

    def test_the_oldest_window_counts_only_from_when_the_work_began(self) -> None:
        # The work began at midnight 16.5 days before noon today, three days before the
        # oldest window it lived in ended.
        items = [item("A-1", created_at=at(16.5))]
        history = weekly_history(items, as_of=AS_OF, zone=UTC, weeks=12)
        assert history.exposure == pytest.approx((3 / 7, 1.0, 1.0))

    def test_today_counts_only_as_far_as_it_has_gone(self) -> None:
        items = [item("A-1", created_at=at(60))]
        history = weekly_history(items, as_of=AS_OF, zone=UTC, weeks=2, now=NOON)
        assert history.exposure == pytest.approx((1.0, 6.5 / 7))

    def test_sizes_are_in_the_basis_unit(self) -> None:
        items = [done("A-1", 1), done("A-2", 2), done("A-3", 9)]
        sizes = {("jira", "A-1"): 3.0, ("jira", "A-2"): 5.0, ("jira", "A-3"): 8.0}
        history = weekly_history(items, as_of=AS_OF, zone=UTC, weeks=2, sizes=sizes)
        assert history.weeks == (1, 2)
        assert history.sizes == (8.0, 8.0)


@pytest.mark.parametrize(
    ("weeks", "quiet"),
    [((3, 0, 0), 2), ((0, 0, 0), 3), ((0, 2, 1), 0), ((), 0)],
    ids=["two-quiet-weeks", "nothing-at-all", "busy-lately", "no-history"],
)
def test_quiet_weeks_count_the_windows_at_the_end_with_nothing_finished(
    weeks: tuple[int, ...], quiet: int
) -> None:
    assert History(weeks, ()).quiet_weeks() == quiet


def test_rate_is_work_over_weeks_observed() -> None:
    history = History((2, 6, 3), (), exposure=(0.5, 1.0, 0.5))
    assert history.rate() == pytest.approx(11 / 2.0)
    assert history.rate(last=1) == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("now", "share"),
    [(None, 1.0), (NOON, 0.5), (NOON - timedelta(hours=12), 0.0)],
    ids=["end-of-day", "noon", "midnight"],
)
def test_elapsed_share_of_today(now: datetime | None, share: float) -> None:
    assert elapsed_share(AS_OF, now, UTC) == pytest.approx(share)
