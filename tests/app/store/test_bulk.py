"""The bulk statements bind exactly what the ORM types they bypass would bind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.sqlite import DATE, DATETIME

from app.store import bulk

AUCKLAND = timezone(timedelta(hours=13))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=AUCKLAND),
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
    ids=["whole-second", "microseconds-in-another-zone", "last-microsecond"],
)
def test_sqlite_datetimes_are_sqlalchemys_text_in_utc(moment: datetime) -> None:
    sqlalchemy = DATETIME().bind_processor(None)  # type: ignore[no-untyped-call]
    expected = sqlalchemy(moment.astimezone(UTC).replace(tzinfo=None))
    assert bulk.sqlite_datetime(moment) == expected


def test_sqlite_dates_are_sqlalchemys_text() -> None:
    sqlalchemy = DATE().bind_processor(None)  # type: ignore[no-untyped-call]
    assert bulk.sqlite_date(date(2026, 2, 3)) == sqlalchemy(date(2026, 2, 3))


def test_a_datetime_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="without a time zone"):
        bulk.sqlite_datetime(datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="without a time zone"):
        bulk.utc(datetime(2026, 1, 2))


@pytest.mark.parametrize("count", [0, 1, 7, 1000, 3000])
def test_sqlite_batches_cover_every_row_once_in_a_few_sizes(count: int) -> None:
    batches = bulk.sqlite_batches(count, 1103)
    assert [i for start, stop in batches for i in range(start, stop)] == list(range(count))
    sizes = {stop - start for start, stop in batches}
    assert all(size & (size - 1) == 0 and size <= 1024 for size in sizes)
