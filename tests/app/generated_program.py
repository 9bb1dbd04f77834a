"""A generated organisation with every kind of outcome a program manager meets, stored day
by day through the one write path as syncs would have stored it, and recomputed on each
of those days (so snapshots, movements and the track record exist).

Two programs read a Jira source and an Asana one (whose tasks and projects are gids):

- ``launch``: a steady outcome with dependencies, one measured in points, an Asana one, one
  finished before its target, one finished after it, one without a target, one that selects
  nothing;
- ``solo``: a single outcome, so its program's chance names it.

The history is drawn from a seeded random generator: the same seed gives the same store.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import ThroughlineConfig, parse_config
from app.programs.recompute import recompute
from app.store import records
from app.store.engine import session_scope
from connectors.base import LinkRef, Page, TrackerItem, Transition
from vocabulary import ItemKind, StatusCategory

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
"""A Sunday evening: the last recomputation, and the day a Monday report covers."""
TODAY = NOW.date()
REPORT_AT = NOW + timedelta(hours=15)
"""Monday 09:00: the weekly report of the week that ended at ``NOW`` can be written."""
DAYS_BACK = (84, 56, 42, 35, 28, 21, 14, 7, 1, 0)
"""Days before ``NOW`` on which the trackers were synced and the programs recomputed."""
ASANA_PROJECT = "1300000000000001"
ASANA_PROJECT_NAME = "Mobile checkout"


def _on(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


CONFIG = f"""
server: {{auth: none}}
sources:
  - {{name: gen-jira, kind: jira, url: "https://gen-jira.test", auth: {{token_env: T}}}}
  - {{name: gen-asana, kind: asana, workspace: "1", auth: {{token_env: T}}}}
programs:
  - key: launch
    name: Product launch
    outcomes:
      - {{key: steady, name: Steady work, target: "{_on(45)}",
          match: [{{source: gen-jira, projects: [STD]}}]}}
      - {{key: points, name: Sized work, target: "{_on(70)}", progress_basis: estimate,
          match: [{{source: gen-jira, projects: [EST]}}]}}
      - {{key: mobile, name: Mobile checkout, target: "{_on(30)}",
          match: [{{source: gen-asana, projects: ["{ASANA_PROJECT}"]}}]}}
      - {{key: shipped, name: Shipped early, target: "{_on(-10)}",
          match: [{{source: gen-jira, projects: [FIN]}}]}}
      - {{key: shipped-late, name: Shipped late, target: "{_on(-40)}",
          match: [{{source: gen-jira, projects: [LATE]}}]}}
      - {{key: open-ended, name: Open-ended research,
          match: [{{source: gen-jira, projects: [RES]}}]}}
      - {{key: nothing, name: Not started, target: "{_on(90)}",
          match: [{{source: gen-jira, projects: [NONE]}}]}}
  - key: solo
    name: Solo effort
    outcomes:
      - {{key: only, name: The only outcome, target: "{_on(60)}",
          match: [{{source: gen-jira, projects: [SOL]}}]}}
"""


def config() -> ThroughlineConfig:
    return parse_config(CONFIG)


@dataclass(slots=True)
class Plan:
    """One item's life: when it appeared, started and finished (None: not yet)."""

    source: str
    key: str
    project: str
    title: str
    created: datetime
    started: datetime | None = None
    finished: datetime | None = None
    estimate: float | None = None
    assignee: str | None = None
    blocks: list[str] = field(default_factory=list)

    def as_of(self, moment: datetime) -> TrackerItem | None:
        """The item as a sync at ``moment`` would have read it (None before it existed)."""
        if self.created > moment:
            return None
        moves: list[Transition] = []
        category = StatusCategory.TODO
        if self.started is not None and self.started <= moment:
            category = StatusCategory.IN_PROGRESS
            moves.append(self._move(1, self.started, "In Progress", category))
        if self.finished is not None and self.finished <= moment:
            category = StatusCategory.DONE
            moves.append(self._move(2, self.finished, "Done", category))
        names = {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}
        return TrackerItem(
            source=self.source,
            external_id=self.key,
            key=self.key,
            kind=ItemKind.TASK if self.source == "gen-asana" else ItemKind.STORY,
            title=self.title,
            status=names[category],
            status_category=category,
            updated_at=max([self.created, *(t.at for t in moves)]),
            url=f"https://{self.source}.test/{self.key}",
            project=self.project,
            projects=(self.project,),
            assignee=self.assignee,
            estimate=self.estimate,
            created_at=self.created,
            resolved_at=self.finished if category is StatusCategory.DONE else None,
            links=tuple(
                LinkRef(self.source, self.key, self.source, after, link_type="Blocks")
                for after in self.blocks
            ),
            transitions=tuple(moves),
        )

    def _move(self, n: int, at: datetime, name: str, to: StatusCategory) -> Transition:
        return Transition(f"{self.key}-h{n}", at, name, to_category=to)


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(days=rng.uniform(low, high))


def plans(seed: int = 17) -> list[Plan]:
    """Every item of the organisation, with its whole life."""
    rng = random.Random(seed)
    people = ["Ana Lima", "Bo Chen", "Cy Diaz", None]
    found: list[Plan] = []

    def work(
        project: str,
        count: int,
        *,
        source: str = "gen-jira",
        done_share: float,
        finished_between: tuple[float, float] = (1, 84),
        key_of: object = None,
        estimate: bool = False,
    ) -> list[Plan]:
        made = []
        for n in range(count):
            key = key_of(n) if callable(key_of) else f"{project}-{n + 1}"
            created = NOW - _days(rng, 90, 150)
            if rng.random() < 0.06:
                created = NOW - _days(rng, 0, 30)  # scope added lately
            plan = Plan(
                source,
                key,
                project,
                f"{'Mobile task' if source == 'gen-asana' else project + ' work'} {n + 1}",
                created,
                estimate=float(rng.choice([1, 2, 3, 5, 8])) if estimate else None,
                assignee=rng.choice(people),
            )
            if rng.random() < done_share:
                plan.finished = max(
                    created + timedelta(days=2), NOW - _days(rng, *finished_between)
                )
                plan.started = plan.finished - _days(rng, 1, 8)
            elif rng.random() < 0.3:
                plan.started = NOW - _days(rng, 0, 10)
            made.append(plan)
        found.extend(made)
        return made

    steady = work("STD", 60, done_share=0.55)
    for before, after in zip(steady[40:46], steady[46:52], strict=True):
        if before.finished is None and after.finished is None:
            before.blocks.append(after.key)
    work("EST", 30, done_share=0.4, estimate=True)
    mobile = work(
        ASANA_PROJECT,
        25,
        source="gen-asana",
        done_share=0.5,
        key_of=lambda n: str(1300000000000100 + n),
    )
    waiting = [p for p in mobile if p.finished is None]
    for before, after in itertools.pairwise(waiting[:4]):
        before.blocks.append(after.key)
    finished_by = work("FIN", 12, done_share=1.0, finished_between=(15, 80))
    finished_late = work("LATE", 10, done_share=1.0, finished_between=(3, 60))
    for plan, bound in [(p, NOW - timedelta(days=12)) for p in finished_by] + [
        (p, NOW - timedelta(days=5)) for p in finished_late
    ]:
        # All of it done: on or before 12 days ago (its target was 10 days ago), or in the
        # last 5 to 60 days (its target was 40 days ago).
        plan.finished = min(plan.finished or bound, bound)
        plan.created = min(plan.created, plan.finished - timedelta(days=10))
        plan.started = plan.finished - _days(rng, 1, 8)
    work("RES", 15, done_share=0.3)
    work("SOL", 20, done_share=0.5)
    return found


def _moments() -> Iterator[datetime]:
    for back in DAYS_BACK:
        yield NOW - timedelta(days=back)


async def store_history(
    sessionmaker: async_sessionmaker[AsyncSession], cfg: ThroughlineConfig
) -> None:
    """Sync the organisation as it stood on each day of ``DAYS_BACK`` and recompute."""
    everything = plans()
    async with session_scope(sessionmaker) as session:
        sources = {
            name: (
                await records.upsert_source(
                    session,
                    name=name,
                    kind=kind,
                    base_url=f"https://{name}.test",
                    options={},
                    now=NOW,
                )
            ).id
            for name, kind in (("gen-jira", "jira"), ("gen-asana", "asana"))
        }
    for moment in _moments():
        async with session_scope(sessionmaker) as session:
            for source, source_id in sources.items():
                items = [
                    item
                    for p in everything
                    if p.source == source and (item := p.as_of(moment)) is not None
                ]
                names = ((ASANA_PROJECT, ASANA_PROJECT_NAME),) if source == "gen-asana" else ()
                await records.save_page(
                    session, source_id, Page("all", items, project_names=names), now=moment
                )
        await recompute(sessionmaker, cfg, now=moment)


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
