"""What-if scenarios: the program and its items as a change would leave them.

A scenario never runs a forecast of its own: ``apply`` edits the roll-up's inputs — the
program's outcomes and the items — and the caller runs the same ``rollup.status.evaluate``
on them, with the same seed, as the recomputation does. A what-if's answer is therefore
the forecast the edited program would get, to the trial.

- ``remove_keys`` defers work: each named item (an epic, a story) and everything under it
  leaves the program, except work already done, which stays as the history the pace rests
  on (and so do the containers above such work).
- ``add_items`` adds that many unstarted items, spread evenly over the outcomes (the first
  outcomes take the remainder), or as many as ``add_per_outcome`` names for each.
- ``pace_factor`` multiplies the pace every outcome's history shows; ``pace_factors``
  does so for single outcomes (over the program's).
- ``targets`` moves outcomes' target dates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from rollup.model import ItemRef, Program, Selector, WorkItem
from vocabulary import ItemKind, StatusCategory

ADDED_SOURCE = "what-if"
"""The source of the items a scenario adds (no tracker has it)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    add_items: int = 0
    add_per_outcome: Mapping[str, int] = field(default_factory=dict)
    remove_keys: tuple[str, ...] = ()
    pace_factor: float = 1.0
    pace_factors: Mapping[str, float] = field(default_factory=dict)
    targets: Mapping[str, date] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (
            self.add_items
            or any(self.add_per_outcome.values())
            or self.remove_keys
            or self.pace_factor != 1.0
            or self.pace_factors
            or self.targets
        )


def added_per_outcome(program: Program, scenario: Scenario) -> dict[str, int]:
    """How many items the scenario adds to each outcome."""
    keys = [o.key for o in program.outcomes]
    found = dict.fromkeys(keys, 0)
    if keys and scenario.add_items > 0:
        share, rest = divmod(scenario.add_items, len(keys))
        for n, key in enumerate(keys):
            found[key] += share + (1 if n < rest else 0)
    for key, count in scenario.add_per_outcome.items():
        if key in found:
            found[key] += max(0, count)
    return found


def removed(items: Sequence[WorkItem], keys: Sequence[str]) -> set[ItemRef]:
    """The named items and everything under them, less done work and what holds it."""
    children: dict[ItemRef, list[WorkItem]] = defaultdict(list)
    for item in items:
        if item.parent_ref is not None:
            children[item.parent_ref].append(item)
    wanted = set(keys)
    found: set[ItemRef] = set()

    def visit(item: WorkItem) -> bool:
        """Remove ``item``'s open subtree; whether ``item`` itself went."""
        kept_below = False
        for child in children.get(item.ref, ()):
            if not visit(child):
                kept_below = True
        if item.done or kept_below:
            return False
        found.add(item.ref)
        return True

    for item in items:
        if item.key in wanted and item.ref not in found:
            visit(item)
    return found


def added_items(program: Program, counts: Mapping[str, int], now: datetime) -> list[WorkItem]:
    """Unstarted stand-ins for the scope a scenario adds."""
    return [
        WorkItem(
            source=ADDED_SOURCE,
            key=f"{key}+{n}",
            title=f"Added scope {n} of {count} ({key})",
            kind=ItemKind.STORY,
            status="To Do",
            status_category=StatusCategory.TODO,
            updated_at=now,
            created_at=now,
        )
        for key, count in counts.items()
        for n in range(1, count + 1)
    ]


def apply(
    program: Program, items: Sequence[WorkItem], scenario: Scenario, *, now: datetime
) -> tuple[Program, list[WorkItem]]:
    """The program and the items as the scenario leaves them."""
    gone = removed(items, scenario.remove_keys) if scenario.remove_keys else set()
    kept = [i for i in items if i.ref not in gone]
    counts = added_per_outcome(program, scenario)
    added = added_items(program, counts, now)
    by_outcome: dict[str, tuple[str, ...]] = defaultdict(tuple)
    for item in added:
        named = item.key.rpartition("+")[0]
        by_outcome[named] += (item.key,)
    outcomes = []
    for outcome in program.outcomes:
        selectors = outcome.selectors
        if by_outcome.get(outcome.key):
            selectors += (Selector(source=ADDED_SOURCE, keys=by_outcome[outcome.key]),)
        outcomes.append(
            replace(
                outcome,
                selectors=selectors,
                target=scenario.targets.get(outcome.key, outcome.target),
                pace_factor=scenario.pace_factors.get(outcome.key, scenario.pace_factor),
            )
        )
    return replace(program, outcomes=tuple(outcomes)), kept + added
