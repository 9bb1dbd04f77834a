"""Flow figures on a scripted history whose answers are worked out by hand."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from rollup.flow import Day, FlowItem, Move, measure, nearest_rank, trend
from vocabulary import StatusCategory as C

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
AS_OF = date(2026, 3, 28)  # a Saturday; the two weeks are 15-21 and 22-28 March


def at(day: int, hour: int = 10) -> datetime:
    """A moment in March 2026, Berlin time, as UTC."""
    return datetime(2026, 3, day, hour, tzinfo=ZONE).astimezone(UTC)


def item(key: str, now: C, *moves: tuple[int, C], created: int = 10, hour: int = 10) -> FlowItem:
    return FlowItem(
        key=key,
        title=f"Title {key}",
        category=now,
        created_at=at(created),
        moves=tuple(Move(at(d, hour), c) for d, c in moves),
    )


SCRIPT = [
    # Started the 16th, done the 18th: 3 days.
    item("A", C.DONE, (16, C.IN_PROGRESS), (18, C.DONE)),
    # Re-opened: done the 17th, back in progress the 19th, done for good the 24th.
    item("B", C.DONE, (15, C.IN_PROGRESS), (17, C.DONE), (19, C.IN_PROGRESS), (24, C.DONE)),
    # Done without ever being in progress: no cycle time.
    item("C", C.DONE, (20, C.DONE)),
    # Started and finished the same day: 1 day.
    item("D", C.DONE, (25, C.IN_PROGRESS), (25, C.DONE), created=23),
    # Open, started the 21st: 8 days old on the 28th.
    item("E", C.IN_PROGRESS, (21, C.IN_PROGRESS)),
    # Never started; arrives in the second week.
    item("F", C.TODO, created=26),
    # Re-opened and still open: no finish, aged from its first start (the 14th: 15 days).
    item("G", C.IN_PROGRESS, (14, C.IN_PROGRESS), (16, C.DONE), (22, C.IN_PROGRESS)),
]


class TestMeasure:
    def flow(self):  # type: ignore[no-untyped-def]
        return measure(SCRIPT, as_of=AS_OF, zone=ZONE, weeks=2)

    def test_cycle_times_run_from_first_start_to_final_finish(self) -> None:
        found = {c.key: c.days for c in self.flow().cycle_times}
        assert found == {"A": 3, "B": 10, "D": 1}

    def test_reopened_work_is_counted_once(self) -> None:
        flow = self.flow()
        assert [c.key for c in flow.cycle_times].count("B") == 1
        assert sum(w.departures for w in flow.weeks) == 4  # A, B, C, D; G is open again

    def test_work_done_without_start_is_counted_apart(self) -> None:
        flow = self.flow()
        assert flow.done_without_start == ("C",)
        assert flow.percentiles.count == 3

    def test_percentiles_by_nearest_rank(self) -> None:
        p = self.flow().percentiles
        assert (p.p50, p.p85, p.p95) == (3, 10, 10)

    def test_weekly_throughput_and_arrivals(self) -> None:
        weeks = self.flow().weeks
        assert [w.start for w in weeks] == [date(2026, 3, 15), date(2026, 3, 22)]
        assert [w.departures for w in weeks] == [2, 2]  # A, C | B, D
        assert [w.arrivals for w in weeks] == [0, 2]  # D (23rd), F (26th)
        assert [w.net for w in weeks] == [-2, 0]

    def test_cumulative_flow_counts_each_day(self) -> None:
        days = {d.on: d for d in self.flow().days}
        # 15th: A, C, E, G arrived (created the 10th) in to-do apart from G, B started.
        assert days[date(2026, 3, 15)] == Day(date(2026, 3, 15), 3, 2, 0)
        # 17th: A in progress, B done (for now), G done, C and E waiting.
        assert days[date(2026, 3, 17)] == Day(date(2026, 3, 17), 2, 1, 2)
        # 25th: D arrived and done the same day; A, B, C done; E, G in progress.
        assert days[date(2026, 3, 25)] == Day(date(2026, 3, 25), 0, 2, 4)
        # 28th: F arrived.
        assert days[AS_OF] == Day(AS_OF, 1, 2, 4)

    def test_wip_is_the_in_progress_band(self) -> None:
        wip = [d.in_progress for d in self.flow().days]
        # 15th B, G; 16th A, B (G done); 17th A; 18th none; 19th-20th B; 21st B, E.
        assert wip[:7] == [2, 2, 1, 0, 1, 1, 2]

    def test_aging_names_work_past_p85(self) -> None:
        aging = self.flow().aging
        assert [(a.key, a.age_days, a.past_p85) for a in aging] == [
            ("G", 15, True),
            ("E", 8, False),
        ]
        assert aging[0].percentile == 100.0
        assert aging[1].percentile == pytest.approx(66.7)

    def test_days_are_local_to_the_program(self) -> None:
        # 23:30 in Berlin on the 16th is the 16th there, the 16th 22:30 UTC.
        late = FlowItem(
            "L",
            "late",
            C.DONE,
            at(10),
            (Move(at(16, 23), C.IN_PROGRESS), Move(at(17, 0) + timedelta(minutes=30), C.DONE)),
        )
        (found,) = measure([late], as_of=AS_OF, zone=ZONE, weeks=2).cycle_times
        assert (found.started_on, found.finished_on, found.days) == (
            date(2026, 3, 16),
            date(2026, 3, 17),
            2,
        )

    def test_items_without_history_count_in_their_category_from_creation(self) -> None:
        asana = FlowItem("T", "task", C.DONE, at(10), (), resolved_at=at(23))
        flow = measure([asana], as_of=AS_OF, zone=ZONE, weeks=2)
        assert flow.done_without_start == ("T",)
        assert [w.departures for w in flow.weeks] == [0, 1]
        assert flow.days[0] == Day(date(2026, 3, 15), 1, 0, 0)
        assert flow.days[-1] == Day(AS_OF, 0, 0, 1)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 50, None), ([5], 95, 5), ([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 85, 4)],
    ids=["empty", "one", "median-of-four", "p85-of-four"],
)
def test_nearest_rank(values: list[int], q: float, expected: int | None) -> None:
    assert nearest_rank(values, q) == expected


def test_trend_is_the_least_squares_slope() -> None:
    assert trend([1, 2, 3]) == 1.0
    assert trend([4, 4]) == 0.0
    assert trend([7]) == 0.0


HOSTILE = '<script>alert("s")</script> & Ready'


def moved(day: int, into: str, category: C, came_from: str) -> Move:
    return Move(at(day), category, into, came_from)


STATUS_SCRIPT = [
    # To Do → Doing (16th) → In Review (18th) → Done (20th).
    FlowItem(
        "X",
        "x",
        C.DONE,
        at(10),
        (
            moved(16, "Doing", C.IN_PROGRESS, "To Do"),
            moved(18, "In Review", C.IN_PROGRESS, "Doing"),
            moved(20, "Done", C.DONE, "In Review"),
        ),
        status="Done",
    ),
    # Waits in a status with a hostile name, Doing the 17th, Done the 22nd.
    FlowItem(
        "Y",
        "y",
        C.DONE,
        at(10),
        (moved(17, "Doing", C.IN_PROGRESS, HOSTILE), moved(22, "Done", C.DONE, "Doing")),
        status="Done",
    ),
    # The history does not say where it was before Doing (the 19th).
    FlowItem(
        "W", "w", C.IN_PROGRESS, at(10), (moved(19, "Doing", C.IN_PROGRESS, ""),), status="Doing"
    ),
    # No history: in its status now from its creation (the 24th).
    FlowItem("Z", "z", C.TODO, at(24), status="To Do"),
]


class TestByStatus:
    def flow(self):  # type: ignore[no-untyped-def]
        return measure(STATUS_SCRIPT, as_of=AS_OF, zone=ZONE, weeks=2, by_status=True)

    def test_statuses_are_ordered_by_category_then_name(self) -> None:
        assert [(s.name, s.category) for s in self.flow().statuses] == [
            ("(status not recorded)", C.TODO),
            (HOSTILE, C.TODO),
            ("To Do", C.TODO),
            ("Doing", C.IN_PROGRESS),
            ("In Review", C.IN_PROGRESS),
            ("Done", C.DONE),
        ]

    def test_each_day_counts_the_items_in_each_status(self) -> None:
        flow = self.flow()
        by_day = dict(zip((d.on for d in flow.days), flow.status_days, strict=True))
        # Columns: not recorded, hostile, To Do, Doing, In Review, Done.
        expected = {
            15: (1, 1, 1, 0, 0, 0),
            16: (1, 1, 0, 1, 0, 0),
            17: (1, 0, 0, 2, 0, 0),
            18: (1, 0, 0, 1, 1, 0),
            19: (0, 0, 0, 2, 1, 0),
            20: (0, 0, 0, 2, 0, 1),
            21: (0, 0, 0, 2, 0, 1),
            22: (0, 0, 0, 1, 0, 2),
            23: (0, 0, 0, 1, 0, 2),
            24: (0, 0, 1, 1, 0, 2),
            28: (0, 0, 1, 1, 0, 2),
        }
        for day, counts in expected.items():
            assert by_day[date(2026, 3, day)] == counts, day

    def test_statuses_add_up_to_their_categories_every_day(self) -> None:
        flow = self.flow()
        columns = [s.category for s in flow.statuses]
        for day, counts in zip(flow.days, flow.status_days, strict=True):
            summed = {c: sum(n for n, k in zip(counts, columns, strict=True) if k is c) for c in C}
            assert (summed[C.TODO], summed[C.IN_PROGRESS], summed[C.DONE]) == (
                day.todo,
                day.in_progress,
                day.done,
            )

    def test_not_asked_for_the_flow_has_no_statuses(self) -> None:
        flow = measure(STATUS_SCRIPT, as_of=AS_OF, zone=ZONE, weeks=2)
        assert (flow.statuses, flow.status_days) == ((), ())
