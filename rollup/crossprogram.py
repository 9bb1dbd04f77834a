"""Dependencies between programs: work of one program holding up another's.

Each program's roll-up keeps the dependencies that leave it — those with one end among
its items and the other outside (``Boundary``), with whether the waiting end judged it
late. Put together, a dependency whose blocker lies in one program and whose waiting
item lies in another is a cross-program dependency; the waiting program's view decides
whether it is late (its own targets say when its work is needed).

Outcomes may also wait on another program's outcome, declared in the configuration
(``OutcomeLink``): late when the other outcome's target or P85 lies after the day the
waiting outcome needs it.

Late ones become a derived risk in the waiting program, naming the other program and its
owner: one per other program for item dependencies, one per declared outcome link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from rollup.figures import day
from rollup.forecast import ForecastBasis
from rollup.goals import OutcomeState
from rollup.graph import GroupEdge, LateReason
from rollup.model import ItemRef
from rollup.risk import DerivedRisk, Evidence, RiskRule
from vocabulary import StatusCategory

FINGERPRINT_LIMIT = 128
"""The store keeps fingerprints this long; longer subjects are hashed."""


@dataclass(frozen=True, slots=True)
class End:
    """One end of a dependency, as the program that kept it saw the item."""

    ref: ItemRef
    title: str
    url: str | None = None
    project: str | None = None
    status_category: StatusCategory = StatusCategory.TODO
    due_on: date | None = None
    expected_on: date | None = None


@dataclass(frozen=True, slots=True)
class Lateness:
    reason: LateReason
    detail: str
    needed_on: date | None = None
    expected_on: date | None = None


@dataclass(frozen=True, slots=True)
class Boundary:
    """A dependency with one end in ``program`` (``inside``) and the other outside it."""

    program: str
    before: End
    after: End
    inside: str
    """``before`` or ``after``: which end is the program's."""
    late: Lateness | None = None
    """How the program judged it (authoritative when the program holds ``after``)."""
    critical: bool = False
    """The program's end lies on one of its critical paths."""
    outcomes: tuple[str, ...] = ()
    """The program's outcomes its end feeds."""


@dataclass(frozen=True, slots=True)
class CrossDependency:
    """Work in ``owners`` blocking work in ``waiting``."""

    before: End
    after: End
    owners: tuple[str, ...]
    """Programs holding the blocker (and not the waiting item)."""
    waiting: tuple[str, ...]
    """Programs holding the waiting item (and not the blocker)."""
    late: Lateness | None
    late_for: tuple[str, ...]
    """The waiting programs that judge it late."""
    critical_for: tuple[str, ...]
    outcomes: tuple[tuple[str, str], ...]
    """(program, outcome) pairs of the waiting programs its waiting item feeds."""

    @property
    def cross_tracker(self) -> bool:
        return self.before.ref[0] != self.after.ref[0]


@dataclass(frozen=True, slots=True)
class OutcomeLink:
    """``waiting``'s outcome cannot finish before ``on``'s outcome has (configured)."""

    program: str
    outcome: str
    on_program: str
    on_outcome: str
    needed_by: date | None = None


@dataclass(frozen=True, slots=True)
class OutcomeDependency:
    link: OutcomeLink
    waiting: OutcomeState | None
    on: OutcomeState | None
    needed_on: date | None
    expected_on: date | None
    """When the outcome waited on is expected: done, else its P85 (None beyond the
    horizon), else its target."""
    late: Lateness | None


@dataclass(frozen=True, slots=True)
class ProgramInfo:
    key: str
    name: str
    owner: str | None = None


def cross_dependencies(boundaries: Sequence[Boundary]) -> tuple[CrossDependency, ...]:
    """Dependencies whose blocker and waiting item lie in different programs."""
    by_edge: dict[tuple[ItemRef, ItemRef], list[Boundary]] = {}
    for b in boundaries:
        by_edge.setdefault((b.before.ref, b.after.ref), []).append(b)
    found = []
    for pair in sorted(by_edge):
        seen = by_edge[pair]
        owners = tuple(sorted({b.program for b in seen if b.inside == "before"}))
        waiting_views = [b for b in seen if b.inside == "after"]
        waiting = tuple(sorted({b.program for b in waiting_views}))
        if not owners or not waiting:
            continue
        late_views = [b for b in waiting_views if b.late is not None]
        view = (late_views or waiting_views)[0]
        found.append(
            CrossDependency(
                before=_richest(seen, "before"),
                after=view.after,
                owners=owners,
                waiting=waiting,
                late=view.late,
                late_for=tuple(sorted({b.program for b in late_views})),
                critical_for=tuple(sorted({b.program for b in waiting_views if b.critical})),
                outcomes=tuple(sorted({(b.program, o) for b in waiting_views for o in b.outcomes})),
            )
        )
    return tuple(found)


def _richest(seen: Sequence[Boundary], end: str) -> End:
    """The blocker as its own program saw it (it knows its expected date)."""
    own = [b for b in seen if b.inside == end]
    chosen = (own or list(seen))[0]
    return chosen.before if end == "before" else chosen.after


def outcome_dependencies(
    links: Sequence[OutcomeLink], outcomes: Mapping[tuple[str, str], OutcomeState]
) -> tuple[OutcomeDependency, ...]:
    """Each declared outcome link, judged: late when the outcome waited on is due or
    forecast (P85) after the waiting outcome needs it."""
    found = []
    for link in links:
        waiting = outcomes.get((link.program, link.outcome))
        on = outcomes.get((link.on_program, link.on_outcome))
        needed = link.needed_by or (waiting.target if waiting else None)
        expected = None
        late = None
        if on is not None:
            forecast = on.forecast == ForecastBasis.MONTE_CARLO
            expected = on.finished_on if on.done else on.p85 if forecast else on.target
        if on is not None and waiting is not None and not on.done and not waiting.done:
            needs = f"{waiting.name} needs it by {day(needed)}" if needed else ""
            if needed is not None and on.target is not None and on.target > needed:
                late = Lateness(
                    LateReason.DUE_AFTER_NEEDED,
                    f"{on.name} targets {day(on.target)}, after {needs}",
                    needed,
                    on.target,
                )
            elif needed is not None and on.p85 is not None and on.p85 > needed:
                late = Lateness(
                    LateReason.FORECAST_AFTER_NEEDED,
                    f"{on.name} is forecast (P85) for {day(on.p85)}, after {needs}",
                    needed,
                    on.p85,
                )
            elif needed is not None and on.p85 is None and on.forecast == ForecastBasis.MONTE_CARLO:
                late = Lateness(
                    LateReason.FORECAST_AFTER_NEEDED,
                    f"{on.name} is not forecast to finish (P85 beyond the horizon), and {needs}",
                    needed,
                )
        found.append(OutcomeDependency(link, waiting, on, needed, expected, late))
    return tuple(found)


def program_edges(
    dependencies: Sequence[CrossDependency], links: Sequence[OutcomeDependency]
) -> tuple[GroupEdge, ...]:
    """Dependencies rolled up between programs: how many, and how many are late."""
    counts: dict[tuple[str, str], list[int]] = {}
    for d in dependencies:
        for owner in d.owners:
            for waiting in d.waiting:
                tally = counts.setdefault((owner, waiting), [0, 0])
                tally[0] += 1
                tally[1] += waiting in d.late_for
    for o in links:
        tally = counts.setdefault((o.link.on_program, o.link.program), [0, 0])
        tally[0] += 1
        tally[1] += o.late is not None
    return tuple(GroupEdge(a, b, n, k) for (a, b), (n, k) in sorted(counts.items()))


def _fingerprint(subject: str) -> str:
    """A stable identity for a risk about ``subject``, short enough to store."""
    rule = RiskRule.CROSS_PROGRAM_DEPENDENCY.value
    found = f"{rule}:{subject}"
    if len(found) <= FINGERPRINT_LIMIT:
        return found
    return f"{rule}:#{hashlib.sha256(subject.encode()).hexdigest()[:32]}"


def _owned(info: ProgramInfo) -> str:
    return f"{info.name} (owner {info.owner})" if info.owner else f"{info.name} (no owner named)"


def risks_for(
    program: str,
    dependencies: Sequence[CrossDependency],
    links: Sequence[OutcomeDependency],
    programs: Mapping[str, ProgramInfo],
) -> list[DerivedRisk]:
    """The derived risks of one waiting program: one per other program whose work is late
    for its items, one per declared outcome link that is late."""
    by_owner: dict[str, list[CrossDependency]] = {}
    for d in dependencies:
        if program in d.late_for:
            for owner in d.owners:
                by_owner.setdefault(owner, []).append(d)
    risks = []
    for owner, late in sorted(by_owner.items()):
        info = programs.get(owner, ProgramInfo(owner, owner))
        critical = any(program in d.critical_for for d in late)
        waiting = sorted({d.after.ref for d in late})
        mine = sorted({o for d in late for p, o in d.outcomes if p == program})
        held: dict[ItemRef, int] = {}
        for d in late:
            held[d.before.ref] = held.get(d.before.ref, 0) + 1
        evidence = []
        for d in late:
            assert d.late is not None
            count = held[d.before.ref]
            evidence.append(
                Evidence(d.before.ref, f"in {info.name}; {count} item(s) here wait on it")
            )
            evidence.append(Evidence(d.after.ref, d.late.detail))
        risks.append(
            DerivedRisk(
                RiskRule.CROSS_PROGRAM_DEPENDENCY,
                _fingerprint(owner),
                f"{len(waiting)} item(s) wait on late work in {_owned(info)}"
                + (" on the critical path" if critical else ""),
                4 if critical else 3,
                4 if critical else 3,
                tuple(evidence),
                mine[0] if len(mine) == 1 else None,
            )
        )
    for o in links:
        link = o.link
        if link.program != program or o.late is None:
            continue
        info = programs.get(link.on_program, ProgramInfo(link.on_program, link.on_program))
        name = o.waiting.name if o.waiting else link.outcome
        other = o.on.name if o.on else link.on_outcome
        risks.append(
            DerivedRisk(
                RiskRule.CROSS_PROGRAM_DEPENDENCY,
                _fingerprint(f"{link.on_program}/{link.on_outcome}>{link.outcome}"),
                f"{name} waits on {other} in {_owned(info)}: {o.late.detail}",
                4,
                4,
                (),
                link.outcome,
            )
        )
    return risks
