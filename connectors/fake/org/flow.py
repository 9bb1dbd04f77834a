"""How Northwind's work flows: six months of history played out day by day, then the
same working days live, at a demo's pace.

Each lane pulls the next story of its board whose blockers are done, up to its WIP limit,
and finishes it a few working days later (sometimes through review); work in progress is
commented on every few days. Stories written after their epic opened are scope added; a
story that needs unfinished work waits. All of it is seeded, so the same seed and the
same day give the same organisation.

Live, the organisation goes on working by the same rules, so its work finishes at its
historical pace and scope arrives as it did over the last twelve weeks (the live days add
follow-up stories at that rate); only time runs faster: a working week lasts ``week`` of
the fakes' clock (an hour by default), its changes spread evenly over it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from connectors.fake.org.plan import (
    BLOCKS,
    HISTORY_DAYS,
    JUMPS_QUEUE,
    LANES,
    NEEDS_BY,
    STORIES,
    Epic,
    Lane,
    Story,
)
from connectors.fake.org.world import DOING, DONE, REVIEW, TODO, Organisation, Work

WORKDAY_START = time(8, 0)
WORKDAY_MINUTES = 9 * 60
WORKING_WEEK = 5
PACE_WEEKS = 12
"""The live organisation adds scope at the rate of these last weeks of its history."""
LIVE_WEEK = timedelta(hours=1)
FOLLOW_UPS = (
    "Edge cases found in review",
    "Error states",
    "Monitoring and alerts",
    "Copy changes from legal",
    "Fix a bug found in QA",
    "Analytics events",
    "Load test",
)


@dataclass(frozen=True, slots=True)
class Change:
    """What one person just did, for the demo's log."""

    key: str
    text: str


class Flow:
    """The organisation's work over time: ``play`` writes history, ``step`` lives on."""

    def __init__(
        self, org: Organisation, *, today: date, seed: int = 7, week: timedelta = LIVE_WEEK
    ) -> None:
        self.org = org
        self.today = today
        self.week = week
        """How long a working week of the organisation lasts live."""
        self.start = datetime.combine(today - timedelta(days=HISTORY_DAYS), time(), UTC)
        self.rng = random.Random(seed)
        self.day = -1
        self.written: list[tuple[int, str]] = []
        """(day, lane) of every story written after its epic opened: scope added."""
        self._minute = 0
        self._pending = list(BLOCKS)
        self._needers = {blocker for blocker, blocked in BLOCKS if blocked in NEEDS_BY}
        self._made: list[Change] = []
        self._live: _Live | None = None

    def moment(self, day: int) -> datetime:
        """The end of a history day: when its snapshot is taken."""
        return self.start + timedelta(days=day, hours=18)

    def date_in(self, days: int) -> date:
        return self.today + timedelta(days=days)

    def working(self, day: int) -> bool:
        return (self.start + timedelta(days=day)).weekday() < 5

    # History --------------------------------------------------------------------------

    def play(self, until: int) -> None:
        """Play the days after the last one played, up to ``until`` (a history day)."""
        while self.day < until:
            self.day += 1
            for minute in self._day(self.day):
                self.org.set_at(self._at(self.day, minute))
        self._made.clear()

    def _at(self, day: int, minute: int) -> datetime:
        opening = datetime.combine(self.start.date() + timedelta(days=day), WORKDAY_START, UTC)
        return opening + timedelta(minutes=minute)

    def _day(self, day: int, *, live: bool = False) -> Iterator[int]:
        """One day's changes. Each is announced (its minute of the working day is yielded)
        before it is made, so a caller decides when it happens: at once while the history
        is played, when the live clock reaches it in the demo."""
        self._minute = 0
        yield from self._open(day)
        yield from self._link()
        if self.working(day):
            if live:
                for lane in LANES:
                    yield from self._grow(lane)
            for lane in LANES:
                yield from self._work(lane, day)

    def _next(self) -> int:
        """The next change's minute: a few minutes after the last one, within the day."""
        self._minute += self.rng.randint(3, 25)
        return min(self._minute, WORKDAY_MINUTES)

    def _open(self, day: int) -> Iterator[int]:
        for lane in LANES:
            if day == min(e.opens_on for e in lane.epics):
                for milestone in lane.milestones:
                    yield self._next()
                    self.org.add(
                        lane, milestone.title, "milestone", due=self.date_in(milestone.due_in)
                    )
            for milestone in lane.milestones:
                if milestone.due_in < 0 and day == HISTORY_DAYS + milestone.due_in:
                    yield self._next()
                    self.org.move(self.org.by_title[milestone.title], DONE)
            for epic in lane.epics:
                if epic.opens_on == day:
                    yield self._next()
                    due = self.date_in(epic.due_in) if epic.due_in is not None else None
                    self.org.add(lane, epic.title, "epic", due=due)
                for story in epic.stories:
                    if (story.opens_on or epic.opens_on) == day:
                        yield from self._story(lane, epic, story, day)

    def _story(self, lane: Lane, epic: Epic, story: Story, day: int) -> Iterator[int]:
        yield self._next()
        parent = self.org.by_title[epic.title]
        start = self.date_in(NEEDS_BY[story.title]) if story.title in NEEDS_BY else None
        due = None
        if story.due_in is not None:
            due = self.date_in(story.due_in)
        elif story.title in self._needers and epic.due_in is not None:
            due = self.date_in(epic.due_in)
        work = self.org.add(
            lane,
            story.title,
            "story",
            points=story.points,
            epic=parent,
            assignee=self.rng.choice(lane.people),
            start=start,
            due=due,
        )
        work.jumps_queue = story.title in JUMPS_QUEUE
        if story.opens_on is not None and story.opens_on > epic.opens_on:
            self.written.append((day, lane.slug))

    def _link(self) -> Iterator[int]:
        ready = [
            (a, b) for a, b in self._pending if a in self.org.by_title and b in self.org.by_title
        ]
        for pair in ready:
            yield self._next()
            before, after = self.org.by_title[pair[0]], self.org.by_title[pair[1]]
            self.org.block(before, after)
            self._pending.remove(pair)
            self._said(after, f"now waits for {_name(before)}")

    def _work(self, lane: Lane, day: int) -> Iterator[int]:
        stories = [w for w in self.org.lane_work(lane) if w.kind == "story"]
        for work in [w for w in stories if w.state in (DOING, REVIEW)]:
            if work.finish_on is not None and work.finish_on <= day and _free(work):
                yield self._next()
                self._advance(work, day)
            elif day - work.touched_on >= self.rng.randint(3, 6):
                yield self._next()
                self.org.touch(work)
                work.touched_on = day
                self._said(work, "commented on")
        for work in [w for w in stories if w.state == TODO and w.jumps_queue]:
            yield self._next()
            self._start(work, day)
        doing = sum(w.state in (DOING, REVIEW) for w in stories)
        for work in stories:
            if doing >= lane.wip:
                break
            if work.state == TODO and _free(work):
                yield self._next()
                self._start(work, day)
                doing += 1

    def _start(self, work: Work, day: int) -> None:
        story = STORIES.get(work.title)
        low, high = story.days if story is not None and story.days else work.lane.days
        work.finish_on = day + round(self.rng.randint(low, high) * 7 / 5)
        work.touched_on = day
        self.org.move(work, DOING)
        epic = work.epic
        if epic is not None and epic.state == TODO:
            self.org.move(epic, DOING)
        self._said(work, "started")

    def _advance(self, work: Work, day: int) -> None:
        if work.state == DOING and self.rng.random() < 0.4:
            work.finish_on = day + self.rng.randint(1, 2)
            work.touched_on = day
            self.org.move(work, REVIEW)
            self._said(work, "moved to review")
            return
        self.org.move(work, DONE)
        self._said(work, "finished")
        epic = work.epic
        if epic is not None and all(w.state == DONE for w in self.org.work if w.epic is epic):
            self.org.move(epic, DONE)

    def _said(self, work: Work, what: str) -> None:
        self._made.append(Change(work.key, f"{_name(work)} {what}: {work.title}"))

    # Live -------------------------------------------------------------------------------

    def step(self) -> list[Change]:
        """The changes the organisation has made since the last step, by the fakes' clock.

        The first step starts the live days: the working days after the history, one
        every ``week / 5`` of the clock, each day's changes spread over it.
        """
        now = self.org.clock.now()
        if self._live is None:
            self._live = _Live(now, self._arrivals())
            self._next_day()
        live = self._live
        reached = (now - live.began) / (self.week / WORKING_WEEK)
        self._made = []
        while live.due is not None and live.due <= reached:
            self._make_due()
        return self._made

    def _arrivals(self) -> dict[str, float]:
        """Stories written per working day into each lane's plans over the last weeks."""
        since = HISTORY_DAYS - 7 * PACE_WEEKS
        counts: dict[str, int] = {}
        for day, lane in self.written:
            if day >= since:
                counts[lane] = counts.get(lane, 0) + 1
        return {lane: n / (WORKING_WEEK * PACE_WEEKS) for lane, n in counts.items()}

    def _next_day(self) -> None:
        """Begin the next working day: its first change becomes due (or, on a quiet day,
        the day after it)."""
        live = self._live
        assert live is not None
        self.day = max(self.day + 1, HISTORY_DAYS)
        while not self.working(self.day):
            self.day += 1
        live.days += 1
        live.changes = self._day(self.day, live=True)
        self._due(next(live.changes, None))

    def _make_due(self) -> None:
        """Make the change that is due (resuming its day) and find the next one."""
        live = self._live
        assert live is not None
        if live.changes is None:
            self._next_day()
        else:
            self._due(next(live.changes, None))

    def _due(self, minute: int | None) -> None:
        live = self._live
        assert live is not None
        if minute is None:
            live.changes, live.due = None, float(live.days)
        else:
            live.due = live.days - 1 + minute / WORKDAY_MINUTES

    def _grow(self, lane: Lane) -> Iterator[int]:
        """Work found while doing work: a follow-up story, as often as the lane wrote some."""
        if self.rng.random() >= self._arrival(lane):
            return
        stories = [
            w
            for w in self.org.lane_work(lane)
            if w.kind == "story" and w.epic is not None and w.epic.state != DONE
        ]
        if not stories:
            return
        story = self.rng.choice(stories)
        title = f"{self.rng.choice(FOLLOW_UPS)} for “{story.title}”"
        if title in self.org.by_title or story.epic is None:
            return
        yield self._next()
        work = self.org.add(
            lane,
            title,
            "story",
            points=self.rng.choice((1, 2, 3, 5)),
            epic=story.epic,
            assignee=self.rng.choice(lane.people),
        )
        self._said(work, f"added to {story.epic.title}")

    def _arrival(self, lane: Lane) -> float:
        return self._live.arrivals.get(lane.slug, 0.0) if self._live else 0.0


@dataclass(slots=True)
class _Live:
    began: datetime
    """The fakes' clock at the first live step."""
    arrivals: dict[str, float]
    days: int = 0
    """Live working days begun."""
    changes: Iterator[int] | None = None
    due: float | None = None
    """When the next change is due, in live working days since ``began``."""


def _free(work: Work) -> bool:
    return all(b.state == DONE for b in work.blockers)


def _name(work: Work) -> str:
    """How a log line names work: its Jira key, or its Asana project."""
    return work.key if work.jira else f"[{work.lane.name}]"
