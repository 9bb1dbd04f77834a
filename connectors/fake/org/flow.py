"""How Northwind's work flows: six months of history played out day by day, then the
small changes of a working day while the demo runs.

Each lane pulls the next story of its board whose blockers are done, up to its WIP limit,
and finishes it a few working days later (sometimes through review). Stories written
after their epic opened are scope added; a story that needs unfinished work waits. All
of it is seeded, so the same seed and the same day give the same organisation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from connectors.fake.org.plan import (
    BLOCKS,
    HISTORY_DAYS,
    JUMPS_QUEUE,
    LANES,
    NEEDS_BY,
    Epic,
    Lane,
    Story,
)
from connectors.fake.org.world import DOING, DONE, REVIEW, TODO, Organisation, Work

WORKDAY_START = time(8, 0)
FOLLOW_UPS = (
    "Edge cases found in review",
    "Error states",
    "Monitoring and alerts",
    "Copy changes from legal",
    "Fix a bug found in QA",
    "Analytics events",
    "Load test",
)
GROWING = ("PAY", "WEB", "RISK", "ACC", "onboarding", "lifecycle")
"""Lanes whose programs keep finding more work while the demo runs."""


@dataclass(frozen=True, slots=True)
class Change:
    """What one person just did, for the demo's log."""

    key: str
    text: str


class Flow:
    """The organisation's work over time: ``play`` writes history, ``step`` lives on."""

    def __init__(self, org: Organisation, *, today: date, seed: int = 7) -> None:
        self.org = org
        self.today = today
        self.start = datetime.combine(today - timedelta(days=HISTORY_DAYS), time(), UTC)
        self.rng = random.Random(seed)
        self.day = -1
        self._minute = 0
        self._pending = list(BLOCKS)
        self._needers = {blocker for blocker, blocked in BLOCKS if blocked in NEEDS_BY}

    def moment(self, day: int) -> datetime:
        """The end of a history day: when its snapshot is taken."""
        return self.start + timedelta(days=day, hours=18)

    def date_in(self, days: int) -> date:
        return self.today + timedelta(days=days)

    # History --------------------------------------------------------------------------

    def play(self, until: int) -> None:
        """Play the days after the last one played, up to ``until`` (a history day)."""
        while self.day < until:
            self.day += 1
            self._minute = 0
            self._open(self.day)
            self._link()
            if (self.start + timedelta(days=self.day)).weekday() < 5:
                for lane in LANES:
                    self._work(lane, self.day)

    def _tick(self) -> None:
        """Advance the clock a few minutes within the day: each change has its moment."""
        self._minute += self.rng.randint(3, 25)
        at = datetime.combine(self.start.date() + timedelta(days=self.day), WORKDAY_START, UTC)
        self.org.set_at(at + timedelta(minutes=min(self._minute, 9 * 60)))

    def _open(self, day: int) -> None:
        for lane in LANES:
            if day == min(e.opens_on for e in lane.epics):
                for milestone in lane.milestones:
                    self._tick()
                    self.org.add(
                        lane, milestone.title, "milestone", due=self.date_in(milestone.due_in)
                    )
            for milestone in lane.milestones:
                if milestone.due_in < 0 and day == HISTORY_DAYS + milestone.due_in:
                    self._tick()
                    self.org.move(self.org.by_title[milestone.title], DONE)
            for epic in lane.epics:
                if epic.opens_on == day:
                    self._tick()
                    due = self.date_in(epic.due_in) if epic.due_in is not None else None
                    self.org.add(lane, epic.title, "epic", due=due)
                for story in epic.stories:
                    if (story.opens_on or epic.opens_on) == day:
                        self._story(lane, epic, story)

    def _story(self, lane: Lane, epic: Epic, story: Story) -> None:
        self._tick()
        parent = self.org.by_title[epic.title]
        start = self.date_in(NEEDS_BY[story.title]) if story.title in NEEDS_BY else None
        due = (
            self.date_in(epic.due_in)
            if story.title in self._needers and epic.due_in is not None
            else None
        )
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

    def _link(self) -> None:
        ready = [
            (a, b) for a, b in self._pending if a in self.org.by_title and b in self.org.by_title
        ]
        for pair in ready:
            self._tick()
            self.org.block(self.org.by_title[pair[0]], self.org.by_title[pair[1]])
            self._pending.remove(pair)

    def _work(self, lane: Lane, day: int) -> None:
        stories = [w for w in self.org.lane_work(lane) if w.kind == "story"]
        for work in [w for w in stories if w.state in (DOING, REVIEW)]:
            if work.finish_on is not None and work.finish_on <= day and _free(work):
                self._tick()
                self._advance(work, day)
            elif day - work.touched_on >= self.rng.randint(3, 6):
                self._tick()
                self.org.touch(work)
                work.touched_on = day
        for work in [w for w in stories if w.state == TODO and w.jumps_queue]:
            self._tick()
            self._start(work, day)
        doing = sum(w.state in (DOING, REVIEW) for w in stories)
        for work in stories:
            if doing >= lane.wip:
                break
            if work.state == TODO and _free(work):
                self._tick()
                self._start(work, day)
                doing += 1

    def _start(self, work: Work, day: int) -> None:
        low, high = work.lane.days
        work.finish_on = day + round(self.rng.randint(low, high) * 7 / 5)
        work.touched_on = day
        self.org.move(work, DOING)
        epic = work.epic
        if epic is not None and epic.state == TODO:
            self.org.move(epic, DOING)

    def _advance(self, work: Work, day: int) -> None:
        if work.state == DOING and self.rng.random() < 0.4:
            work.finish_on = day + self.rng.randint(1, 2)
            work.touched_on = day
            self.org.move(work, REVIEW)
            return
        self.org.move(work, DONE)
        epic = work.epic
        if epic is not None and all(w.state == DONE for w in self.org.work if w.epic is epic):
            self.org.move(epic, DONE)

    # Live -------------------------------------------------------------------------------

    def step(self) -> Change | None:
        """One change by someone at work, at the clock's time (the demo calls this every
        few seconds): work moves on or gets done, new work is added, links appear."""
        roll = self.rng.random()
        lane = self.rng.choice(LANES)
        stories = [w for w in self.org.lane_work(lane) if w.kind == "story"]
        moving = [w for w in stories if w.state in (DOING, REVIEW) and _free(w)]
        waiting = [w for w in stories if w.state == TODO and _free(w)]
        if roll < 0.45 and moving:
            work = moving[0]
            self._advance(work, self.day)
            return Change(work.key, f"{_name(work)} moved to {work.state}: {work.title}")
        if roll < 0.75 and waiting:
            work = waiting[0]
            self._start(work, self.day)
            return Change(work.key, f"{_name(work)} started: {work.title}")
        if roll < 0.9:
            return self._add_follow_up(lane)
        return self._new_link()

    def _add_follow_up(self, lane: Lane) -> Change | None:
        """Work found while doing work: scope added to a program already under pressure."""
        if lane.slug not in GROWING:
            return None
        stories = [w for w in self.org.lane_work(lane) if w.kind == "story" and w.epic is not None]
        if not stories:
            return None
        story = self.rng.choice(stories)
        title = f"{self.rng.choice(FOLLOW_UPS)} for “{story.title}”"
        if title in self.org.by_title or story.epic is None:
            return None
        work = self.org.add(
            lane,
            title,
            "story",
            points=self.rng.choice((1, 2, 3, 5)),
            epic=story.epic,
            assignee=self.rng.choice(lane.people),
        )
        return Change(work.key, f"{_name(work)} added to {story.epic.title}: {title}")

    def _new_link(self) -> Change | None:
        """Someone notices that a story waits for another on the Checkout program."""
        checkout = [w for w in self.org.work if w.kind == "story" and w.lane.slug in ("PAY", "WEB")]
        blockers = [w for w in checkout if w.state in (DOING, REVIEW)]
        blocked = [w for w in checkout if w.state == TODO and w.lane.slug == "WEB"]
        if not blockers or not blocked:
            return None
        before, after = self.rng.choice(blockers), self.rng.choice(blocked)
        if before in after.blockers:
            return None
        self.org.block(before, after)
        return Change(after.key, f"{_name(after)} now waits for {_name(before)}")


def _free(work: Work) -> bool:
    return all(b.state == DONE for b in work.blockers)


def _name(work: Work) -> str:
    """How a log line names work: its Jira key, or its Asana project."""
    return work.key if work.jira else f"[{work.lane.name}]"
