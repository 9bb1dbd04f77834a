"""The portfolio as a reader who may not see every program sees it.

The stored documents are built once for everyone (``app.programs.portfolio``); a reader
without access to some programs gets them with those programs taken out: their tiles,
their contributions to goals, their nodes and edges, their share of each person's work.
Where a program they see waits on (or holds up) work in a restricted program, the work
is counted, never named ("2 items in a restricted program"). A free text that mentions
anything restricted (a goal's reason naming a late contributor, a person's flag listing
programs) is replaced by a plain one. A goal whose contributors are all restricted is
left out whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.config import ThroughlineConfig
from app.programs.documents import portfolio as out

WITHHELD = "Details involve a program you do not have access to."


@dataclass(frozen=True, slots=True)
class Restricted:
    """What a reader may not see: program keys, and words that would name their work."""

    programs: frozenset[str]
    words: frozenset[str]

    def mentions(self, text: str | None) -> bool:
        if not text:
            return False
        folded = text.casefold()
        return any(w in folded for w in self.words)

    def scrub(self, text: str) -> str:
        return WITHHELD if self.mentions(text) else text

    def ref_hidden(self, ref: str) -> bool:
        return ref.split("/", 1)[0] in self.programs


def restricted(
    config: ThroughlineConfig, hidden: frozenset[str], items: Iterable[str] = ()
) -> Restricted:
    """The restriction for ``hidden`` programs; ``items`` are keys of their work."""
    words: set[str] = {i.casefold() for i in items}
    for program in config.programs:
        if program.key not in hidden:
            continue
        words.add(program.name.casefold())
        words.add(f"{program.key}/".casefold())
        if program.owner:
            words.add(program.owner.casefold())
        words.update(o.name.casefold() for o in program.outcomes)
    return Restricted(frozenset(hidden), frozenset(w for w in words if w))


def portfolio(found: out.Portfolio, r: Restricted) -> out.Portfolio:
    if not r.programs:
        return found
    return found.model_copy(
        update={
            "programs": [p for p in found.programs if p.key not in r.programs],
            "goals": [g for g in (goal(g, r) for g in found.goals) if g is not None],
        }
    )


def goal(found: out.GoalStatus, r: Restricted) -> out.GoalStatus | None:
    """The goal without its restricted contributors; None when it has no other."""
    if not r.programs:
        return found
    shown = [c for c in found.contributors if c.program not in r.programs]
    if found.contributors and not shown:
        return None
    rag = found.rag.model_copy(
        update={
            "reasons": [
                reason.model_copy(
                    update={
                        "detail": WITHHELD
                        if any(r.ref_hidden(c) for c in reason.contributors)
                        else r.scrub(reason.detail),
                        "contributors": [c for c in reason.contributors if not r.ref_hidden(c)],
                    }
                )
                for reason in found.rag.reasons
            ]
        }
    )
    confidence = found.confidence.model_copy(
        update={
            "covers": [c for c in found.confidence.covers if not r.ref_hidden(c)],
            "left_out": [x for x in found.confidence.left_out if not r.ref_hidden(x.contributor)],
            "deciding": [x for x in found.confidence.deciding if not r.ref_hidden(x.contributor)],
            "text": r.scrub(found.confidence.text),
        }
    )
    movement = found.movement
    if movement is not None:
        movement = movement.model_copy(update={"text": r.scrub(movement.text)})
    return found.model_copy(
        update={
            "contributors": shown,
            "restricted_contributors": len(found.contributors) - len(shown),
            "rag": rag,
            "confidence": confidence,
            "movement": movement,
            "progress": found.progress.model_copy(update={"text": r.scrub(found.progress.text)}),
            "key_results": [
                k.model_copy(
                    update={
                        "text": r.scrub(k.text),
                        "contributors": [c for c in k.contributors if not r.ref_hidden(c)],
                    }
                )
                for k in found.key_results
            ],
        }
    )


def _end_hidden(end: out.CrossEnd, r: Restricted) -> bool:
    """An item held only by restricted programs."""
    return bool(end.programs) and all(p in r.programs for p in end.programs)


def dependencies(found: out.PortfolioDependencies, r: Restricted) -> out.PortfolioDependencies:
    if not r.programs:
        return found
    kept: list[out.CrossDependency] = []
    counts: dict[tuple[str, str], set[str]] = {}
    for d in found.dependencies:
        before, after = _end_hidden(d.from_, r), _end_hidden(d.to, r)
        if before and after:
            continue
        if before or after:
            visible_end, hidden_end = (d.to, d.from_) if before else (d.from_, d.to)
            direction = "waits_on" if before else "holds_up"
            for program in visible_end.programs:
                if program not in r.programs:
                    counts.setdefault((program, direction), set()).add(
                        f"{hidden_end.source}:{hidden_end.key}"
                    )
            continue
        kept.append(
            d.model_copy(
                update={
                    "from_": _visible_end(d.from_, r),
                    "to": _visible_end(d.to, r),
                    "detail": r.scrub(d.detail) if d.detail else d.detail,
                    "outcomes": [o for o in d.outcomes if not r.ref_hidden(o)],
                }
            )
        )
    links = []
    for link in found.outcome_links:
        before, after = link.from_.program in r.programs, link.to.program in r.programs
        if before and after:
            continue
        if before or after:
            program = link.to.program if before else link.from_.program
            ref = f"outcome:{(link.from_ if before else link.to).outcome}"
            counts.setdefault((program, "waits_on" if before else "holds_up"), set()).add(ref)
            continue
        links.append(link)
    return found.model_copy(
        update={
            "programs": [p for p in found.programs if p.key not in r.programs],
            "edges": [e for e in found.edges if r.programs.isdisjoint((e.from_, e.to))],
            "dependencies": kept,
            "outcome_links": links,
            "restricted": [
                out.RestrictedWork(
                    program=program,
                    direction=direction,
                    count=len(refs),
                    text=f"{len(refs)} item{'s' if len(refs) != 1 else ''} in a restricted program",
                )
                for (program, direction), refs in sorted(counts.items())
            ],
        }
    )


def _visible_end(end: out.CrossEnd, r: Restricted) -> out.CrossEnd:
    return end.model_copy(update={"programs": [p for p in end.programs if p not in r.programs]})


def hidden_items(found: out.PortfolioPeople, r: Restricted) -> set[str]:
    """Keys of the work people hold in restricted programs."""
    return {
        key
        for p in found.people
        for s in p.shares
        if s.program in r.programs
        for key in (*s.wip_items, *s.remaining_items)
    }


def people(found: out.PortfolioPeople, r: Restricted) -> out.PortfolioPeople:
    if not r.programs:
        return found
    hidden = hidden_items(found, r)
    shown = []
    for person in found.people:
        shares = [s for s in person.shares if s.program not in r.programs]
        if not shares:
            continue
        shown.append(
            person.model_copy(
                update={
                    "shares": shares,
                    "wip_items": [k for k in person.wip_items if k not in hidden],
                    "remaining_items": [k for k in person.remaining_items if k not in hidden],
                    "flags": [
                        f.model_copy(
                            update={
                                "detail": r.scrub(f.detail),
                                "items": [k for k in f.items if k not in hidden],
                            }
                        )
                        for f in person.flags
                    ],
                }
            )
        )
    return found.model_copy(update={"people": shown})
