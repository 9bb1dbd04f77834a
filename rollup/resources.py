"""Who carries a program's work: per person and per team.

``allocate`` sums each person's and each team's work in progress and remaining work by
project and outcome, their weekly throughput, and flags over-allocation: more items in
progress than the WIP limit, or remaining work on the critical paths of several outcomes
(whoever holds two critical paths makes one wait for the other). Work nobody is assigned
is listed per outcome. What that does to the dates is ``rollup.teams``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta, tzinfo
from typing import Literal

from rollup.history import day_start
from rollup.model import ItemRef, WorkItem
from rollup.people import Directory, Team
from rollup.status import ProgramRollup
from vocabulary import StatusCategory


@dataclass(frozen=True, slots=True)
class Share:
    """Part of someone's work: one project's or one outcome's."""

    name: str
    wip: int
    remaining: int
    estimate: float


@dataclass(frozen=True, slots=True)
class Flag:
    rule: Literal["wip_over_limit", "several_critical_paths", "members_over_allocated"]
    detail: str
    items: tuple[ItemRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Workload:
    """One person's or one team's part of the program."""

    key: str
    name: str
    team: str | None
    members: tuple[str, ...]
    """Person ids (a person: themselves)."""
    wip: tuple[ItemRef, ...]
    remaining: tuple[ItemRef, ...]
    """Unfinished work, in progress or not."""
    estimate: float
    unestimated: int
    by_project: tuple[Share, ...]
    by_outcome: tuple[Share, ...]
    throughput: tuple[int, ...]
    """Items finished per seven-day window, oldest first (windows end on ``as_of``)."""
    critical: tuple[tuple[str, tuple[ItemRef, ...]], ...]
    """Per outcome, the remaining items on its critical path this workload holds."""
    wip_limit: int
    flags: tuple[Flag, ...]


@dataclass(frozen=True, slots=True)
class Unassigned:
    outcome: str
    remaining: tuple[ItemRef, ...]
    estimate: float
    unestimated: int


@dataclass(frozen=True, slots=True)
class Allocation:
    as_of: date
    week_starts: tuple[date, ...]
    people: tuple[Workload, ...]
    teams: tuple[Workload, ...]
    unassigned: tuple[Unassigned, ...]


def project_of(item: WorkItem) -> str:
    return f"{item.source}/{item.project}" if item.project else item.source


def week_starts(as_of: date, weeks: int) -> tuple[date, ...]:
    """First days of the ``weeks`` seven-day windows ending on ``as_of``, oldest first."""
    return tuple(as_of - timedelta(days=7 * (weeks - k) - 1) for k in range(weeks))


def weekly_counts(
    items: Iterable[WorkItem], *, as_of: date, zone: tzinfo, weeks: int
) -> tuple[int, ...]:
    """Items finished in each of the ``weeks`` seven-day windows ending on ``as_of``."""
    edges = [day_start(d, zone) for d in week_starts(as_of, weeks)]
    edges.append(day_start(as_of + timedelta(days=1), zone))
    counts = [0] * weeks
    for item in items:
        done = item.completed_at
        if done is not None and edges[0] <= done < edges[-1]:
            counts[bisect.bisect_right(edges, done) - 1] += 1
    return tuple(counts)


def _shares(
    items: Iterable[WorkItem], name_of: Callable[[WorkItem], Iterable[str]]
) -> tuple[Share, ...]:
    totals: dict[str, list[float]] = {}
    for item in items:
        for name in name_of(item):
            row = totals.setdefault(name, [0, 0, 0.0])
            row[0] += item.status_category is StatusCategory.IN_PROGRESS
            row[1] += 1
            row[2] += item.estimate or 0.0
    return tuple(
        Share(name, int(wip), int(remaining), round(estimate, 2))
        for name, (wip, remaining, estimate) in sorted(totals.items())
    )


@dataclass(frozen=True, slots=True)
class _Work:
    """The program's units, each with its outcomes, once."""

    items: dict[ItemRef, WorkItem]
    outcomes: dict[ItemRef, tuple[str, ...]]
    critical: dict[str, frozenset[ItemRef]]


def _work(rollup: ProgramRollup) -> _Work:
    items: dict[ItemRef, WorkItem] = {}
    outcomes: dict[ItemRef, list[str]] = {}
    for part in rollup.outcomes:
        for c in part.progress.contributors:
            items[c.item.ref] = c.item
            outcomes.setdefault(c.item.ref, []).append(part.outcome.key)
    return _Work(
        items,
        {r: tuple(o) for r, o in outcomes.items()},
        {o.outcome.key: frozenset(o.critical_path) for o in rollup.outcomes},
    )


def _workload(
    key: str,
    name: str,
    team: str | None,
    members: tuple[str, ...],
    items: Sequence[WorkItem],
    work: _Work,
    throughput: tuple[int, ...],
    wip_limit: int,
) -> Workload:
    open_items = [i for i in items if not i.done]
    wip = tuple(
        sorted(i.ref for i in open_items if i.status_category is StatusCategory.IN_PROGRESS)
    )
    critical = tuple(
        (outcome, held)
        for outcome, path in work.critical.items()
        if (held := tuple(sorted(i.ref for i in open_items if i.ref in path)))
    )
    return Workload(
        key=key,
        name=name,
        team=team,
        members=members,
        wip=wip,
        remaining=tuple(sorted(i.ref for i in open_items)),
        estimate=round(sum(i.estimate or 0.0 for i in open_items), 2),
        unestimated=sum(1 for i in open_items if i.estimate is None),
        by_project=_shares(open_items, lambda i: (project_of(i),)),
        by_outcome=_shares(open_items, lambda i: work.outcomes[i.ref]),
        throughput=throughput,
        critical=critical,
        wip_limit=wip_limit,
        flags=(),
    )


def _person_flags(load: Workload) -> tuple[Flag, ...]:
    flags = []
    if len(load.wip) > load.wip_limit:
        flags.append(
            Flag(
                "wip_over_limit",
                f"{len(load.wip)} items in progress, above the limit of {load.wip_limit}",
                load.wip,
            )
        )
    if len(load.critical) > 1:
        names = ", ".join(o for o, _ in load.critical)
        held = tuple(sorted({r for _, refs in load.critical for r in refs}))
        flags.append(
            Flag(
                "several_critical_paths",
                f"holds work on the critical paths of {len(load.critical)} outcomes ({names})",
                held,
            )
        )
    return tuple(flags)


def allocate(
    rollup: ProgramRollup,
    directory: Directory,
    teams: Sequence[Team],
    *,
    zone: tzinfo,
    weeks: int,
    wip_limit: int,
) -> Allocation:
    """Every person's and team's part of the program, with over-allocation flags."""
    work = _work(rollup)
    mine: dict[str, list[WorkItem]] = {}
    nobody: list[WorkItem] = []
    for item in work.items.values():
        person = directory.person_of(item)
        if person is None:
            nobody.append(item)
        else:
            mine.setdefault(person.id, []).append(item)
    limits = {t.key: t.wip_limit or wip_limit for t in teams}
    as_of = rollup.as_of
    people = []
    for person_id in sorted(mine, key=lambda p: directory.by_id[p].name.casefold()):
        person = directory.by_id[person_id]
        items = mine[person_id]
        load = _workload(
            person.id,
            person.name,
            person.team,
            (person.id,),
            items,
            work,
            weekly_counts(items, as_of=as_of, zone=zone, weeks=weeks),
            limits.get(person.team or "", wip_limit),
        )
        people.append(replace(load, flags=_person_flags(load)))
    return Allocation(
        as_of=as_of,
        week_starts=week_starts(as_of, weeks),
        people=tuple(people),
        teams=_teams(people, teams, mine, work, wip_limit),
        unassigned=_unassigned(rollup, nobody),
    )


def _teams(
    people: Sequence[Workload],
    teams: Sequence[Team],
    mine: Mapping[str, list[WorkItem]],
    work: _Work,
    wip_limit: int,
) -> tuple[Workload, ...]:
    found = []
    for team in teams:
        members = [p for p in people if p.team == team.key]
        if not members:
            continue
        items = [i for p in members for i in mine[p.key]]
        weekly = tuple(sum(week) for week in zip(*(p.throughput for p in members), strict=True))
        load = _workload(
            team.key,
            team.name,
            team.key,
            tuple(p.key for p in members),
            items,
            work,
            weekly,
            team.wip_limit or wip_limit,
        )
        over = [p for p in members if p.flags]
        flags = (
            (
                Flag(
                    "members_over_allocated",
                    f"{len(over)} of {len(members)} members are over-allocated: "
                    + ", ".join(p.name for p in over),
                    tuple(sorted({r for p in over for f in p.flags for r in f.items})),
                ),
            )
            if over
            else ()
        )
        found.append(replace(load, flags=flags))
    return tuple(found)


def _unassigned(rollup: ProgramRollup, nobody: Sequence[WorkItem]) -> tuple[Unassigned, ...]:
    refs = {i.ref for i in nobody if not i.done}
    found = []
    for part in rollup.outcomes:
        items = [c.item for c in part.progress.contributors if c.item.ref in refs]
        found.append(
            Unassigned(
                part.outcome.key,
                tuple(sorted(i.ref for i in items)),
                round(sum(i.estimate or 0.0 for i in items), 2),
                sum(1 for i in items if i.estimate is None),
            )
        )
    return tuple(found)
