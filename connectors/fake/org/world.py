"""Northwind's two trackers: a fake Jira and a fake Asana on one clock, and the changes
its people make in them, whichever tracker a piece of work lives in.

Every change goes through the fakes' own data model (Jira's ``JiraData``, Asana's
``World``), so it bumps ``updated``, writes status history and, in Asana, leaves the
events webhooks deliver, exactly as a change made over the control API would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from connectors.fake.asana import FakeAsana
from connectors.fake.asana.model import CustomField, Section, Tag, Team
from connectors.fake.asana.model import Project as AsanaProject
from connectors.fake.asana.model import User as AsanaUser
from connectors.fake.asana.world import FakeClock, World
from connectors.fake.jira import FakeJira
from connectors.fake.jira.model import JiraData
from connectors.fake.jira.model import Project as JiraProject
from connectors.fake.jira.model import User as JiraUser
from connectors.fake.org.plan import LANES, PEOPLE, Lane, Person

TODO, DOING, REVIEW, DONE = "todo", "doing", "review", "done"
JIRA_STATUS = {TODO: "To Do", DOING: "In Progress", REVIEW: "In Review", DONE: "Done"}
SECTIONS = {TODO: "Backlog", DOING: "In progress", REVIEW: "In review", DONE: "Done"}
WORKSPACE = "1100000000000001"


@dataclass(slots=True)
class Work:
    """One epic, story or milestone, wherever it lives (an Asana epic is a tag)."""

    lane: Lane
    key: str
    """The Jira key, or the Asana task gid."""
    title: str
    kind: str
    """epic | story | milestone"""
    points: int | None = None
    epic: Work | None = None
    state: str = TODO
    blockers: list[Work] = field(default_factory=list)
    finish_on: int | None = None
    """The history day its doer expects to be done, once started."""
    touched_on: int = 0
    """The history day someone last updated it."""
    jumps_queue: bool = False

    @property
    def jira(self) -> bool:
        return self.lane.tracker == "jira"


class Organisation:
    """The fakes, the people in them, and every piece of work by lane."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.jira_users = {p.name: _jira_user(n, p) for n, p in enumerate(PEOPLE)}
        jira_lanes = [lane for lane in LANES if lane.tracker == "jira"]
        self.jira = FakeJira(
            JiraData(
                [
                    JiraProject(str(10_200 + n), lane.slug, lane.name, ())
                    for n, lane in enumerate(jira_lanes)
                ],
                self.jira_users.values(),
                clock=self.clock.now,
            ),
            site_url=None,
        )
        world = World(
            workspace=WORKSPACE,
            workspace_name="Northwind Outfitters",
            clock=self.clock,
            next_gid=1_100_000_000_000_100,
        )
        self.asana = FakeAsana(world)
        self.asana_users = {p.name: self._asana_user(p) for p in PEOPLE}
        world.actor = next(iter(self.asana_users.values()))
        self.points_field = world.new_gid()
        world.fields[self.points_field] = CustomField(self.points_field, "Story points", "number")
        self.projects: dict[str, str] = {}
        """Asana lane slug → project gid."""
        self.sections: dict[tuple[str, str], str] = {}
        teams: dict[str, str] = {}
        for lane in LANES:
            if lane.tracker == "asana":
                team = teams.setdefault(lane.team, self._team(lane.team))
                self._project(lane, team)
        self.work: list[Work] = []
        self.by_title: dict[str, Work] = {}

    @property
    def world(self) -> World:
        return self.asana.world

    def _asana_user(self, person: Person) -> str:
        gid = self.world.new_gid()
        self.world.users[gid] = AsanaUser(gid, person.name, person.email)
        return gid

    def _team(self, name: str) -> str:
        gid = self.world.new_gid()
        self.world.teams[gid] = Team(gid, name)
        return gid

    def _project(self, lane: Lane, team: str) -> None:
        now = self.clock.now()
        gid = self.world.new_gid()
        project = AsanaProject(gid, lane.name, team, created_at=now, modified_at=now)
        for state, name in SECTIONS.items():
            section = Section(self.world.new_gid(), name, gid, now)
            self.world.sections[section.gid] = section
            project.sections.append(section.gid)
            self.sections[(gid, state)] = section.gid
        self.world.projects[gid] = project
        self.projects[lane.slug] = gid

    # Reading -----------------------------------------------------------------------

    def lane_work(self, lane: Lane) -> Iterator[Work]:
        return (w for w in self.work if w.lane is lane)

    def url(self, work: Work) -> str:
        """How the other tracker mentions this work in text."""
        if work.jira:
            return work.key
        return f"https://app.asana.com/0/{self.projects[work.lane.slug]}/{work.key}"

    # Changing, as the lane's people would -------------------------------------------

    def add(
        self,
        lane: Lane,
        title: str,
        kind: str,
        *,
        points: int | None = None,
        epic: Work | None = None,
        assignee: str | None = None,
        due: date | None = None,
        start: date | None = None,
    ) -> Work:
        if lane.tracker == "jira":
            key = self._add_jira(lane, title, kind, points, epic, assignee, due, start)
        elif kind == "epic":
            key = self._tag(title)
        else:
            key = self._add_asana(lane, title, kind, points, epic, assignee, due, start)
        work = Work(lane, key, title, kind, points, epic)
        self.work.append(work)
        self.by_title.setdefault(title, work)
        return work

    def _add_jira(
        self,
        lane: Lane,
        title: str,
        kind: str,
        points: int | None,
        epic: Work | None,
        assignee: str | None,
        due: date | None,
        start: date | None,
    ) -> str:
        values: dict[str, object] = {"due": due, "start": start}
        if points is not None:
            values["points"] = float(points)
        if epic is not None:
            values["parent_id"] = self.jira.issue_named(epic.key).id
        if assignee is not None:
            values["assignee"] = self.jira_users[assignee]
        type_name = "Epic" if kind == "epic" else "Story"
        return self.jira.add(lane.slug, type_name, title, **values).key

    def _tag(self, name: str) -> str:
        """Asana has no epics: the teams tag each story with its epic's name."""
        gid = self.world.new_gid()
        self.world.tags[gid] = Tag(gid, name)
        return gid

    def _add_asana(
        self,
        lane: Lane,
        title: str,
        kind: str,
        points: int | None,
        epic: Work | None,
        assignee: str | None,
        due: date | None,
        start: date | None,
    ) -> str:
        project = self.projects[lane.slug]
        values: dict[str, object] = {"due_on": due, "start_on": start}
        if kind == "milestone":
            values["resource_subtype"] = "milestone"
        if points is not None:
            values["custom"] = {self.points_field: points}
        if assignee is not None:
            values["assignee"] = self.asana_users[assignee]
        if epic is not None:
            values["tags"] = [epic.key]
        return self.asana.add_task(
            title, project=project, section=self.sections[(project, TODO)], **values
        )

    def move(self, work: Work, state: str) -> None:
        """Move work along its board: To Do, In Progress, In Review, Done."""
        work.state = state
        if work.kind == "epic" and not work.jira:
            return
        if work.jira:
            self.jira.edit(work.key, status=JIRA_STATUS[state])
            return
        project = self.projects[work.lane.slug]
        changes: dict[str, object] = {"section": self.sections[(project, state)]}
        if state == DONE or self.world.tasks[work.key].completed:
            changes["completed"] = state == DONE
        self.asana.edit_task(work.key, **changes)

    def block(self, blocker: Work, blocked: Work) -> None:
        """``blocker`` must finish before ``blocked``: a link, a dependency, or a mention."""
        blocked.blockers.append(blocker)
        if blocker.jira and blocked.jira:
            self.jira.link(blocker.key, blocked.key, "Blocks")
        elif not blocker.jira and not blocked.jira:
            self.world.add_dependency(blocked.key, blocker.key)
        elif blocked.jira:
            issue = self.jira.issue_named(blocked.key)
            text = f"Blocked by {self.url(blocker)} (the Growth team's board)."
            self.jira.edit(blocked.key, description=f"{issue.description or ''}\n\n{text}".strip())
        else:
            notes = self.world.tasks[blocked.key].notes
            text = f"Blocked by {blocker.key}: the API has to ship first."
            self.asana.edit_task(blocked.key, notes=f"{notes}\n\n{text}".strip())

    def touch(self, work: Work) -> None:
        """Someone comments on the work: it counts as updated, nothing else changes."""
        if work.jira:
            self.jira.edit(work.key)
        else:
            self.asana.edit_task(work.key)

    def retitle(self, work: Work, title: str) -> None:
        work.title = title
        if work.jira:
            self.jira.edit(work.key, summary=title)
        else:
            self.asana.edit_task(work.key, name=title)

    def set_at(self, moment: datetime) -> None:
        """Put the shared clock at ``moment`` (the past while history is written)."""
        self.clock.advance((moment - self.clock.now()).total_seconds())


def _jira_user(n: int, person: Person) -> JiraUser:
    login = person.email.split("@")[0]
    return JiraUser(f"5c8e1f0a2b3d4e5f6a7b{n:04d}", login, person.name, person.email, True)


def day_of(start: datetime, moment: datetime) -> int:
    return (moment - start) // timedelta(days=1)
