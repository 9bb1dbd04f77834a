"""Which items are work, and which outcome each feeds.

Selectors are resolved against an ``ItemIndex`` built once over every live item and
shared by all programs: each criterion is a set lookup and a selector is their
intersection, so mapping 100,000 items to fifty outcomes costs set operations, not a
scan per outcome.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rollup.model import ItemRef, Outcome, Program, Selector, WorkItem
from vocabulary import ItemKind

_NOT_WORK = frozenset({ItemKind.EPIC, ItemKind.MILESTONE})


def _facet_values(facet: str) -> Callable[[WorkItem], Iterable[str]]:
    """What an item offers a selector criterion (``field:Name`` for a custom field)."""
    if facet.startswith("field:"):
        name = facet.removeprefix("field:")
        return lambda i: (v for n, v in i.custom_fields if n == name)
    return {
        "project": lambda i: ((i.project,) if i.project else ()) + i.projects,
        "label": lambda i: i.labels,
        "component": lambda i: i.components,
        "issue_type": lambda i: (i.issue_type.casefold(),) if i.issue_type else (),
        "section": lambda i: (i.section,) if i.section else (),
    }[facet]


class ItemIndex:
    """Every live item, indexed by the facets selectors ask about.

    Read-only once built; the index of a facet (labels of a source, say) is built the
    first time a selector asks for it, so facets nobody selects by cost nothing, and an
    item's epic is looked up once.
    """

    def __init__(self, items: Iterable[WorkItem]) -> None:
        self.items: dict[ItemRef, WorkItem] = {}
        self.children: dict[ItemRef, list[ItemRef]] = defaultdict(list)
        self._facets: dict[tuple[str, str], dict[str, set[ItemRef]]] = {}
        self._by_source: dict[str, list[WorkItem]] = defaultdict(list)
        self._epics: dict[ItemRef, ItemRef | None] = {}
        # One pass, inlined: it runs once per item of the store.
        by_ref, children, by_source = self.items, self.children, self._by_source
        for item in items:
            if item.deleted:
                continue
            by_ref[item.ref] = item
            by_source[item.source].append(item)
            parent = item.parent_ref
            if parent is not None:
                children[parent].append(item.ref)
        containers = {
            parent
            for parent, kids in self.children.items()
            if any(self.items[k].kind is not ItemKind.SUBTASK for k in kids)
        }
        # Settled once for every item: whether it can be work at all, and the parent a
        # subtask would roll into.
        self._workable = frozenset(
            ref
            for ref, item in self.items.items()
            if item.kind not in _NOT_WORK and ref not in containers
        )
        self._rolls_into = {
            ref: item.parent_ref
            for ref, item in self.items.items()
            if item.kind is ItemKind.SUBTASK and item.parent_ref is not None
        }

    def _facet(self, source: str, facet: str) -> dict[str, set[ItemRef]]:
        """Value → items of one source, for one facet (built on first use)."""
        found = self._facets.get((source, facet))
        if found is None:
            found = defaultdict(set)
            values_of = _facet_values(facet)
            for item in self._by_source.get(source, ()):
                for value in values_of(item):
                    found[value].add(item.ref)
            self._facets[(source, facet)] = found
        return found

    def in_projects(self, pairs: Iterable[tuple[str, str]]) -> set[ItemRef]:
        """Every item of the given (source, project) pairs."""
        found: set[ItemRef] = set()
        for source, project in pairs:
            found |= self._facet(source, "project").get(project, set())
        return found

    def descendants(self, roots: Iterable[ItemRef]) -> set[ItemRef]:
        """The roots that exist and everything below them, however deep."""
        found: set[ItemRef] = set()
        stack = [r for r in roots if r in self.items]
        while stack:
            ref = stack.pop()
            if ref not in found:
                found.add(ref)
                stack.extend(self.children.get(ref, ()))
        return found

    def select(self, selector: Selector) -> set[ItemRef]:
        """The items one selector chooses."""
        source = selector.source
        criteria: list[set[ItemRef]] = []
        if selector.keys:
            criteria.append({(source, k) for k in selector.keys if (source, k) in self.items})
        if selector.epics:
            criteria.append(self.descendants((source, e) for e in selector.epics))
        facet_values: list[tuple[str, Iterable[str]]] = [
            ("project", selector.projects),
            ("label", (*selector.labels, *selector.tags)),
            ("component", selector.components),
            ("issue_type", (t.casefold() for t in selector.issue_types)),
            ("section", selector.sections),
            *((f"field:{name}", values) for name, values in selector.custom_fields),
        ]
        for facet, values in facet_values:
            wanted = list(values)
            if wanted:
                criteria.append(self._union(source, facet, wanted))
        if not criteria:
            return {i.ref for i in self._by_source.get(source, ())}
        criteria.sort(key=len)
        chosen = set(criteria[0])
        for other in criteria[1:]:
            chosen &= other
        return chosen

    def _union(self, source: str, facet: str, values: Sequence[str]) -> set[ItemRef]:
        index = self._facet(source, facet)
        found: set[ItemRef] = set()
        for value in values:
            found |= index.get(value, set())
        return found

    def units(
        self,
        among: set[ItemRef] | frozenset[ItemRef],
        *,
        within: set[ItemRef] | frozenset[ItemRef] | None = None,
    ) -> list[ItemRef]:
        """The items of ``among`` that count as pieces of work, sorted.

        Epics and milestones are markers, parents of other work are containers, and a
        subtask rolls into its parent when the parent is counted too (is in ``within``,
        by default ``among``).
        """
        rolls_into = self._rolls_into
        counted = among if within is None else within
        return sorted(
            r for r in among & self._workable if r not in rolls_into or rolls_into[r] not in counted
        )

    def epic_of(self, ref: ItemRef) -> ItemRef | None:
        """The nearest epic above an item (or the item itself when it is an epic)."""
        if ref in self._epics:
            return self._epics[ref]
        seen: set[ItemRef] = set()
        current: ItemRef | None = ref
        found = None
        while current is not None and current not in seen and current in self.items:
            seen.add(current)
            item = self.items[current]
            if item.kind is ItemKind.EPIC:
                found = current
                break
            current = item.parent_ref
        self._epics[ref] = found
        return found

    def subtasks(self, ref: ItemRef) -> list[WorkItem]:
        return [
            self.items[k]
            for k in self.children.get(ref, ())
            if self.items[k].kind is ItemKind.SUBTASK
        ]


@dataclass(frozen=True, slots=True)
class Assignment:
    """Which items feed each outcome of a program, and the work that feeds none."""

    selected: Mapping[str, frozenset[ItemRef]]
    """Outcome key → every item its selectors chose (containers and markers included)."""
    units: Mapping[str, tuple[ItemRef, ...]]
    """Outcome key → the units of work among them, sorted."""
    unmapped: tuple[ItemRef, ...]
    """Units of work in the program's projects that no outcome selects, sorted."""
    all_selected: frozenset[ItemRef] = frozenset()
    """Every item any outcome selected."""

    def outcomes_of(self) -> dict[ItemRef, tuple[str, ...]]:
        """Item → the outcomes it feeds (an item may feed several)."""
        found: dict[ItemRef, tuple[str, ...]] = {}
        for key, refs in self.selected.items():
            alone = (key,)
            for ref in refs:
                before = found.get(ref)
                found[ref] = alone if before is None else (*before, key)
        return found


def select_outcome(outcome: Outcome, index: ItemIndex) -> frozenset[ItemRef]:
    """Every item any of the outcome's selectors chooses."""
    chosen: set[ItemRef] = set()
    for selector in outcome.selectors:
        chosen |= index.select(selector)
    return frozenset(chosen)


def assign(program: Program, index: ItemIndex) -> Assignment:
    """Map a program's items to its outcomes and list the work that falls between them.

    A program's territory is every project its selectors name or its selected items sit
    in; work there that no outcome selects is ``unmapped``.
    """
    selected = {o.key: select_outcome(o, index) for o in program.outcomes}
    units = {key: tuple(index.units(refs)) for key, refs in selected.items()}
    territory = {(s.source, p) for o in program.outcomes for s in o.selectors for p in s.projects}
    everything = frozenset().union(*selected.values()) if selected else frozenset()
    for ref in everything:
        item = index.items[ref]
        if item.project:
            territory.add((item.source, item.project))
        if item.projects:
            territory.update((item.source, p) for p in item.projects)
    around = index.in_projects(territory)
    unmapped = tuple(index.units(around - everything, within=around | everything))
    return Assignment(selected=selected, units=units, unmapped=unmapped, all_selected=everything)
