"""The dependency graph: edges across projects and trackers, cycles, and chains of
remaining work.

One graph is built over every known item and shared by all programs. Remaining work
(items not done) is condensed once into a DAG of groups — a dependency cycle becomes one
group whose members must all be done — so each outcome's chains are an ancestor walk.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import networkx as nx

from rollup.chains import ChainWork
from rollup.figures import day, item_name
from rollup.mapping import ItemIndex
from rollup.model import Dependency, ItemRef, WorkItem
from vocabulary import StatusCategory


@dataclass(frozen=True, slots=True)
class Edge:
    before: ItemRef
    after: ItemRef
    cross_project: bool
    cross_tracker: bool


@dataclass(frozen=True, slots=True)
class GroupEdge:
    """Dependencies rolled up between two epics, outcomes or projects."""

    before: str
    after: str
    count: int
    late: int


class DependencyGraph:
    """Every dependency between known items, deduplicated; read-only once built."""

    def __init__(self, dependencies: Iterable[Dependency], index: ItemIndex) -> None:
        self.index = index
        known: set[tuple[ItemRef, ItemRef]] = set()
        dangling: dict[tuple[ItemRef, ItemRef], Dependency] = {}
        for dep in dependencies:
            pair = (dep.before, dep.after)
            if dep.before in index.items and dep.after in index.items:
                known.add(pair)
            else:
                dangling.setdefault(pair, dep)
        # Sorted, so the graph (and every tie it breaks) is the same however rows arrive.
        pairs = sorted(known)
        self._edges_of: dict[ItemRef, list[Edge]] = {}
        for a, b in pairs:
            edge = self.edge(a, b)
            self._edges_of.setdefault(a, []).append(edge)
            self._edges_of.setdefault(b, []).append(edge)
        self._waiting = frozenset(b for a, b in pairs if not index.items[a].done)
        self.dangling = tuple(dangling[p] for p in sorted(dangling))
        # Only the part of the graph that can hold cycles goes through networkx.
        core_items = _cyclic_core(pairs)
        self._core = nx.DiGraph((a, b) for a, b in pairs if a in core_items and b in core_items)
        knots = [c for c in nx.strongly_connected_components(self._core) if self._is_knot(c)]
        self._knots = tuple(sorted(self._cycle_through(k) for k in knots))
        self._condense_remaining(pairs, knots)

    def _is_knot(self, component: set[ItemRef]) -> bool:
        lone = next(iter(component))
        return len(component) > 1 or self._core.has_edge(lone, lone)

    def _cycle_through(self, component: set[ItemRef]) -> tuple[ItemRef, ...]:
        """An actual cycle through a knot, starting at its smallest member."""
        loop = nx.find_cycle(self._core.subgraph(component), source=min(component))
        return tuple(a for a, _ in loop)

    def _condense_remaining(
        self, pairs: list[tuple[ItemRef, ItemRef]], knots: list[set[ItemRef]]
    ) -> None:
        """Group remaining work into a DAG: what is left of a knot becomes one group.

        Remaining work can only be knotted inside a knot of the whole graph, so only
        those few are searched again; every other item is a group of its own.
        """
        items = self.index.items
        components: list[tuple[ItemRef, ...]] = []
        knotted: set[ItemRef] = set()
        for knot in knots:
            left = self._core.subgraph(r for r in knot if not items[r].done)
            for part in nx.strongly_connected_components(left):
                components.append(tuple(sorted(part)))
                knotted |= part
        components += [(r,) for r in self._edges_of if r not in knotted and not items[r].done]
        components.sort()
        first = {ref: i for i, members in enumerate(components) for ref in members}
        preds: list[set[int]] = [set() for _ in components]
        for a, b in pairs:
            if a in first and b in first and first[a] != first[b]:
                preds[first[b]].add(first[a])
        order = _topological(preds)
        position = {g: i for i, g in enumerate(order)}
        self._group_of: dict[ItemRef, int] = {ref: position[g] for ref, g in first.items()}
        self._members: list[tuple[ItemRef, ...]] = [components[g] for g in order]
        self._preds: list[tuple[int, ...]] = [
            tuple(sorted(position[p] for p in preds[g])) for g in order
        ]

    def edge(self, before: ItemRef, after: ItemRef) -> Edge:
        a, b = self.index.items[before], self.index.items[after]
        return Edge(
            before,
            after,
            cross_project=(a.source, a.project) != (b.source, b.project),
            cross_tracker=a.source != b.source,
        )

    def edges_touching(self, refs: Iterable[ItemRef]) -> list[Edge]:
        """Every edge with at least one end among ``refs``, in a stable order."""
        found: dict[tuple[ItemRef, ItemRef], Edge] = {}
        for ref in refs:
            for edge in self._edges_of.get(ref, ()):
                found[(edge.before, edge.after)] = edge
        return [found[pair] for pair in sorted(found)]

    def waits(self, ref: ItemRef) -> bool:
        """Whether an item has a predecessor that is not done."""
        return ref in self._waiting

    def cycles(self, refs: Iterable[ItemRef] | None = None) -> tuple[tuple[ItemRef, ...], ...]:
        """One cycle for every knot of dependencies (that touches ``refs``)."""
        if refs is None:
            return self._knots
        wanted = set(refs)
        return tuple(k for k in self._knots if wanted.intersection(k))

    def chains(
        self, ends: Iterable[ItemRef], age_of: Callable[[ItemRef], float | None]
    ) -> ChainWork:
        """The remaining work that must happen before each of ``ends``, as ordered groups.

        Only ends that wait on other remaining work (or sit in a cycle) form a chain: work
        that waits on nothing is the team's pace's business, not a chain's.
        """
        end_groups = {
            self._group_of[r]
            for r in ends
            if r in self._group_of
            and (self._preds[self._group_of[r]] or len(self._members[self._group_of[r]]) > 1)
        }
        closure: set[int] = set()
        stack = list(end_groups)
        while stack:
            g = stack.pop()
            if g not in closure:
                closure.add(g)
                stack.extend(self._preds[g])
        ordered = sorted(closure)
        local = {g: i for i, g in enumerate(ordered)}
        members = [self._members[g] for g in ordered]
        return ChainWork(
            groups=tuple(members),
            preds=tuple(tuple(local[p] for p in self._preds[g]) for g in ordered),
            ends=tuple(sorted(local[g] for g in end_groups)),
            ages={r: a for group in members for r in group if (a := age_of(r)) is not None},
        )


def _peel(pairs: Iterable[tuple[ItemRef, ItemRef]]) -> set[ItemRef]:
    """The items left after repeatedly removing those with no predecessor left."""
    waiting: dict[ItemRef, int] = {}
    after: dict[ItemRef, list[ItemRef]] = {}
    for a, b in pairs:
        waiting.setdefault(a, 0)
        waiting[b] = waiting.get(b, 0) + 1
        after.setdefault(a, []).append(b)
    free = [n for n, count in waiting.items() if count == 0]
    while free:
        node = free.pop()
        del waiting[node]
        for b in after.get(node, ()):
            waiting[b] -= 1
            if waiting[b] == 0:
                free.append(b)
    return set(waiting)


def _cyclic_core(pairs: list[tuple[ItemRef, ItemRef]]) -> set[ItemRef]:
    """Every item on a cycle, plus few others: peeled from the front, then the back.

    Searching for knots of cycles in this core instead of the whole graph costs a
    fraction of the time, since real dependency graphs are almost acyclic.
    """
    front = _peel(pairs)
    inner = [(a, b) for a, b in pairs if a in front and b in front]
    back = _peel((b, a) for a, b in inner)
    return back


def _topological(preds: list[set[int]]) -> list[int]:
    """Kahn's order of a DAG given each node's predecessors; ties go to the lower index."""
    waiting = [len(p) for p in preds]
    successors: list[list[int]] = [[] for _ in preds]
    for node, before in enumerate(preds):
        for p in before:
            successors[p].append(node)
    ready = [n for n, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for s in successors[node]:
            waiting[s] -= 1
            if waiting[s] == 0:
                heapq.heappush(ready, s)
    return order


def roll_up(
    edges: Sequence[Edge], group_of: Callable[[ItemRef], Iterable[str]], late: Sequence[bool]
) -> tuple[GroupEdge, ...]:
    """Dependencies between groups (epics, outcomes, projects); edges inside a group drop.

    ``late[i]`` says whether ``edges[i]`` is late.
    """
    counts: dict[tuple[str, str], list[int]] = {}
    for edge, is_late in zip(edges, late, strict=True):
        for a in group_of(edge.before):
            for b in group_of(edge.after):
                if a != b:
                    tally = counts.setdefault((a, b), [0, 0])
                    tally[0] += 1
                    tally[1] += is_late
    return tuple(GroupEdge(a, b, n, k) for (a, b), (n, k) in sorted(counts.items()))


class LateReason(StrEnum):
    DUE_AFTER_NEEDED = "due_after_needed"
    FORECAST_AFTER_NEEDED = "forecast_after_needed"
    NOT_STARTED = "not_started"


@dataclass(frozen=True, slots=True)
class LateDependency:
    edge: Edge
    reason: LateReason
    detail: str
    needed_on: date | None = None
    expected_on: date | None = None


def late_dependencies(
    edges: Iterable[Edge],
    index: ItemIndex,
    *,
    needed_by: Callable[[ItemRef], date | None],
    expected: Mapping[ItemRef, date],
) -> tuple[LateDependency, ...]:
    """Dependencies whose unfinished predecessor threatens its successor.

    Late means: the predecessor is due, or forecast (``expected``), after the date the
    successor needs it (``needed_by``: its start date if it has not started, else its due
    date, else its outcome's target); or it has not started while its successor has.
    """
    found = []
    for edge in edges:
        before, after = index.items[edge.before], index.items[edge.after]
        if before.done or after.done:
            continue
        needed = needed_by(edge.after)
        forecast = expected.get(edge.before)
        if needed is not None and before.due_on is not None and before.due_on > needed:
            found.append(
                LateDependency(
                    edge,
                    LateReason.DUE_AFTER_NEEDED,
                    f"{_named(before)} is due {day(before.due_on)}, after {_named(after)} "
                    f"needs it ({day(needed)})",
                    needed,
                    before.due_on,
                )
            )
        elif needed is not None and forecast is not None and forecast > needed:
            found.append(
                LateDependency(
                    edge,
                    LateReason.FORECAST_AFTER_NEEDED,
                    f"{_named(before)} is forecast to finish {day(forecast)}, after "
                    f"{_named(after)} needs it ({day(needed)})",
                    needed,
                    forecast,
                )
            )
        elif (
            before.status_category is StatusCategory.TODO
            and after.status_category is StatusCategory.IN_PROGRESS
        ):
            found.append(
                LateDependency(
                    edge,
                    LateReason.NOT_STARTED,
                    f"{_named(before)} has not started, but {_named(after)} is already in progress",
                    needed,
                    forecast,
                )
            )
    return tuple(found)


def _named(item: WorkItem) -> str:
    return item_name(item.key, item.title)
