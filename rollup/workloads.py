"""Each person's work across every program they work in.

A program's roll-up sees only its own share of a person (``rollup.resources``): someone
with two items in progress in each of three programs is under any one program's limit
and over everyone's. Here every program's people are matched again as one directory
(by email or display name, accents, case and spacing aside, and the configured
``people``: ``rollup.people``), and each person's open work and work in progress are
summed across programs, each item once however many programs count it. A person is
over-allocated with more items in progress than their limit, or with open work in more
programs than ``max_programs``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rollup.model import ItemRef
from rollup.people import Identity, KnownPerson, Team, match


@dataclass(frozen=True, slots=True)
class Load:
    """One person's open work in one program, as that program's roll-up matched them."""

    program: str
    person: str
    """The person's id in that program (its resources page names them by it)."""
    identities: tuple[Identity, ...]
    """How the trackers named them on that program's items."""
    wip: tuple[ItemRef, ...]
    remaining: tuple[ItemRef, ...]
    """Unfinished work, in progress or not."""
    estimates: tuple[float | None, ...] = ()
    """The estimate of each of ``remaining`` (None: none)."""


@dataclass(frozen=True, slots=True)
class Share:
    """The part of a person's open work that belongs to one program."""

    program: str
    person: str
    wip: tuple[ItemRef, ...]
    remaining: tuple[ItemRef, ...]
    estimate: float
    share: float
    """Its open items over the person's open items across programs."""


@dataclass(frozen=True, slots=True)
class Flag:
    rule: Literal["wip_over_limit", "too_many_programs"]
    detail: str
    items: tuple[ItemRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Spread:
    """One person across programs."""

    id: str
    name: str
    team: str | None
    names: tuple[str, ...]
    sources: tuple[str, ...]
    shares: tuple[Share, ...]
    """One per program they have open work in, most work first."""
    wip: tuple[ItemRef, ...]
    remaining: tuple[ItemRef, ...]
    estimate: float
    wip_limit: int
    flags: tuple[Flag, ...]

    @property
    def programs(self) -> int:
        return len(self.shares)


def spread(
    loads: Sequence[Load],
    known: Sequence[KnownPerson] = (),
    teams: Sequence[Team] = (),
    *,
    wip_limit: int | None,
    default_limit: int,
    max_programs: int,
    names: Mapping[str, str] | None = None,
) -> tuple[Spread, ...]:
    """Every person with open work, across programs, most open work first.

    ``wip_limit`` is the portfolio's own limit; without it a person is held to their
    team's ``wip_limit``, else ``default_limit``. ``names`` are the programs' names, for
    the flags' words.
    """
    directory = match([i for load in loads for i in load.identities], known, teams)
    limits = {t.key: t.wip_limit for t in teams if t.wip_limit is not None}
    mine: dict[str, list[Load]] = {}
    for load in loads:
        person = next(
            (p for i in load.identities if (p := directory.find(i.name, i.email)) is not None),
            None,
        )
        if person is not None and load.remaining:
            mine.setdefault(person.id, []).append(load)
    found = []
    for person_id, own in mine.items():
        person = directory.by_id[person_id]
        remaining = tuple(sorted({r for load in own for r in load.remaining}))
        wip = tuple(sorted({r for load in own for r in load.wip}))
        sizes: dict[ItemRef, float] = {}
        for load in own:
            for ref, size in zip(load.remaining, load.estimates, strict=False):
                if size is not None:
                    sizes[ref] = size
        shares = sorted(
            (_share(program, loads_in, len(remaining)) for program, loads_in in _by_program(own)),
            key=lambda s: (-len(s.remaining), s.program),
        )
        limit = wip_limit or limits.get(person.team or "", default_limit)
        found.append(
            Spread(
                id=person.id,
                name=person.name,
                team=person.team,
                names=person.names,
                sources=person.sources,
                shares=tuple(shares),
                wip=wip,
                remaining=remaining,
                estimate=round(sum(sizes.values()), 2),
                wip_limit=limit,
                flags=_flags(wip, shares, limit, max_programs, names or {}),
            )
        )
    found.sort(key=lambda s: (-len(s.remaining), s.name.casefold(), s.id))
    return tuple(found)


def _by_program(loads: Sequence[Load]) -> list[tuple[str, list[Load]]]:
    grouped: dict[str, list[Load]] = {}
    for load in loads:
        grouped.setdefault(load.program, []).append(load)
    return sorted(grouped.items())


def _share(program: str, loads: Sequence[Load], total: int) -> Share:
    remaining = tuple(sorted({r for load in loads for r in load.remaining}))
    sizes = {
        r: s
        for load in loads
        for r, s in zip(load.remaining, load.estimates, strict=False)
        if s is not None
    }
    return Share(
        program=program,
        person=loads[0].person,
        wip=tuple(sorted({r for load in loads for r in load.wip})),
        remaining=remaining,
        estimate=round(sum(sizes.values()), 2),
        share=round(len(remaining) / total, 4) if total else 0.0,
    )


def _flags(
    wip: tuple[ItemRef, ...],
    shares: Sequence[Share],
    limit: int,
    max_programs: int,
    names: Mapping[str, str],
) -> tuple[Flag, ...]:
    flags = []
    busy = [s for s in shares if s.wip]
    if len(wip) > limit:
        where = f" across {len(busy)} programs" if len(busy) > 1 else ""
        flags.append(
            Flag(
                "wip_over_limit",
                f"{len(wip)} items in progress{where}, above the limit of {limit}",
                wip,
            )
        )
    if len(shares) > max_programs:
        flags.append(
            Flag(
                "too_many_programs",
                f"open work in {len(shares)} programs (limit {max_programs}): "
                + ", ".join(names.get(s.program, s.program) for s in shares),
                tuple(sorted({r for s in shares for r in s.remaining})),
            )
        )
    return tuple(flags)
